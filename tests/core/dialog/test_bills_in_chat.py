""" "My readings and bills": the latest readings and the last closed periods billed.

First through the pure engine with hand-made answers, then whole conversations through
`handle_incoming` on both database engines, with periods closed by the billing service.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.dialog import (
    Action,
    ActionResult,
    BillStatus,
    Done,
    Found,
    Incoming,
    IncomingKind,
    LatestReadings,
    ReceiptStatus,
    SetLanguage,
)
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.billing import close_period
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.conversation import ConversationResult, handle_incoming
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

from .conversation import Chat, account, facts, meter, tap

T = Zone.TOTAL
CREDIT = Problem(Code.ESTIMATE_CREDIT, {"estimated": "310", "actual": "262", "difference": "48"})


def _answering(*bills: BillStatus, readings: tuple[ReceiptStatus, ...] = ()) -> Chat:
    def answer(action: Action, chat: Chat) -> ActionResult:
        if isinstance(action, SetLanguage):
            return Done()
        assert isinstance(action, LatestReadings)
        return Found(readings, bills=bills)

    chat = Chat(facts(account()), answer)
    chat.send("привіт")
    return chat


def _latest(chat: Chat) -> str:
    chat.send(tap("menu:status"))
    chat.send(tap("status:latest"))
    return chat.said


def test_the_status_menu_offers_readings_and_bills() -> None:
    chat = _answering()
    assert translate("dialog.button.readings_and_bills", "uk") in [
        b.label for r in chat.replies for row in r.buttons for b in row
    ]
    chat.send(tap("menu:status"))
    assert translate("dialog.button.latest_and_bills", "uk") in [
        b.label for r in chat.replies for row in r.buttons for b in row
    ]


def test_a_credit_is_told_as_such_with_the_reconciliation() -> None:
    chat = _answering(
        BillStatus("2026-10", "SN-001", "actual", Decimal(-48), notice=CREDIT),
        BillStatus("2026-09", "SN-001", "estimated", Decimal(155)),
        BillStatus("2026-08", "SN-001", "estimated", Decimal(155)),
    )
    said = _latest(chat)
    assert translate("dialog.no_readings", "uk") in said
    assert "Жовтень 2026: 48 кВт·год на вашу користь" in said
    assert "Вересень 2026: 155 кВт·год, розрахунково (без показника)" in said
    assert render(CREDIT, "uk") in said
    assert "-48" not in said


def test_tells_three_periods_per_meter_under_each_meters_serial() -> None:
    first = [BillStatus(f"2026-{m:02d}", "SN-001", "actual", Decimal("12.5")) for m in (9, 8, 7, 6)]
    second = [BillStatus("2026-09", "SN-002", "estimated", Decimal(40))]
    said = _latest(_answering(*first, *second))
    assert translate("dialog.bills_meter", "uk", serial="SN-001") in said
    assert translate("dialog.bills_meter", "uk", serial="SN-002") in said
    assert "Вересень 2026: 12,5 кВт·год за показником" in said
    assert "Липень 2026" in said and "Червень 2026" not in said


def test_a_customer_with_two_accounts_is_told_each_accounts_readings_under_its_number() -> None:
    home = account(1, meter(7, serial="SN-001"))
    cottage = account(2, meter(8, serial="SN-002"), number="0123456790")
    reading = ReceiptStatus("ACDEFHJKM", "accepted", "2026-10", "2026-10-30", True, "SN-002")
    found = Found(
        (replace(reading, account_id=2),),
        bills=(BillStatus("2026-09", "SN-001", "actual", Decimal(90), account_id=1),),
    )
    chat = Chat(facts(home, cottage), lambda action, chat: found)
    chat.send("привіт")

    said = _latest(chat)

    home_at = said.index(
        translate("dialog.account_header", "uk", number="0123456789", address=home.address)
    )
    cottage_at = said.index(
        translate("dialog.account_header", "uk", number="0123456790", address=cottage.address)
    )
    assert home_at < said.index("Вересень 2026: 90 кВт·год") < cottage_at
    assert cottage_at < said.index("ACDEFHJKM")
    assert said.index(translate("dialog.no_readings_account", "uk")) < cottage_at  # the home


def test_says_when_nothing_was_billed_yet_in_english() -> None:
    chat = _answering()
    chat.send(tap("lang:en"))
    said = _latest(chat)
    assert translate("dialog.no_readings", "en") in said
    assert "Nothing has been billed yet." in said


# Through the service, on both engines.


class Customer:
    """One Telegram user talking to the service."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.user = uuid4().hex[:12]

    async def say(self, message: Incoming | str) -> ConversationResult:
        incoming = (
            Incoming(IncomingKind.TEXT, text=message) if isinstance(message, str) else message
        )
        return await handle_incoming(
            self.context, Channel.TELEGRAM, self.user, incoming, update_key=uuid4().hex
        )

    async def latest_after_verifying(self, meter: MeterFixture) -> str:
        await self.say(Incoming(IncomingKind.START))
        await self.say(tap("menu:status"))
        await self.say(tap("status:latest"))
        await self.say(meter.account_number)
        result = await self.say(meter.surname)
        return "\n".join(r.text for r in result.replies)


async def _reading(context: ServiceContext, meter_id: int, value: str, taken_on: date) -> None:
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            uuid4(), meter_id, {T: Decimal(value)}, Channel.CABINET, "test", taken_on
        ),
    )
    assert outcome.stored, outcome.verdict.problems


async def test_the_status_menu_lists_the_bills_with_the_estimate_reconciled(
    context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 8, 30, 9, tzinfo=UTC)
    meter = await make_meter_fixture(
        context, initial={T: Decimal("1000.0")}, installed_on=date(2026, 7, 1)
    )
    await _reading(context, meter.meter_id, "1100.0", date(2026, 7, 31))
    await _reading(context, meter.meter_id, "1280.0", date(2026, 8, 30))  # 6 kWh a day
    clock.instant = datetime(2026, 10, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2026, 9), actor="test")  # estimated: 180 kWh
    clock.instant = datetime(2026, 10, 30, 9, tzinfo=UTC)
    await _reading(context, meter.meter_id, "1672.0", date(2026, 10, 30))  # 392 counted
    clock.instant = datetime(2026, 11, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2026, 10), actor="test")

    said = await Customer(context).latest_after_verifying(meter)

    assert "1672,0" in said  # the latest reading, as before
    assert "Жовтень 2026: 212 кВт·год за показником" in said
    assert "Вересень 2026: 180 кВт·год, розрахунково (без показника)" in said
    charge = Problem(
        Code.ESTIMATE_CHARGE,
        {"estimated": "180", "actual": "392", "difference": "212", "periods": "2026-09"},
    )
    assert render(charge, "uk") in said
    assert "Рахунки за вересень 2026 нараховано за оцінкою: 180 кВт·год" in said


async def test_the_status_menu_says_when_nothing_was_billed_yet(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, installed_on=date(2026, 10, 20))
    said = await Customer(context).latest_after_verifying(meter)
    assert translate("dialog.bills_none", "uk") in said
    assert translate("dialog.no_readings", "uk") in said


async def test_a_customer_with_two_linked_accounts_hears_each_under_its_number(
    context: ServiceContext,
) -> None:
    home = await make_meter_fixture(context)
    cottage = await make_meter_fixture(context)
    await _reading(context, cottage.meter_id, "1500.0", date(2026, 10, 30))
    customer = Customer(context)
    await customer.latest_after_verifying(home)
    await customer.say(tap("menu:link"))
    await customer.say(cottage.account_number)
    await customer.say(cottage.surname)

    await customer.say(tap("menu:status"))
    result = await customer.say(tap("status:latest"))
    said = "\n".join(r.text for r in result.replies)

    home_at = said.index(f"Рахунок {home.account_number}")
    cottage_at = said.index(f"Рахунок {cottage.account_number}")
    assert home_at < said.index(translate("dialog.no_readings_account", "uk")) < cottage_at
    assert cottage_at < said.index("1500,0")
