"""/submit: a reading without registration — verify, type, confirm, receipt."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from litestar import Request, get, post
from litestar.response import Template

from pokaznyk_core.domain.accounts import MAX_ACCOUNT_ENTRY_LENGTH, MAX_SURNAME_LENGTH
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customer_readings import AccountMeters, load_account_meters
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.services.evidence import attach_photo
from pokaznyk_core.services.verification import verify_holder
from pokaznyk_dashboard.auth.customer import client_key
from pokaznyk_dashboard.auth.tokens import (
    sign_account,
    sign_reading,
    verified_account,
    verified_reading,
)
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
from pokaznyk_dashboard.web import ContextDep, WebDep, page

URLS = {
    "check": "/submit/check",
    "confirm": "/submit/confirm",
    "send": "/submit/send",
    "photo": "/submit/photo",
    "restart": "/submit",
    "lookup": "/submit/receipt",
}


def _start(
    request: Request[Any, Any, Any],
    context: ContextDep,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "public/start.html",
        {"window": current_window(context), "refusal": refusal, "values": values or {}},
    )


async def _account(
    data: dict[str, str], web: WebDep, context: ServiceContext
) -> AccountMeters | None:
    account_id = verified_account(web.secret, data.get("token", ""), context.now())
    if account_id is None:
        return None
    return await load_account_meters(context, account_id)


def _expired(request: Request[Any, Any, Any], context: ContextDep) -> Template:
    return _start(request, context, refusal=Refusal("web.form.expired"))


def _common(
    account: AccountMeters, data: dict[str, str], context: ServiceContext
) -> dict[str, Any]:
    return {
        "account": account,
        "urls": URLS,
        "hidden": {"token": data.get("token", "")},
        "window": current_window(context),
        "today": context.today(),
        "area": "public",
    }


@get("/submit", operation_id="submit_start", include_in_schema=False)
async def submit_start(request: Request[Any, Any, Any], context: ContextDep) -> Template:
    """The first step: account number (or EIC) and the holder's surname."""
    return _start(request, context)


@post("/submit", operation_id="submit_verify", status_code=200, include_in_schema=False)
async def submit_verify(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """Verify the holder (limits per client address and per account), then the meters."""
    data = dict(await request.form())
    outcome = await verify_holder(
        context,
        user_key=client_key(request),
        account_or_eic=str(data.get("account", "")),
        surname=str(data.get("surname", "")),
    )
    account = await load_account_meters(context, outcome.account_id) if outcome.account_id else None
    if not outcome.verified or account is None:
        refusal = Refusal("verification.failed")
        if outcome.problem is not None:
            refusal = Refusal.of(outcome.problem)
        params = {**refusal.params, "attempts_left": outcome.attempts_left or 0}
        values = {
            "account": str(data.get("account", ""))[:MAX_ACCOUNT_ENTRY_LENGTH],
            "surname": str(data.get("surname", ""))[:MAX_SURNAME_LENGTH],
        }
        return _start(request, context, refusal=Refusal(refusal.key, params), values=values)
    token = sign_account(web.secret, account.account_id, context.now())
    return page(
        request,
        "public/readings.html",
        {**_common(account, {"token": token}, context), "form": blank_form(account)},
    )


@post("/submit/check", operation_id="submit_check", status_code=200, include_in_schema=False)
async def submit_check(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """The instant check of one field as it is typed (an htmx fragment)."""
    data = {k: str(v) for k, v in (await request.form()).items()}
    account = await _account(data, web, context)
    if account is None:
        return page(request, "readings/_field_error.html", {"message_key": "web.form.expired"})
    checked = check_one_field(account, data, context.today(), context.limits)
    problem = checked[1] if checked else None
    return page(request, "readings/_field_error.html", {"field_problem": problem})


@post("/submit/confirm", operation_id="submit_confirm", status_code=200, include_in_schema=False)
async def submit_confirm(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """Check every field again; show the errors, or the values to confirm."""
    data = {k: str(v) for k, v in (await request.form()).items()}
    account = await _account(data, web, context)
    if account is None:
        return _expired(request, context)
    form = read_form(account, data, context.today(), context.limits)
    common = _common(account, data, context)
    if not form.ok or data.get("edit"):
        return page(request, "public/readings.html", {**common, "form": form})
    ids = {m.meter.meter_id: uuid4() for m in form.to_submit}
    return page(request, "readings/confirm.html", {**common, "form": form, "ids": ids})


@post("/submit/send", operation_id="submit_send", status_code=200, include_in_schema=False)
async def submit_send(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """Store the confirmed readings (once, whatever the retries) and show the receipt."""
    data = {k: str(v) for k, v in (await request.form()).items()}
    account = await _account(data, web, context)
    if account is None:
        return _expired(request, context)
    form = read_form(account, data, context.today(), context.limits)
    ids = reading_ids(form, data)
    common = _common(account, data, context)
    if not form.ok or ids is None:
        return page(request, "public/readings.html", {**common, "form": form})
    stored = await store_readings(
        context, form, ids, channel=Channel.WEB_FORM, submitted_by=client_key(request)
    )

    def token_of(reading_id: UUID) -> dict[str, str]:
        return {"token": sign_reading(web.secret, reading_id, context.now())}

    photos = await photo_slots(stored, token_of)
    return page(request, "readings/receipt.html", {**common, "stored": stored, "photos": photos})


@post(
    "/submit/photo",
    operation_id="submit_photo",
    status_code=200,
    include_in_schema=False,
    request_max_body_size=PHOTO_REQUEST_MAX_BYTES,
    exception_handlers=PHOTO_EXCEPTION_HANDLERS,
)
async def submit_photo(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """Attach a photo of the meter to the flagged reading the receipt's token names, and
    show the receipt again with the photo's outcome next to the field."""
    posted = await read_posted_photo(request)
    token = posted.fields.get("token", "")
    reading_id = verified_reading(web.secret, token, context.now())
    if reading_id is None:
        return _expired(request, context)
    refusal = await attach_photo(
        context,
        reading_id,
        content=posted.content,
        content_type=posted.content_type,
        source=client_key(request),
    )
    again = await receipt_again(context, reading_id)
    if again is None:
        return _expired(request, context)
    account, stored, count = again
    slot = PhotoSlot(reading_id, {"token": token}, count, refusal, attached=refusal is None)
    return page(
        request,
        "readings/receipt.html",
        {**_common(account, {}, context), "stored": [stored], "photos": {reading_id: slot}},
    )
