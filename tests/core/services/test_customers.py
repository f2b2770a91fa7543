"""Cabinet customers and what they see of their accounts, on both database engines."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customer_readings import load_account_meters, meter_months
from pokaznyk_core.services.customer_settings import Reminders, customer_profile, set_reminders
from pokaznyk_core.services.customers import (
    Refusal,
    Registration,
    customer_accounts,
    issue_sign_in_link,
    owned_account,
    redeem_sign_in_link,
    register_customer,
    sign_in,
)
from pokaznyk_core.services.identities import identity_for, set_phone
from pokaznyk_core.storage.tables import MessengerIdentity, VerificationFailure
from pokaznyk_core.testing import FixedClock, make_meter_fixture

T = Zone.TOTAL
_n = iter(range(2000000, 9999999))


def phone() -> str:
    return f"+38063{next(_n)}"


async def registered(
    context: ServiceContext, password: str = "a long password"
) -> tuple[int, str, int]:
    number = phone()
    meter = await make_meter_fixture(context, phones=(number,))
    outcome = await register_customer(
        context,
        user_key=f"test:{uuid4()}",
        account_number=meter.account_number,
        surname=meter.surname,
        phone=number,
        password=password,
    )
    assert isinstance(outcome, Registration)
    return outcome.customer_id, number, meter.account_id


async def test_a_phone_not_on_the_account_is_a_failed_verification_that_counts(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, phones=(phone(),))
    key = f"test:{uuid4()}"
    outcome = await register_customer(
        context,
        user_key=key,
        account_number=meter.account_number,
        surname=meter.surname,
        phone=phone(),
        password="a long password",
    )
    assert isinstance(outcome, Refusal) and outcome.key == "verification.failed"
    assert await VerificationFailure.count().where(VerificationFailure.user_key == key) == 1


async def test_a_burst_of_phone_guesses_at_once_cannot_pass_the_account_limit(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, phones=(phone(),))
    answers = await asyncio.gather(
        *(
            register_customer(
                context,
                user_key=f"test:burst{n}:{uuid4()}",
                account_number=meter.account_number,
                surname=meter.surname,
                phone=phone(),
                password="a long password",
            )
            for n in range(30)
        )
    )
    counted = await VerificationFailure.count().where(
        VerificationFailure.account_key == meter.account_number
    )
    assert counted == 20
    held = [a for a in answers if isinstance(a, Refusal) and a.key == "verification.account_held"]
    assert len(held) == 10


async def test_a_registered_customer_signs_in_with_the_phone_in_any_format(
    context: ServiceContext,
) -> None:
    customer_id, number, account_id = await registered(context)
    spaced = f"0{number[4:6]} {number[6:9]} {number[9:]}"
    assert (
        await sign_in(context, user_key="t1", phone=spaced, password="a long password")
        == customer_id
    )
    refused = await sign_in(context, user_key="t1", phone=number, password="wrong one!")
    assert isinstance(refused, Refusal) and refused.key == "cabinet.sign_in_failed"
    assert [a.account_id for a in await customer_accounts(customer_id)] == [account_id]


async def test_a_one_time_link_signs_in_once_and_expires(
    context: ServiceContext, clock: FixedClock
) -> None:
    customer_id, number, _ = await registered(context)
    token = await issue_sign_in_link(context, number)
    assert token is not None
    assert await redeem_sign_in_link(context, token) == customer_id
    assert await redeem_sign_in_link(context, token) is None
    late = await issue_sign_in_link(context, number)
    assert late is not None
    clock.instant = datetime.fromtimestamp(
        clock.instant.timestamp() + 16 * 60, tz=clock.instant.tzinfo
    )
    assert await redeem_sign_in_link(context, late) is None
    assert await issue_sign_in_link(context, phone()) is None


async def test_another_customers_account_is_not_owned(context: ServiceContext) -> None:
    mine, _, my_account = await registered(context)
    _, _, their_account = await registered(context)
    accounts = await customer_accounts(mine)
    assert [a.account_id for a in accounts] == [my_account]
    theirs = await load_account_meters(context, their_account)
    assert theirs is not None
    assert await owned_account(mine, theirs.number) is None


async def test_reminder_preferences_are_kept(context: ServiceContext) -> None:
    customer_id, _, _ = await registered(context)
    assert await set_reminders(context, customer_id, "telegram") is None
    profile = await customer_profile(customer_id)
    assert profile is not None and profile.reminders is Reminders.TELEGRAM
    refused = await set_reminders(context, customer_id, "pigeon")
    assert refused is not None and refused.field == "reminders"


async def test_a_wrong_phone_and_a_wrong_surname_get_the_same_answer(
    context: ServiceContext,
) -> None:
    number = phone()
    meter = await make_meter_fixture(context, phones=(number,))
    wrong_phone = await register_customer(
        context,
        user_key="test:phone",
        account_number=meter.account_number,
        surname=meter.surname,
        phone=phone(),
        password="a long password",
    )
    wrong_surname = await register_customer(
        context,
        user_key="test:surname",
        account_number=meter.account_number,
        surname="Неправильне",
        phone=number,
        password="a long password",
    )
    assert isinstance(wrong_phone, Refusal) and isinstance(wrong_surname, Refusal)
    assert (wrong_phone.key, wrong_phone.params) == (wrong_surname.key, wrong_surname.params)
    assert wrong_phone.params.get("attempts_left") == 4


async def test_the_cabinet_choice_decides_which_chat_of_the_same_person_gets_reminders(
    context: ServiceContext,
) -> None:
    customer_id, number, _ = await registered(context)
    digits = number.removeprefix("+")
    telegram = await identity_for(Channel.TELEGRAM, f"tg-{digits}")
    viber = await identity_for(Channel.VIBER, f"vb-{digits}")
    stranger = await identity_for(Channel.VIBER, f"vb-other-{digits}")
    for identity in (telegram, viber):
        await set_phone(identity["id"], digits)

    async def reminders_on() -> dict[int, bool]:
        rows = await MessengerIdentity.select(
            MessengerIdentity.id, MessengerIdentity.reminders
        ).where(MessengerIdentity.id.is_in([telegram["id"], viber["id"], stranger["id"]]))
        return {r["id"]: r["reminders"] for r in rows}

    await set_reminders(context, customer_id, "viber")
    assert await reminders_on() == {telegram["id"]: False, viber["id"]: True, stranger["id"]: True}
    await set_reminders(context, customer_id, "none")
    assert await reminders_on() == {telegram["id"]: False, viber["id"]: False, stranger["id"]: True}


def _row(period: str, taken_on: date, value: int) -> dict[str, Any]:
    return {
        "period": period,
        "taken_on": taken_on,
        "received_at": datetime(2026, 1, 1),
        "value_1": value,
    }


def test_months_without_a_reading_are_estimated_and_the_next_actual_month_is_reconciled() -> None:
    spec = MeterSpec(digits=6, decimals=0, zone_count=1)
    readings = [
        _row("2026-01", date(2026, 1, 31), 100),  # 100 kWh since installation on Jan 1
        _row("2026-04", date(2026, 4, 30), 400),
    ]
    months = meter_months(spec, date(2026, 1, 1), {T: Decimal(0)}, readings, Period(2026, 4), 12)
    assert [(str(m.period), m.actual) for m in months] == [
        ("2026-01", True),
        ("2026-02", False),
        ("2026-03", False),
        ("2026-04", True),
    ]
    february, march, april = months[1].kwh[T], months[2].kwh[T], months[3].kwh[T]
    assert february == Decimal(93) and march == Decimal(103)  # 100 kWh / 30 days, truncated
    assert april == 300 - february - march


async def test_a_closed_period_shows_what_was_billed(context: ServiceContext) -> None:
    from pokaznyk_core.services.customer_readings import monthly_consumption
    from pokaznyk_core.storage.tables import BillLine

    meter = await make_meter_fixture(context, installed_on=date(2026, 7, 1))
    await BillLine.insert(
        BillLine(
            period="2026-09",
            meter=meter.meter_id,
            basis="estimated",
            consumption_1=1234,
            created_at=context.now(),
        )
    )
    (consumption,) = await monthly_consumption(context, meter.account_id)
    september = next(m for m in consumption.months if str(m.period) == "2026-09")
    assert not september.actual and september.kwh[T] == Decimal("123.4")
