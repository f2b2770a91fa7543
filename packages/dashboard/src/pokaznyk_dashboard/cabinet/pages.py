"""The signed-in customer's pages: accounts, one account, linking, password, reminders.

Every account page checks that the customer linked the account; anyone else's account
is answered 404, the same as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from pokaznyk_core.services.bills import account_bills
from pokaznyk_core.services.customer_readings import (
    load_account_meters,
    monthly_consumption,
    reading_history,
)
from pokaznyk_core.services.customer_settings import (
    change_password,
    customer_profile,
    set_reminders,
)
from pokaznyk_core.services.customers import (
    AccountSummary,
    Refusal,
    customer_accounts,
    link_account,
    owned_account,
)
from pokaznyk_dashboard.auth.customer import CustomerDep, SignInRequired, client_key
from pokaznyk_dashboard.cabinet.chart import build_chart
from pokaznyk_dashboard.cabinet.entry import typed_holder
from pokaznyk_dashboard.public.flow import current_window
from pokaznyk_dashboard.web import ContextDep, page, request_locale


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


async def owned(customer: int, number: str) -> AccountSummary:
    """The customer's account with this number, or 404."""
    account = await owned_account(customer, number)
    if account is None:
        raise NotFoundException()
    return account


async def _home(
    request: Request[Any, Any, Any], customer: CustomerDep, notice: str | None = None, **params: Any
) -> Template:
    profile = await customer_profile(customer)
    if profile is None:
        raise SignInRequired()
    accounts = await customer_accounts(customer)
    return page(
        request,
        "cabinet/home.html",
        {
            "area": "cabinet",
            "profile": profile,
            "accounts": accounts,
            "notice": notice,
            "params": params,
        },
    )


@get("/", operation_id="cabinet_home", include_in_schema=False)
async def home(request: Request[Any, Any, Any], customer: CustomerDep) -> Template:
    """The customer's accounts, reminders and settings."""
    return await _home(request, customer)


@get("/link-account", operation_id="cabinet_link_account_page", include_in_schema=False)
async def link_account_page(request: Request[Any, Any, Any], customer: CustomerDep) -> Template:
    """The form to link one more account."""
    return page(request, "cabinet/link_account.html", {"area": "cabinet", "values": {}})


@post(
    "/link-account", operation_id="cabinet_link_account", status_code=200, include_in_schema=False
)
async def link_account_submit(
    request: Request[Any, Any, Any], context: ContextDep, customer: CustomerDep
) -> Template:
    """Link an account verified by number, surname and a phone on it."""
    data = await _form(request)
    outcome = await link_account(
        context,
        customer,
        user_key=client_key(request),
        account_number=data.get("account", ""),
        surname=data.get("surname", ""),
        phone=data.get("phone", ""),
    )
    if isinstance(outcome, Refusal):
        return page(
            request,
            "cabinet/link_account.html",
            {"area": "cabinet", "refusal": outcome, "values": typed_holder(data)},
        )
    return await _home(request, customer, "web.cabinet.linked", number=outcome.number)


@get("/password", operation_id="cabinet_password_page", include_in_schema=False)
async def password_page(request: Request[Any, Any, Any], customer: CustomerDep) -> Template:
    """The password change form."""
    profile = await customer_profile(customer)
    return page(request, "cabinet/password.html", {"area": "cabinet", "profile": profile})


@post("/password", operation_id="cabinet_password", status_code=200, include_in_schema=False)
async def password_submit(
    request: Request[Any, Any, Any], context: ContextDep, customer: CustomerDep
) -> Template:
    """Change the password (the current one is asked for when there is one)."""
    data = await _form(request)
    refusal = await change_password(
        context, customer, current=data.get("current", ""), new=data.get("new", "")
    )
    if refusal is not None:
        profile = await customer_profile(customer)
        return page(
            request,
            "cabinet/password.html",
            {"area": "cabinet", "profile": profile, "refusal": refusal},
        )
    return await _home(request, customer, "web.cabinet.password.changed")


@post("/reminders", operation_id="cabinet_reminders", status_code=200, include_in_schema=False)
async def reminders_submit(
    request: Request[Any, Any, Any], context: ContextDep, customer: CustomerDep
) -> Template:
    """Choose reminders by Telegram, Viber or none."""
    data = await _form(request)
    refusal = await set_reminders(context, customer, data.get("reminders", ""))
    if refusal is not None:
        return await _home(request, customer, refusal.key)
    return await _home(request, customer, "web.cabinet.reminders.saved")


@get("/accounts/{number:str}", operation_id="cabinet_account", include_in_schema=False)
async def account_page(
    request: Request[Any, Any, Any],
    context: ContextDep,
    customer: CustomerDep,
    number: FromPath[str],
) -> Template:
    """One account: meters and zones, history, consumption by month, bills."""
    account = await owned(customer, number)
    meters = await load_account_meters(context, account.account_id)
    history = await reading_history(account.account_id)
    bills = await account_bills(account.account_id)
    locale = request_locale(request)
    charts = [
        build_chart(m, locale) for m in await monthly_consumption(context, account.account_id)
    ]
    return page(
        request,
        "cabinet/account.html",
        {
            "area": "cabinet",
            "account": account,
            "meters": meters.meters if meters else (),
            "history": history,
            "bills": bills,
            "charts": charts,
            "window": current_window(context),
        },
    )


PAGE_ROUTES = [
    home,
    link_account_page,
    link_account_submit,
    password_page,
    password_submit,
    reminders_submit,
    account_page,
]
