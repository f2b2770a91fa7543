"""The customer's online account at /cabinet, through the real app on both engines."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from tests.dashboard.public.conftest import Visitor, unescape

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import Customer, Reading
from pokaznyk_core.testing import MeterFixture, make_meter_fixture

T = Zone.TOTAL
PASSWORD = "long enough secret"
_phones = iter(range(1000000, 9999999))


def new_phone() -> str:
    return f"+38067{next(_phones)}"


async def customer_with_account(
    context: ServiceContext, **kwargs: object
) -> tuple[MeterFixture, str]:
    phone = new_phone()
    meter = await make_meter_fixture(
        context, phones=(phone,), initial={T: Decimal("100.0")}, **kwargs
    )  # type: ignore[arg-type]
    return meter, phone


async def register(
    visitor: Visitor, meter: MeterFixture, phone: str, password: str = PASSWORD
) -> str:
    response = await visitor.post(
        "/cabinet/register",
        {
            "account": meter.account_number,
            "surname": meter.surname,
            "phone": phone,
            "password": password,
        },
    )
    return unescape(response.text) if response.status_code == 200 else response.headers["location"]


async def test_an_anonymous_visitor_is_sent_to_sign_in(visitor: Visitor) -> None:
    response = await visitor.get("/cabinet")
    assert response.status_code == 303 and response.headers["location"] == "/cabinet/sign-in"
    page = await visitor.get("/cabinet/sign-in")
    assert 'name="_csrf_token"' in page.text


async def test_registration_with_a_phone_that_is_not_on_the_account_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, _ = await customer_with_account(context)
    stranger = new_phone()
    page = await register(visitor, meter, stranger)
    assert translate("verification.failed", "uk") in page
    digits = stranger.lstrip("+")
    assert not await Customer.exists().where(Customer.phone_digits == digits)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12345", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
        ("62Z554330313580X", Problem(Code.EIC_CHECK_CHARACTER)),
        ("1" * 41, Problem(Code.ACCOUNT_ENTRY_TOO_LONG, {"max": 40})),
    ],
    ids=["short number", "eic check character", "too long"],
)
async def test_registration_with_a_malformed_account_is_told_its_format_and_costs_no_attempt(
    visitor: Visitor, context: ServiceContext, typed: str, problem: Problem
) -> None:
    meter, phone = await customer_with_account(context)
    for _ in range(5):
        page = await visitor.post(
            "/cabinet/register",
            {"account": typed, "surname": meter.surname, "phone": phone, "password": PASSWORD},
        )
        text = unescape(page.text)
        assert render(problem, "uk") in text
        assert translate("verification.failed", "uk") not in text
    assert await register(visitor, meter, phone) == "/cabinet"


async def test_registration_with_an_overlong_surname_is_refused_and_not_echoed(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    page = await visitor.post(
        "/cabinet/register",
        {
            "account": meter.account_number,
            "surname": "Ш" * 1_000_000,
            "phone": phone,
            "password": PASSWORD,
        },
    )
    assert render(Problem(Code.SURNAME_TOO_LONG, {"max": 100}), "uk") in unescape(page.text)
    assert len(page.content) < 100_000
    assert await register(visitor, meter, phone) == "/cabinet"


async def test_a_short_password_is_refused_next_to_its_field(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    page = await register(visitor, meter, phone, password="short")
    match = re.search(r'id="password-error"[^>]*>(.*?)</p>', page, re.S)
    assert match and "щонайменше 10" in match.group(1)


async def test_a_registered_customer_sees_their_account_and_signs_out_and_in(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    assert await register(visitor, meter, phone) == "/cabinet"
    home = await visitor.get("/cabinet")
    assert home.status_code == 200 and meter.account_number in home.text
    session = visitor.client.cookies.get("pokaznyk_session")
    assert session
    out = await visitor.post("/cabinet/sign-out", {})
    assert out.status_code == 303
    assert (await visitor.get("/cabinet")).status_code == 303
    wrong = await visitor.post("/cabinet/sign-in", {"phone": phone, "password": "not the password"})
    assert "Неправильний номер телефону або пароль" in unescape(wrong.text)
    planted = "attacker-chosen-session-id"
    visitor.client.cookies.delete("pokaznyk_session")
    visitor.client.cookies.set("pokaznyk_session", planted, domain="testserver.local")
    right = await visitor.post("/cabinet/sign-in", {"phone": phone, "password": PASSWORD})
    assert right.status_code == 303
    assert visitor.client.cookies.get("pokaznyk_session") not in (planted, session)
    assert (await visitor.get("/cabinet")).status_code == 200


async def test_the_session_cookie_is_http_only_and_same_site_lax(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    response = await visitor.post(
        "/cabinet/register",
        {
            "account": meter.account_number,
            "surname": meter.surname,
            "phone": phone,
            "password": PASSWORD,
        },
    )
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("pokaznyk_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


async def test_a_customer_can_never_see_another_customers_account(
    visitor: Visitor, context: ServiceContext
) -> None:
    mine, phone = await customer_with_account(context)
    theirs, _ = await customer_with_account(context)
    await register(visitor, mine, phone)
    base = f"/cabinet/accounts/{theirs.account_number}"
    assert (await visitor.get(base)).status_code == 404
    assert (await visitor.get(f"{base}/submit")).status_code == 404
    posted = await visitor.post(f"{base}/submit/confirm", {f"m{theirs.meter_id}_total": "150"})
    assert posted.status_code == 404
    assert theirs.account_number not in (await visitor.get("/cabinet")).text
    assert (await visitor.get(f"/cabinet/accounts/{mine.account_number}")).status_code == 200


async def test_linking_another_account_needs_a_phone_on_that_account(
    visitor: Visitor, context: ServiceContext
) -> None:
    mine, phone = await customer_with_account(context)
    other, other_phone = await customer_with_account(context, surname="Шевчук")
    await register(visitor, mine, phone)
    data = {"account": other.account_number, "surname": other.surname}
    refused = await visitor.post("/cabinet/link-account", {**data, "phone": phone})
    assert translate("verification.failed", "uk") in unescape(refused.text)
    linked = await visitor.post("/cabinet/link-account", {**data, "phone": other_phone})
    assert other.account_number in linked.text
    assert (await visitor.get(f"/cabinet/accounts/{other.account_number}")).status_code == 200


async def test_a_reading_from_the_cabinet_is_stored_once_with_its_channel_and_shown_in_history(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    await register(visitor, meter, phone)
    base = f"/cabinet/accounts/{meter.account_number}/submit"
    form = await visitor.get(base)
    assert f'name="m{meter.meter_id}_total"' in form.text
    instant = await visitor.post(
        f"{base}/check",
        {"meter": str(meter.meter_id), "zone": "total", f"m{meter.meter_id}_total": "5"},
    )
    assert "менший за попередній" in unescape(instant.text)
    confirmation = await visitor.post(f"{base}/confirm", {f"m{meter.meter_id}_total": "180,5"})
    rid = re.search(r'name="rid_\d+" value="([^"]+)"', confirmation.text)
    assert rid
    data = {f"m{meter.meter_id}_total": "180.5", f"rid_{meter.meter_id}": rid.group(1)}
    first = await visitor.post(f"{base}/send", data)
    await visitor.post(f"{base}/send", data)
    rows = await Reading.select().where(Reading.meter == meter.meter_id)
    assert len(rows) == 1 and rows[0]["channel"] == "cabinet"
    assert rows[0]["receipt"] in first.text
    account = await visitor.get(f"/cabinet/accounts/{meter.account_number}")
    assert rows[0]["receipt"] in account.text and "кабінет" in account.text


async def test_the_chart_marks_estimated_months_differently_with_a_legend(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context, installed_on=date(2026, 5, 1))
    for value, day in (("200", date(2026, 5, 31)), ("420", date(2026, 8, 1))):
        await submit_reading(
            context,
            ReadingSubmission(
                uuid4(), meter.meter_id, {T: Decimal(value)}, Channel.TELEGRAM, "t", taken_on=day
            ),
        )
    await register(visitor, meter, phone)
    page = unescape((await visitor.get(f"/cabinet/accounts/{meter.account_number}")).text)
    assert "<svg" in page and 'role="img"' in page
    assert 'stroke-dasharray="3 2"' in page  # estimated bars: hatched, dashed outline
    assert translate("web.cabinet.chart.estimated", "uk") in page
    assert translate("web.cabinet.chart.actual", "uk") in page


async def test_reminder_preferences_and_password_change(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    await register(visitor, meter, phone)
    saved = await visitor.post("/cabinet/reminders", {"reminders": "viber"})
    assert translate("web.cabinet.reminders.saved", "uk") in saved.text
    assert 'value="viber" checked' in saved.text
    wrong = await visitor.post(
        "/cabinet/password", {"current": "nope", "new": "another long secret"}
    )
    assert translate("cabinet.current_password_wrong", "uk") in unescape(wrong.text)
    changed = await visitor.post(
        "/cabinet/password", {"current": PASSWORD, "new": "another long secret"}
    )
    assert translate("web.cabinet.password.changed", "uk") in changed.text


async def test_demo_mode_registers_without_a_password_and_signs_in_once_by_a_logged_link(
    demo_visitor: Visitor, context: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    meter, phone = await customer_with_account(context)
    with caplog.at_level(logging.WARNING, logger="pokaznyk.cabinet"):
        page = await register(demo_visitor, meter, phone, password="")
    assert translate("web.cabinet.registered_link", "uk") in page
    link = re.search(r"(/cabinet/link/[A-Za-z0-9_-]+)", caplog.text)
    assert link, caplog.text
    ask = await demo_visitor.get(link.group(1))
    assert ask.status_code == 200 and (await demo_visitor.get("/cabinet")).status_code == 303
    used = await demo_visitor.post(link.group(1), {})
    assert used.status_code == 303 and (await demo_visitor.get("/cabinet")).status_code == 200
    await demo_visitor.post("/cabinet/sign-out", {})
    again = await demo_visitor.post(link.group(1), {})
    assert again.status_code == 400
    assert translate("web.cabinet.link.invalid", "uk") in unescape(again.text)


async def test_sign_in_attempts_are_limited_per_address(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context)
    await register(visitor, meter, phone)
    await visitor.post("/cabinet/sign-out", {})
    for _ in range(5):
        await visitor.post("/cabinet/sign-in", {"phone": phone, "password": "wrong password"})
    right = await visitor.post("/cabinet/sign-in", {"phone": phone, "password": PASSWORD})
    assert right.status_code == 200 and "Забагато невдалих спроб" in unescape(right.text)
