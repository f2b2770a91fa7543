"""The no-registration form at /submit, through the real app on both database engines."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.dashboard.public.conftest import Visitor, field_error, hidden, unescape

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.registry import add_metering_point, install_meter
from pokaznyk_core.storage.tables import Reading
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

T, DAY, NIGHT = Zone.TOTAL, Zone.DAY, Zone.NIGHT


async def verified(visitor: Visitor, meter: MeterFixture, account: str | None = None) -> str:
    """Pass step 1; returns the readings page."""
    page = await visitor.post(
        "/submit", {"account": account or meter.account_number, "surname": meter.surname}
    )
    assert page.status_code == 200
    assert 'name="token"' in page.text, page.text
    return page.text


async def confirm(visitor: Visitor, page: str, values: dict[str, str]) -> str:
    response = await visitor.post("/submit/confirm", {"token": hidden(page, "token"), **values})
    assert response.status_code == 200
    return unescape(response.text)


def send_data(confirm_page: str) -> dict[str, str]:
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm_page)
    return {name: value for name, value in fields if name != "_csrf_token"}


async def test_the_start_page_says_the_window_is_open_and_until_when(visitor: Visitor) -> None:
    page = await visitor.get("/submit")
    assert page.status_code == 200
    assert translate("web.window.open_title", "uk") in page.text
    assert "3 листопада 2026" in page.text
    assert 'name="_csrf_token"' in page.text


async def test_english_switch_is_remembered_in_a_cookie(visitor: Visitor) -> None:
    page = await visitor.get("/submit?lang=en")
    assert translate("web.submit.title", "en") in page.text
    assert visitor.client.cookies.get("lang") == "en"
    again = await visitor.get("/submit")
    assert '<html lang="en">' in again.text


async def test_a_holder_sees_a_labelled_field_per_zone_of_every_meter_with_the_last_reading(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(
        context, zone_count=2, initial={DAY: Decimal("1200.5"), NIGHT: Decimal("300.0")}
    )
    point = await add_metering_point(context, meter.account_id, _another_eic(meter.eic), actor="t")
    second = await install_meter(
        context,
        point,
        serial="SECOND-1",
        digits=6,
        decimals=1,
        zone_count=1,
        installed_on=date(2024, 1, 10),
        initial_values={T: Decimal("77.0")},
        actor="t",
    )
    page = await verified(visitor, meter)
    for name in (f"m{meter.meter_id}_day", f"m{meter.meter_id}_night", f"m{second}_total"):
        assert f'<label for="{name}">' in page
        assert f'aria-describedby="hint-{name} err-{name}"' in page
        assert f'id="err-{name}" aria-live="polite"' in page
    assert "Зона «день»" in page and "Зона «ніч»" in page
    assert "1200,5" in page and "77,0" in page
    assert "SECOND-1" in page


def _another_eic(eic: str) -> str:
    from pokaznyk_core.domain.eic import make_eic

    for body in range(int(eic[3:15]) + 1, int(eic[3:15]) + 60):
        try:
            return make_eic(f"{body:012d}")
        except ValueError:
            continue
    raise AssertionError("no EIC")


async def test_the_eic_from_the_bill_verifies_like_the_account_number(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    await verified(visitor, meter, account=meter.eic)


async def test_unknown_account_and_wrong_surname_get_the_same_answer(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    wrong_surname = await visitor.post(
        "/submit", {"account": meter.account_number, "surname": "Петренко"}
    )
    unknown = await visitor.post("/submit", {"account": "0000000001", "surname": meter.surname})
    failed = translate("verification.failed", "uk")
    assert failed in unescape(wrong_surname.text) and failed in unescape(unknown.text)
    assert 'name="token"' not in wrong_surname.text + unknown.text
    assert "Залишилося спроб: 4" in wrong_surname.text
    assert "Залишилося спроб: 3" in unknown.text


MALFORMED_ENTRIES = [
    ("", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("12345", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("abc", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("62Z554330313580X", Problem(Code.EIC_CHECK_CHARACTER)),
]


@pytest.mark.parametrize(
    ("typed", "problem"), MALFORMED_ENTRIES, ids=[t or "empty" for t, _ in MALFORMED_ENTRIES]
)
async def test_a_malformed_account_number_or_eic_is_told_its_format_and_costs_no_attempt(
    visitor: Visitor, context: ServiceContext, typed: str, problem: Problem
) -> None:
    meter = await make_meter_fixture(context)
    for _ in range(5):
        page = await visitor.post("/submit", {"account": typed, "surname": meter.surname})
        assert page.status_code == 200
        text = unescape(page.text)
        assert render(problem, "uk") in text
        assert translate("verification.failed", "uk") not in text
        assert "Залишилося спроб" not in text
    await verified(visitor, meter)


async def test_the_format_message_is_in_the_language_of_the_page(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    await visitor.get("/submit?lang=en")
    page = await visitor.post("/submit", {"account": "12345", "surname": meter.surname})
    expected = render(Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10}), "en")
    assert expected in unescape(page.text)


async def test_an_overlong_account_or_surname_is_refused_unechoed_and_costs_no_attempt(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    huge = "Ш" * 1_000_000
    page = await visitor.post("/submit", {"account": meter.account_number, "surname": huge})
    assert page.status_code == 200
    text = unescape(page.text)
    assert render(Problem(Code.SURNAME_TOO_LONG, {"max": 100}), "uk") in text
    assert len(page.content) < 100_000
    assert 'maxlength="40"' in page.text and 'maxlength="100"' in page.text
    account = await visitor.post("/submit", {"account": "1" * 41, "surname": meter.surname})
    too_long = Problem(Code.ACCOUNT_ENTRY_TOO_LONG, {"max": 40})
    assert render(too_long, "uk") in unescape(account.text)
    wrong = await visitor.post("/submit", {"account": meter.account_number, "surname": "Хтось"})
    assert "Залишилося спроб: 4" in wrong.text


async def test_the_sixth_attempt_from_one_address_is_refused_even_with_the_right_data(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    for _ in range(5):
        await visitor.post("/submit", {"account": meter.account_number, "surname": "Хтось"})
    right = await visitor.post(
        "/submit", {"account": meter.account_number, "surname": meter.surname}
    )
    assert 'name="token"' not in right.text
    assert "Забагато невдалих спроб" in right.text


async def test_a_form_posted_without_the_csrf_token_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    await visitor.get("/submit")
    response = await visitor.post(
        "/submit", {"account": meter.account_number, "surname": meter.surname}, csrf=False
    )
    assert response.status_code == 403
    forged = await visitor.post(
        "/submit",
        {"_csrf_token": "0" * 64, "account": meter.account_number, "surname": "x"},
        csrf=False,
    )
    assert forged.status_code == 403


FIELD_ERRORS = [
    ("12a", Problem(Code.VALUE_NOT_A_NUMBER)),
    ("1234567", Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": 6})),
    ("1500.55", Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 1})),
    ("-5", Problem(Code.VALUE_NEGATIVE)),
    ("900", Problem(Code.READING_TOO_LOW, {"zone": "day", "previous": "1000.0"})),
]


@pytest.mark.parametrize(
    ("typed", "problem"), FIELD_ERRORS, ids=[p.code.value for _, p in FIELD_ERRORS]
)
async def test_every_field_error_is_told_next_to_its_field_as_typed_and_on_submit(
    visitor: Visitor, context: ServiceContext, typed: str, problem: Problem
) -> None:
    meter = await make_meter_fixture(
        context, zone_count=2, initial={DAY: Decimal("1000.0"), NIGHT: Decimal("500.0")}
    )
    page = await verified(visitor, meter)
    name = f"m{meter.meter_id}_day"
    expected = render(problem, "uk")
    instant = await visitor.post(
        "/submit/check",
        {"token": hidden(page, "token"), "meter": str(meter.meter_id), "zone": "day", name: typed},
        headers={"HX-Request": "true"},
    )
    assert instant.status_code == 200
    assert unescape(instant.text).strip() == expected
    submitted = await confirm(visitor, page, {name: typed, f"m{meter.meter_id}_night": "510"})
    assert field_error(submitted, name) == expected
    assert f'id="{name}" name="{name}" value="{typed}"' in submitted
    assert 'aria-invalid="true"' in submitted
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 0


async def test_a_zone_left_empty_is_an_error_when_another_is_filled(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(
        context, zone_count=2, initial={DAY: Decimal("1000.0"), NIGHT: Decimal("500.0")}
    )
    page = await verified(visitor, meter)
    submitted = await confirm(visitor, page, {f"m{meter.meter_id}_day": "1010"})
    assert field_error(submitted, f"m{meter.meter_id}_night") == render(
        Problem(Code.VALUE_EMPTY), "uk"
    )


async def test_an_instant_check_of_a_correct_value_clears_the_error(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await verified(visitor, meter)
    name = f"m{meter.meter_id}_total"
    ok = await visitor.post(
        "/submit/check",
        {
            "token": hidden(page, "token"),
            "meter": str(meter.meter_id),
            "zone": "total",
            name: "150,5",
        },
    )
    assert ok.text.strip() == ""


async def test_nothing_entered_asks_for_at_least_one_meter(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    page = await verified(visitor, meter)
    submitted = await confirm(visitor, page, {})
    assert translate("web.form.nothing_entered", "uk") in submitted


async def test_submits_confirms_and_prints_a_receipt_with_the_period(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await verified(visitor, meter)
    confirmation = await confirm(visitor, page, {f"m{meter.meter_id}_total": "150,5"})
    assert translate("web.confirm.title", "uk") in confirmation and "150,5" in confirmation
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 0
    receipt = await visitor.post("/submit/send", send_data(confirmation))
    row = await Reading.select().where(Reading.meter == meter.meter_id).first()
    assert row is not None and row["channel"] == "web_form" and row["value_1"] == 1505
    assert row["receipt"] in receipt.text and "жовтень 2026" in receipt.text
    assert "data-print" in receipt.text


async def test_a_double_submit_or_a_retried_post_stores_the_reading_once(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await verified(visitor, meter)
    data = send_data(await confirm(visitor, page, {f"m{meter.meter_id}_total": "160"}))
    first = await visitor.post("/submit/send", data)
    second = await visitor.post("/submit/send", data)
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 1
    row = await Reading.select(Reading.receipt).where(Reading.meter == meter.meter_id).first()
    assert row is not None
    assert row["receipt"] in first.text and row["receipt"] in second.text


async def test_no_consumption_repeats_the_previous_values_without_a_warning(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(
        context, zone_count=2, initial={DAY: Decimal("1000.0"), NIGHT: Decimal("500.0")}
    )
    page = await verified(visitor, meter)
    confirmation = await confirm(visitor, page, {f"same_{meter.meter_id}": "1"})
    assert "1000,0" in confirmation and "500,0" in confirmation
    await visitor.post("/submit/send", send_data(confirmation))
    row = await Reading.select().where(Reading.meter == meter.meter_id).first()
    assert row is not None and (row["value_1"], row["value_2"]) == (10000, 5000)
    assert row["status"] == "accepted"


async def test_off_window_the_page_says_when_the_next_window_opens_and_the_receipt_explains(
    visitor: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    start = await visitor.get("/submit")
    assert translate("web.window.closed_title", "uk") in start.text
    assert "30 жовтня 2026" in start.text  # the October window opens on the 30th
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await verified(visitor, meter)
    confirmation = await confirm(visitor, page, {f"m{meter.meter_id}_total": "120"})
    assert "поза періодом" in confirmation
    receipt = unescape((await visitor.post("/submit/send", send_data(confirmation))).text)
    row = await Reading.select().where(Reading.meter == meter.meter_id).first()
    assert row is not None and row["in_window"] is False and row["period"] == "2026-10"
    assert "поза періодом передачі показників" in receipt


async def test_a_forged_or_expired_token_starts_over(
    visitor: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await verified(visitor, meter)
    forged = hidden(page, "token").replace("account.", "account.9", 1)
    response = await visitor.post(
        "/submit/confirm", {"token": forged, f"m{meter.meter_id}_total": "1"}
    )
    assert translate("web.form.expired", "uk") in unescape(response.text)
    clock.instant = datetime(2026, 10, 30, 10, 0, tzinfo=UTC)
    late = await visitor.post(
        "/submit/confirm", {"token": hidden(page, "token"), f"m{meter.meter_id}_total": "110"}
    )
    assert translate("web.form.expired", "uk") in unescape(late.text)


async def test_an_instant_check_of_another_accounts_meter_tells_nothing(
    visitor: Visitor, context: ServiceContext
) -> None:
    mine = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    theirs = await make_meter_fixture(context, initial={T: Decimal("5000.0")})
    page = await verified(visitor, mine)
    response = await visitor.post(
        "/submit/check",
        {
            "token": hidden(page, "token"),
            "meter": str(theirs.meter_id),
            "zone": "total",
            f"m{theirs.meter_id}_total": "1",
        },
    )
    assert response.text.strip() == ""


async def test_a_value_written_with_its_unit_is_taken_as_the_value(
    visitor: Visitor, context: ServiceContext
) -> None:
    """The field is labelled in kWh, and a customer may write the unit too (a tester's
    "8000 kWh" was "not digits" on the form while the chats took it)."""
    meter = await make_meter_fixture(
        context, zone_count=2, initial={DAY: Decimal("1000.0"), NIGHT: Decimal("500.0")}
    )
    page = await verified(visitor, meter)
    values = {f"m{meter.meter_id}_day": "1010 kWh", f"m{meter.meter_id}_night": "510 кВт·год"}
    confirmed = await confirm(visitor, page, values)
    assert send_data(confirmed)[f"m{meter.meter_id}_day"] in ("1010", "1010.0")
