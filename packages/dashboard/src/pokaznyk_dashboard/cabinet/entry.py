"""Getting into the cabinet: registration, sign-in (password or one-time link), sign-out."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pokaznyk_core.domain.accounts import MAX_ACCOUNT_ENTRY_LENGTH, MAX_SURNAME_LENGTH
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import (
    Refusal,
    issue_sign_in_link,
    redeem_sign_in_link,
    register_customer,
    sign_in,
)
from pokaznyk_dashboard.auth.customer import client_key, end_session, start_session
from pokaznyk_dashboard.web import ContextDep, WebDep, page

log = logging.getLogger("pokaznyk.cabinet")


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


def typed_holder(data: dict[str, str]) -> dict[str, str]:
    """The account, surname and phone as typed, to fill the form again (no longer than
    the fields take)."""
    return {
        "account": data.get("account", "")[:MAX_ACCOUNT_ENTRY_LENGTH],
        "surname": data.get("surname", "")[:MAX_SURNAME_LENGTH],
        "phone": data.get("phone", ""),
    }


def _log_link(
    request: Request[Any, Any, Any], context: ServiceContext, phone: str, token: str
) -> None:
    base = (context.settings.public_url or str(request.base_url)).rstrip("/")
    log.warning("demo: one-time sign-in link for %s: %s/cabinet/link/%s", phone, base, token)


def _sign_in_page(
    request: Request[Any, Any, Any],
    web: WebDep,
    *,
    refusal: Refusal | None = None,
    phone: str = "",
    link_sent: bool = False,
    status_code: int = 200,
) -> Template:
    context = {"refusal": refusal, "phone": phone, "link_sent": link_sent, "demo": web.demo}
    return page(
        request, "cabinet/sign_in.html", {"area": "cabinet", **context}, status_code=status_code
    )


@get("/sign-in", operation_id="cabinet_sign_in_page", include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], web: WebDep) -> Template:
    """The sign-in form (phone and password, or a one-time link in demo mode)."""
    return _sign_in_page(request, web)


@post("/sign-in", operation_id="cabinet_sign_in", status_code=200, include_in_schema=False)
async def sign_in_submit(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template | Redirect:
    """Check the phone and password (limited per client address) and open a session."""
    data = await _form(request)
    outcome = await sign_in(
        context,
        user_key=client_key(request),
        phone=data.get("phone", ""),
        password=data.get("password", ""),
    )
    if isinstance(outcome, Refusal):
        return _sign_in_page(request, web, refusal=outcome, phone=data.get("phone", ""))
    start_session(request, outcome)
    return Redirect(path="/cabinet", status_code=303)


@post(
    "/sign-in-link", operation_id="cabinet_sign_in_link", status_code=200, include_in_schema=False
)
async def sign_in_link(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template:
    """Issue a one-time link (demo mode: printed to the log); the answer never says
    whether the phone is registered."""
    data = await _form(request)
    phone = data.get("phone", "")
    if web.demo:
        token = await issue_sign_in_link(context, phone)
        if token is not None:
            _log_link(request, context, phone, token)
    return _sign_in_page(request, web, phone=phone, link_sent=web.demo)


@get("/link/{token:str}", operation_id="cabinet_link_page", include_in_schema=False)
async def link_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    """A one-time link asks for a click first, so a link preview cannot use it up."""
    return page(request, "cabinet/link.html", {"area": "cabinet", "token": token})


@post(
    "/link/{token:str}",
    operation_id="cabinet_link_redeem",
    status_code=200,
    include_in_schema=False,
)
async def link_redeem(
    request: Request[Any, Any, Any], context: ContextDep, token: FromPath[str]
) -> Template | Redirect:
    """Sign in with an unused, unexpired one-time link."""
    customer_id = await redeem_sign_in_link(context, token)
    if customer_id is None:
        return page(
            request, "cabinet/link.html", {"area": "cabinet", "invalid": True}, status_code=400
        )
    start_session(request, customer_id)
    return Redirect(path="/cabinet", status_code=303)


@get("/register", operation_id="cabinet_register_page", include_in_schema=False)
async def register_page(request: Request[Any, Any, Any], web: WebDep) -> Template:
    """The registration form."""
    return page(
        request, "cabinet/register.html", {"area": "cabinet", "demo": web.demo, "values": {}}
    )


@post("/register", operation_id="cabinet_register", status_code=200, include_in_schema=False)
async def register_submit(
    request: Request[Any, Any, Any], context: ContextDep, web: WebDep
) -> Template | Redirect:
    """Register with an account number, the holder's surname and a phone on the account."""
    data = await _form(request)
    outcome = await register_customer(
        context,
        user_key=client_key(request),
        account_number=data.get("account", ""),
        surname=data.get("surname", ""),
        phone=data.get("phone", ""),
        password=data.get("password", ""),
    )
    if isinstance(outcome, Refusal):
        return page(
            request,
            "cabinet/register.html",
            {
                "area": "cabinet",
                "demo": web.demo,
                "refusal": outcome,
                "values": typed_holder(data),
            },
        )
    if outcome.sign_in_token is not None:
        _log_link(request, context, data.get("phone", ""), outcome.sign_in_token)
        return page(
            request, "cabinet/register.html", {"area": "cabinet", "link_sent": True, "values": {}}
        )
    start_session(request, outcome.customer_id)
    return Redirect(path="/cabinet", status_code=303)


@post("/sign-out", operation_id="cabinet_sign_out", status_code=200, include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    """End the session."""
    end_session(request)
    return Redirect(path="/cabinet/sign-in", status_code=303)


ENTRY_ROUTES = [
    sign_in_page,
    sign_in_submit,
    sign_in_link,
    link_page,
    link_redeem,
    register_page,
    register_submit,
    sign_out,
]
