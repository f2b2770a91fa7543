"""/submit/receipt: the status of a reading by its receipt number, for anyone who has one.

A receipt number is no proof of identity: the page tells only what the chat tells of a
receipt (and the channel), never the account's data, and numbers that find nothing are
limited per client address (`services.receipt_lookup`).

The lookup is a POST with the CSRF token, like every other form of /submit: it writes (a
number that finds nothing counts against the address), and the number stays out of
addresses, browser histories, server logs and Referer headers. With htmx the answer
replaces only the answer's region under the field (and the field, out of band, with the
number as read back); without JavaScript the same form answers with the whole page.
"""

from __future__ import annotations

import math
from datetime import timedelta

from litestar import get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from pokaznyk_core.domain.receipts import MAX_RECEIPT_ENTRY_LENGTH, RECEIPT_LENGTH
from pokaznyk_core.services.receipt_lookup import ReceiptLookup, look_up_receipt
from pokaznyk_dashboard.auth.customer import client_key
from pokaznyk_dashboard.public.flow import current_window
from pokaznyk_dashboard.web import ContextDep, page

LOOKUP_URL = "/submit/receipt"


def _answer(
    request: HTMXRequest,
    context: ContextDep,
    *,
    lookup: ReceiptLookup | None = None,
    typed: str = "",
) -> Template:
    """The page (or, for htmx, the answer's fragment). A paused lookup is a 429 with
    Retry-After for a browser without JavaScript and for scripts; htmx swaps only 2xx
    answers, so it gets the same words with a 200."""
    wait = lookup.retry_after if lookup is not None and not lookup.not_found else None
    status_code, headers = 200, {}
    if wait is not None and not request.htmx:
        status_code = 429
        headers = {"Retry-After": str(math.ceil(wait / timedelta(seconds=1)))}
    shown = lookup.code if lookup is not None and lookup.code else typed
    return page(
        request,
        "public/_receipt_answer.html" if request.htmx else "public/receipt.html",
        {
            "lookup": lookup,
            "typed": shown[:MAX_RECEIPT_ENTRY_LENGTH],
            "url": LOOKUP_URL,
            "window": current_window(context),
            "receipt_length": RECEIPT_LENGTH,
            "max_receipt_entry": MAX_RECEIPT_ENTRY_LENGTH,
            "lang_path": LOOKUP_URL,
        },
        status_code=status_code,
        headers=headers,
    )


@get(LOOKUP_URL, operation_id="submit_receipt", include_in_schema=False)
async def submit_receipt(request: HTMXRequest, context: ContextDep) -> Template:
    """The receipt number's field."""
    return _answer(request, context)


@post(LOOKUP_URL, operation_id="submit_receipt_lookup", status_code=200, include_in_schema=False)
async def submit_receipt_lookup(request: HTMXRequest, context: ContextDep) -> Template:
    """The status of the reading with the number typed, within the address's limit."""
    typed = str((await request.form()).get("receipt", ""))
    lookup = await look_up_receipt(context, client=client_key(request), text=typed)
    return _answer(request, context, lookup=lookup, typed=typed)
