"""Submitting a reading from the cabinet: the same form, checks and receipt as /submit,
for an account the customer linked."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customer_readings import AccountMeters, load_account_meters
from pokaznyk_core.services.evidence import attach_photo
from pokaznyk_dashboard.auth.customer import CustomerDep
from pokaznyk_dashboard.cabinet.pages import owned
from pokaznyk_dashboard.public.flow import current_window, store_readings
from pokaznyk_dashboard.public.form import blank_form, check_one_field, read_form, reading_ids
from pokaznyk_dashboard.public.photo import (
    PHOTO_EXCEPTION_HANDLERS,
    PHOTO_REQUEST_MAX_BYTES,
    PhotoSlot,
    photo_slots,
    read_posted_photo,
    receipt_again,
)
from pokaznyk_dashboard.web import ContextDep, page


async def _account(context: ServiceContext, customer: int, number: str) -> AccountMeters:
    summary = await owned(customer, number)
    account = await load_account_meters(context, summary.account_id)
    if account is None:
        raise NotFoundException()
    return account


def _common(account: AccountMeters, context: ContextDep) -> dict[str, Any]:
    base = f"/cabinet/accounts/{account.number}"
    return {
        "account": account,
        "urls": {
            "check": f"{base}/submit/check",
            "confirm": f"{base}/submit/confirm",
            "send": f"{base}/submit/send",
            "photo": f"{base}/submit/photo",
            "restart": base,
        },
        "hidden": {},
        "window": current_window(context),
        "today": context.today(),
        "area": "cabinet",
    }


async def _data(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@get("/accounts/{number:str}/submit", operation_id="cabinet_submit_form", include_in_schema=False)
async def submit_form(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """The reading form of one of the customer's accounts."""
    account = await _account(context, customer, number)
    return page(
        request, "cabinet/submit.html", {**_common(account, context), "form": blank_form(account)}
    )


@post(
    "/accounts/{number:str}/submit/check",
    operation_id="cabinet_submit_check",
    status_code=200,
    include_in_schema=False,
)
async def submit_check(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """The instant check of one field (an htmx fragment)."""
    account = await _account(context, customer, number)
    checked = check_one_field(account, await _data(request), context.today(), context.limits)
    return page(
        request, "readings/_field_error.html", {"field_problem": checked[1] if checked else None}
    )


@post(
    "/accounts/{number:str}/submit/confirm",
    operation_id="cabinet_submit_confirm",
    status_code=200,
    include_in_schema=False,
)
async def submit_confirm(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """Check everything again; the errors, or the values to confirm."""
    account = await _account(context, customer, number)
    data = await _data(request)
    form = read_form(account, data, context.today(), context.limits)
    common = _common(account, context)
    if not form.ok or data.get("edit"):
        return page(request, "cabinet/submit.html", {**common, "form": form})
    ids = {m.meter.meter_id: uuid4() for m in form.to_submit}
    return page(request, "readings/confirm.html", {**common, "form": form, "ids": ids})


@post(
    "/accounts/{number:str}/submit/send",
    operation_id="cabinet_submit_send",
    status_code=200,
    include_in_schema=False,
)
async def submit_send(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """Store the confirmed readings once and show the receipt."""
    account = await _account(context, customer, number)
    data = await _data(request)
    form = read_form(account, data, context.today(), context.limits)
    ids = reading_ids(form, data)
    common = _common(account, context)
    if not form.ok or ids is None:
        return page(request, "cabinet/submit.html", {**common, "form": form})
    stored = await store_readings(
        context, form, ids, channel=Channel.CABINET, submitted_by=f"customer:{customer}"
    )
    photos = await photo_slots(stored, _photo_hidden)
    return page(request, "readings/receipt.html", {**common, "stored": stored, "photos": photos})


def _photo_hidden(reading_id: UUID) -> dict[str, str]:
    return {"reading": str(reading_id)}


@post(
    "/accounts/{number:str}/submit/photo",
    operation_id="cabinet_submit_photo",
    status_code=200,
    include_in_schema=False,
    request_max_body_size=PHOTO_REQUEST_MAX_BYTES,
    exception_handlers=PHOTO_EXCEPTION_HANDLERS,
)
async def submit_photo(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """Attach a photo of the meter to a flagged reading of this account (404 for a reading
    that is not the account's) and show its receipt again with the outcome."""
    posted = await read_posted_photo(request)
    account = await _account(context, customer, number)
    try:
        reading_id = UUID(posted.fields.get("reading", ""))
    except ValueError:
        raise NotFoundException() from None
    before = await receipt_again(context, reading_id)
    if before is None or before[0].account_id != account.account_id:
        raise NotFoundException()
    refusal = await attach_photo(
        context,
        reading_id,
        content=posted.content,
        content_type=posted.content_type,
        source=f"customer:{customer}",
        customer_id=customer,
    )
    _, stored, count = before
    slot = PhotoSlot(
        reading_id,
        _photo_hidden(reading_id),
        count + (refusal is None),
        refusal,
        attached=refusal is None,
    )
    return page(
        request,
        "readings/receipt.html",
        {**_common(account, context), "stored": [stored], "photos": {reading_id: slot}},
    )


READING_ROUTES = [submit_form, submit_check, submit_confirm, submit_send, submit_photo]
