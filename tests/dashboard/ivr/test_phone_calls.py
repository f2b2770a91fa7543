"""Whole phone calls through POST /ivr/voice and the URLs it hands on, as Twilio makes them:
the scenarios the Telegram dialog is tested with, by keypad, heard and stored."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import httpx
import pytest
from tests.dashboard.ivr.calls import Call, gather_of

from pokaznyk_core.channels import ivr
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import Account, DialogState, Meter, Reading, VerificationFailure
from pokaznyk_core.testing import FixedClock, make_meter_fixture

A_MONTH_AGO = date(2026, 9, 30)  # the fixed clock says 30 October 2026
_numbers = count(1)


def new_number() -> str:
    """A caller's number that no other test calls from."""
    return f"+38067300{next(_numbers):04d}"


async def readings_of(meter_id: int) -> list[dict[str, Any]]:
    """The readings stored for a meter."""
    return await Reading.select().where(Reading.meter == meter_id)


async def dialog_version(caller: str) -> int:
    """How many of the caller's keypad entries the dialog has taken."""
    row = await (
        DialogState.select(DialogState.version)
        .where(DialogState.channel == "ivr")
        .where(DialogState.platform_user_id == caller)
        .first()
    )
    return 0 if row is None else int(row["version"])


def spelled(receipt: str) -> str:
    """A receipt number as the phone reads it out, one character at a time."""
    return ", ".join(receipt)


def finish_key(response: httpx.Response) -> str | None:
    """The key that ends the entry the answer gathers (None for a one-key choice)."""
    gather = ET.fromstring(response.text).find("Gather")
    assert gather is not None, response.text
    return gather.get("finishOnKey")


async def test_a_verified_caller_is_asked_for_each_of_three_zones_and_hears_every_value(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, zone_count=3, phones=(number,))
    call = Call(phone, "CA-three-zones", number)

    peak_action, asked_for_peak = await call.reaches_the_entry(fixture.account_number)
    assert "Ваш номер телефону знайдено в цьому особовому рахунку" in asked_for_peak
    assert "зони «пік» (зона 1 з 3)" in asked_for_peak
    half_peak_action, asked_for_half_peak = await call.press(peak_action, "120*4#")
    assert "зони «напівпік» (зона 2 з 3)" in asked_for_half_peak
    night_action, asked_for_night = await call.press(half_peak_action, "340#")
    assert "зони «ніч» (зона 3 з 3)" in asked_for_night
    confirm_action, confirmation = await call.press(night_action, "560*1#")

    assert "Пік: 120,4" in confirmation
    assert "Напівпік: 340,0" in confirmation
    assert "Ніч: 560,1" in confirmation
    assert await readings_of(fixture.meter_id) == [], "nothing is stored before confirming"
    _, receipt = await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["value_2"], reading["value_3"]) == (1204, 3400, 5601)
    assert reading["consumption_total"] == 1204 + 3400 + 5601
    assert (reading["channel"], reading["status"], reading["flags"]) == ("ivr", "accepted", "")
    assert spelled(reading["receipt"]) in receipt


async def test_no_consumption_repeats_the_previous_reading_with_the_star_key(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(
        phone_context, initial={Zone.TOTAL: Decimal("4321.7")}, phones=(number,)
    )
    call = Call(phone, "CA-away", number)

    entry_action, asked = await call.reaches_the_entry(fixture.account_number)
    assert "Якщо споживання не було, натисніть зірочку, потім решітку" in asked
    confirm_action, confirmation = await call.press(entry_action, "*")  # # ends, unsent

    assert "показник: 4321,7" in confirmation
    assert "Споживання з попереднього показника немає" in confirmation
    _, receipt = await call.choice(confirm_action, "confirm")
    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"]) == (43217, 0)
    assert (reading["status"], reading["flags"]) == ("accepted", "")
    assert spelled(reading["receipt"]) in receipt


async def test_a_caller_who_was_away_may_also_key_in_the_previous_reading_he_hears(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(
        phone_context, initial={Zone.TOTAL: Decimal("4321.7")}, phones=(number,)
    )
    call = Call(phone, "CA-away-typed", number)

    entry_action, asked = await call.reaches_the_entry(fixture.account_number)
    assert "4321,7" in asked
    confirm_action, confirmation = await call.press(entry_action, "4321*7#")
    assert "Споживання з попереднього показника немає" in confirmation
    await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"], reading["status"]) == (
        43217,
        0,
        "accepted",
    )


async def test_a_value_below_the_previous_is_refused_with_the_reason_and_asked_again(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(
        phone_context,
        initial={Zone.TOTAL: Decimal("500")},
        installed_on=A_MONTH_AGO,
        phones=(number,),
    )
    call = Call(phone, "CA-too-low", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)

    refused = await call.post(entry_action, "400#")
    again_action, refusal = gather_of(refused)
    assert "Показник менший за попередній (500,0)" in refusal
    assert "Введіть показник лічильника" in refusal  # asked again, said once
    assert finish_key(refused) == "#", "the caller is asked for a value again"
    assert await readings_of(fixture.meter_id) == []

    confirm_action, confirmation = await call.press(again_action, "512#")
    assert "показник: 512,0" in confirmation
    await call.choice(confirm_action, "confirm")
    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"]) == (5120, 120)


async def test_a_four_digit_meter_that_wrapped_past_9999_is_stored_as_a_rollover(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(
        phone_context,
        digits=4,
        decimals=0,
        initial={Zone.TOTAL: Decimal(9990)},
        installed_on=A_MONTH_AGO,
        phones=(number,),
    )
    call = Call(phone, "CA-rollover", number)
    entry_action, asked = await call.reaches_the_entry(fixture.account_number)
    assert "не має знаків після коми" in asked

    confirm_action, confirmation = await call.press(entry_action, "25#")
    assert "почав відлік з нуля" in confirmation
    _, receipt = await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["rollover"], reading["consumption_total"]) == (25, True, 35)
    assert reading["status"] == "accepted"
    assert spelled(reading["receipt"]) in receipt
    assert "почав рахувати з нуля" in receipt


async def test_a_value_far_above_the_household_cap_is_flagged_and_the_caller_told_it_is_checked(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, installed_on=A_MONTH_AGO, phones=(number,))
    call = Call(phone, "CA-above-cap", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)

    confirm_action, confirmation = await call.press(entry_action, "9000#")  # 300 kWh a day
    assert "значно більше, ніж зазвичай" in confirmation
    _, receipt = await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert reading["status"] == "flagged"
    assert reading["flags"] == "above_household_cap"
    assert spelled(reading["receipt"]) in receipt
    assert "перевіримо" in receipt
    assert "фото" not in receipt, "a caller cannot send a photo of the meter"


async def test_a_caller_not_on_the_account_hears_no_account_data_and_the_reading_is_flagged(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(
        phone_context,
        surname="Приходько",
        initial={Zone.TOTAL: Decimal("4321.7")},
        phones=("+380501119900",),
    )
    [meter] = await Meter.select(Meter.serial).where(Meter.id == fixture.meter_id)
    call = Call(phone, "CA-stranger", new_number())

    entry_action, asked = await call.reaches_the_entry(fixture.account_number)
    assert "Вашого номера телефону немає в цьому рахунку" in asked
    assert "Якщо споживання не було" not in asked, "no key repeats a reading he may not hear"
    low_action, low_confirmation = await call.press(entry_action, "4000#")
    again_action, refusal = await call.choice(low_action, "confirm")
    assert "Цей показник не узгоджується з даними лічильника" in refusal
    assert await readings_of(fixture.meter_id) == []
    confirm_action, confirmation = await call.press(again_action, "4400#")
    assert "показник: 4400,0" in confirmation
    _, receipt = await call.choice(confirm_action, "confirm")

    heard = " ".join((asked, low_confirmation, refusal, confirmation, receipt))
    account_data = (
        "Приходько",  # the holder
        "Олена",
        "Шевченка",  # the address
        "Краматорськ",
        "4321",  # the previous reading
        "2024",  # the date it was taken
        meter["serial"],
        ivr.speakable(meter["serial"]),
        fixture.eic,
    )
    assert [data for data in account_data if data in heard] == []
    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == 44000
    assert (reading["status"], reading["flags"]) == ("flagged", "unverified_submitter")
    assert spelled(reading["receipt"]) in receipt
    assert "вашого номера немає в рахунку, показник перевірять" in receipt


async def test_a_retried_request_of_every_step_is_answered_the_same_and_stores_one_reading(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, phones=(number,))
    call = Call(phone, "CA-retried", number)

    async def twice(action: str, digits: str | None) -> httpx.Response:
        """Post one step and Twilio's retry of it: the retry changes nothing."""
        first = await call.post(action, digits)
        version = await dialog_version(number)
        retry = await call.post(action, digits)
        assert (retry.status_code, retry.text) == (first.status_code, first.text)
        assert await dialog_version(number) == version
        return first

    language_action, _ = gather_of(await twice("/ivr/voice", None))
    menu_action, _ = gather_of(await twice(language_action, "1"))
    account_action, _ = gather_of(await twice(menu_action, "2"))
    entry_action, _ = gather_of(await twice(account_action, fixture.account_number + "#"))
    confirm_action, _ = gather_of(await twice(entry_action, "777#"))
    _, receipt = gather_of(await twice(confirm_action, "1"))

    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == 7770
    assert spelled(reading["receipt"]) in receipt


async def test_different_keys_posted_at_once_for_one_prompt_are_handled_once(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, phones=(number,))
    call = Call(phone, "CA-concurrent-values", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)
    version = await dialog_version(number)

    answers = await asyncio.gather(
        *(call.post(entry_action, f"{value}#") for value in (100, 200, 300, 400, 500))
    )

    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.headers["content-type"].startswith("application/xml") for a in answers)
    assert len({a.text for a in answers}) == 1, "every request hears the same confirmation"
    assert await dialog_version(number) == version + 1
    confirm_action, confirmation = gather_of(answers[0])
    [said_value] = [v for v in (100, 200, 300, 400, 500) if f"показник: {v},0" in confirmation]

    await call.choice(confirm_action, "confirm")
    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == said_value * 10, "what was confirmed is what is stored"


async def test_a_confirmation_posted_five_times_at_once_stores_one_reading(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, phones=(number,))
    call = Call(phone, "CA-concurrent-confirm", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)
    confirm_action, _ = await call.press(entry_action, "640#")
    version = await dialog_version(number)

    answers = await asyncio.gather(*(call.post(confirm_action, "1") for _ in range(5)))

    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.text for a in answers}) == 1
    assert await dialog_version(number) == version + 1
    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == 6400
    assert spelled(reading["receipt"]) in gather_of(answers[0])[1]


async def test_star_is_the_decimal_point_hash_ends_a_value_and_a_wrong_key_asks_again(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, phones=(number,))
    call = Call(phone, "CA-keys", number)
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, _ = await call.press(language_action, "1")
    account_action, _ = await call.choice(menu_action, "menu:submit")
    entry = await call.post(account_action, fixture.account_number)  # Twilio drops the #
    entry_action, asked = gather_of(entry)
    assert finish_key(entry) == "#"
    assert "Десяткову кому вводьте зірочкою, наприкінці натисніть решітку." in asked

    confirm = await call.post(entry_action, "1234*5")
    confirm_action, confirmation = gather_of(confirm)
    assert finish_key(confirm) is None, "a choice takes one key, no # needed"
    assert "показник: 1234,5" in confirmation
    version = await dialog_version(number)

    again_action, asked_again = await call.press(confirm_action, "7")
    assert again_action == confirm_action
    assert "Усе правильно?" in asked_again and "Підтвердити — натисніть 1." in asked_again
    assert await dialog_version(number) == version, "a key that is no choice changes nothing"

    reentry_action, asked_to_reenter = await call.press(again_action, "2")
    assert "Введіть показник лічильника" in asked_to_reenter
    confirm_action, confirmation = await call.press(reentry_action, "1250*7#")
    assert "показник: 1250,7" in confirmation
    await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == 12507


async def test_on_a_meter_without_decimals_the_star_key_is_still_the_decimal_point(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(
        phone_context,
        digits=5,
        decimals=0,
        initial={Zone.TOTAL: Decimal(120)},
        installed_on=A_MONTH_AGO,
        phones=(number,),
    )
    call = Call(phone, "CA-whole-star", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)

    again_action, refusal = await call.press(entry_action, "130*5")
    assert "лише цілі числа" in refusal, "130*5 is not 1305"
    confirm_action, confirmation = await call.press(again_action, "130*0")
    assert "показник: 130 (спожито 10 " in confirmation, "130*0 is 130, not 1300"
    await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"]) == (130, 10)


@pytest.mark.parametrize("keys", ["1**2", "1*2*3"])
async def test_a_value_keyed_wrong_is_explained_in_keys_not_in_commas(
    phone: httpx.AsyncClient, phone_context: ServiceContext, keys: str
) -> None:
    number = new_number()
    fixture = await make_meter_fixture(phone_context, phones=(number,))
    call = Call(phone, f"CA-wrong-{keys}", number)
    entry_action, _ = await call.reaches_the_entry(fixture.account_number)

    again_action, said = await call.press(entry_action, keys)

    assert "зірочкою" in said
    assert "комою або крапкою" not in said and "надішліть" not in said.lower()
    assert again_action  # asked again
    assert await readings_of(fixture.meter_id) == []


@pytest.mark.parametrize("withheld", ["+266696687", "+7378742833", "+8656696", "anonymous", ""])
async def test_callers_who_hide_their_number_are_each_a_caller_of_their_own(
    phone: httpx.AsyncClient, phone_context: ServiceContext, withheld: str
) -> None:
    """Twilio gives a withheld number as a placeholder ("ANONYMOUS" keyed on the phone's
    letters): two such callers share no dialog and no count of failed attempts."""
    fixture = await make_meter_fixture(phone_context, initial={Zone.TOTAL: Decimal("100")})
    sid = f"CA-hidden-{withheld.strip('+') or 'none'}"
    first = Call(phone, f"{sid}-1", withheld, user=f"call:{sid}-1")
    second = Call(phone, f"{sid}-2", withheld, user=f"call:{sid}-2")

    entry_action, asked = await first.reaches_the_entry(fixture.account_number)
    assert "Ми не бачимо вашого номера телефону" in asked
    language_action, _ = gather_of(await second.post("/ivr/voice"))
    menu_action, _ = await second.press(language_action, "2")  # English
    account_action, _ = await second.choice(menu_action, "menu:submit")
    nobodys = f"99999{next(_numbers):05d}#"
    for _ in range(5):  # he uses up his attempts on a number that is no one's
        account_action, refused = await second.press(account_action, nobodys)
    assert "Too many failed attempts" in refused

    confirm_action, confirmation = await first.press(entry_action, "150#")
    _, receipt = await first.choice(confirm_action, "confirm")
    assert "показник: 150" in confirmation  # still in Ukrainian, on his own account
    [reading] = await readings_of(fixture.meter_id)
    assert spelled(reading["receipt"]) in receipt
    assert reading["flags"] == "unverified_submitter"


async def test_an_account_with_its_days_failed_attempts_is_held_for_callers_not_on_it(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    """Refused values tell something of the stored reading, so the account's daily limit
    holds whoever calls; a caller whose number is on the account keeps working."""
    fixture = await make_meter_fixture(
        phone_context, initial={Zone.TOTAL: Decimal("500")}, phones=("+380501110077",)
    )
    limit = phone_context.verification.account_failures
    callers = [Call(phone, f"CA-probe-{n}", new_number()) for n in range(limit // 4)]
    for caller in callers:  # four refused values each: within each caller's own limit
        entry_action, _ = await caller.reaches_the_entry(fixture.account_number)
        for _ in range(4):
            confirm_action, _ = await caller.press(entry_action, "100#")
            entry_action, refusal = await caller.choice(confirm_action, "confirm")
            assert "не узгоджується" in refusal

    _, held = await Call(phone, "CA-probe-next", new_number()).reaches_the_entry(
        fixture.account_number
    )
    assert "Зараз не вдалося перевірити дані" in held
    entry_action, asked = await Call(phone, "CA-holder", "+380501110077").reaches_the_entry(
        fixture.account_number
    )
    assert "Показник" in asked and "Зараз не вдалося" not in asked
    assert await readings_of(fixture.meter_id) == []


async def test_an_account_takes_its_days_readings_from_callers_not_on_it_then_only_the_holders(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    """A value taken tells a caller it is above the stored reading, as a refusal tells it
    is below: so the values taken from callers not on the account are bounded too, or a
    stranger could close in on the stored reading by trying values (a tester did)."""
    fixture = await make_meter_fixture(
        phone_context, initial={Zone.TOTAL: Decimal("500")}, phones=("+380501110088",)
    )
    limit = phone_context.verification.caller_readings
    for n in range(limit):
        call = Call(phone, f"CA-taken-{n}", new_number())
        entry_action, _ = await call.reaches_the_entry(fixture.account_number)
        confirm_action, _ = await call.press(entry_action, f"{600 + n}#")
        _, receipt = await call.choice(confirm_action, "confirm")
        assert "вашого номера немає в рахунку, показник перевірять" in receipt
    assert len(await readings_of(fixture.meter_id)) == limit

    _, told = await Call(phone, "CA-taken-next", new_number()).reaches_the_entry(
        fixture.account_number
    )
    assert "уже подано показники з номерів, яких у ньому немає" in told
    assert "Показник" not in told, "told before any value is keyed in"
    holder = Call(phone, "CA-taken-holder", "+380501110088")
    entry_action, asked = await holder.reaches_the_entry(fixture.account_number)
    assert "уже подано" not in asked
    confirm_action, _ = await holder.press(entry_action, "700#")
    _, receipt = await holder.choice(confirm_action, "confirm")
    assert "Номер квитанції" in receipt
    assert len(await readings_of(fixture.meter_id)) == limit + 1


async def test_the_holder_calling_about_a_closed_account_is_told_it_is_closed(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380501110088",))
    await Account.update({Account.status: "closed"}).where(Account.id == fixture.account_id)

    _, holder_hears = await Call(phone, "CA-closed-1", "+380501110088").reaches_the_entry(
        fixture.account_number
    )
    stranger = new_number()
    _, stranger_hears = await Call(phone, "CA-closed-2", stranger).reaches_the_entry(
        fixture.account_number
    )
    assert "Цей особовий рахунок закрито" in holder_hears
    assert "закрито" not in stranger_hears  # to anyone else, as a number that is no one's

    async def failures_of(caller: str) -> int:
        return await VerificationFailure.count().where(
            VerificationFailure.user_key == f"ivr:{caller}"
        )

    assert (await failures_of("+380501110088"), await failures_of(stranger)) == (0, 1)


async def test_a_caller_who_keyed_another_account_names_the_right_one_within_the_call(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    mistyped = await make_meter_fixture(phone_context, phones=("+380501110099",))
    own = await make_meter_fixture(phone_context, phones=("+380501110098",))
    call = Call(phone, "CA-typo", "+380501110098")

    entry_action, asked = await call.reaches_the_entry(mistyped.account_number)
    assert "Вашого номера телефону немає в цьому рахунку" in asked
    confirm_action, _ = await call.press(entry_action, "150#")
    menu_action, _ = await call.choice(confirm_action, "cancel")
    account_action, asked_again = await call.choice(menu_action, "menu:submit")
    assert "номер особового рахунку" in asked_again.casefold()
    entry_action, asked = await call.press(account_action, own.account_number + "#")
    assert "Вашого номера телефону немає" not in asked  # his own account: verified
    confirm_action, _ = await call.press(entry_action, "150#")
    await call.choice(confirm_action, "confirm")

    [reading] = await readings_of(own.meter_id)
    assert reading["flags"] == ""
    assert await readings_of(mistyped.meter_id) == []


async def test_a_strangers_value_is_no_baseline_for_the_holders_next_reading(
    phone: httpx.AsyncClient, phone_context: ServiceContext, clock: FixedClock
) -> None:
    """A reading from a caller not on the account waits for review: a stranger who keys in
    a huge value must not make the holder's true reading 'lower than the previous one'."""
    clock.instant = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)  # outside the window
    fixture = await make_meter_fixture(
        phone_context, initial={Zone.TOTAL: Decimal("5000")}, phones=("+380501110099",)
    )
    stranger = Call(phone, "CA-huge-value", new_number())
    entry_action, _ = await stranger.reaches_the_entry(fixture.account_number)
    confirm_action, _ = await stranger.press(entry_action, "99000#")
    _, receipt = await stranger.choice(confirm_action, "confirm")
    assert "Номер квитанції" in receipt

    clock.advance(timedelta(days=2))
    holder = Call(phone, "CA-true-value", "+380501110099")
    entry_action, asked = await holder.reaches_the_entry(fixture.account_number)
    assert "5000" in asked and "99000" not in asked, "the hint is the holder's last reading"
    confirm_action, confirmation = await holder.press(entry_action, "5100#")
    assert "не узгоджується" not in confirmation
    _, receipt = await holder.choice(confirm_action, "confirm")
    assert "Номер квитанції" in receipt
    values = sorted(r["value_1"] for r in await readings_of(fixture.meter_id))
    assert values == [51000, 990000]

    clock.advance(timedelta(days=1))  # a stranger again, then the holder asks for the latest
    stranger = Call(phone, "CA-huge-again", new_number())
    entry_action, _ = await stranger.reaches_the_entry(fixture.account_number)
    confirm_action, _ = await stranger.press(entry_action, "99500#")
    await stranger.choice(confirm_action, "confirm")
    asking = Call(phone, "CA-latest", "+380501110099")
    language_action, _ = gather_of(await asking.post("/ivr/voice"))
    menu_action, _ = await asking.press(language_action, "1")
    latest_action, heard = await asking.choice(menu_action, "menu:status")
    if "Введіть номер" in heard:
        _, heard = await asking.press(latest_action, fixture.account_number + "#")
    assert "5100" in heard and "99500" not in heard and "99000" not in heard
