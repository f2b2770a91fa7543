"""Whole dialogs through the real webhooks of Telegram, Viber and Messenger.

Each test runs once per platform: the dialog is one, defined in the core, so every
platform's customer is asked the same, stored the same and answered in the same words;
only the adapters differ (the platform's update format, signature and buttons).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tests.dashboard.webhooks.chats import (
    Chat,
    MessengerChat,
    TelegramChat,
    ViberChat,
    confirm_button,
    payloads,
    texts,
)

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import Reading, ReadingEvidence
from pokaznyk_core.testing import FixedClock, make_meter_fixture

A_MONTH_AGO = date(2026, 9, 30)  # the fixed clock says 30 October 2026
_users = count(1)

CHATS: dict[str, Callable[[httpx.AsyncClient, int], Chat]] = {
    "telegram": lambda web, n: TelegramChat(web, str(820_000 + n)),
    "viber": lambda web, n: ViberChat(web, f"4ViberUser{n:06d}="),
    "messenger": lambda web, n: MessengerChat(web, str(7_200_000_000_000_000 + n)),
}


@pytest.fixture(params=sorted(CHATS))
def chat(request: pytest.FixtureRequest, web: httpx.AsyncClient) -> Chat:
    """A new customer of one platform."""
    return CHATS[request.param](web, next(_users))


async def readings_of(meter_id: int) -> list[dict]:
    return await Reading.select().where(Reading.meter == meter_id)


async def flagged_reading(chat: Chat, context: ServiceContext) -> dict[str, Any]:
    """The customer verifies and sends 300 kWh a day for a month: flagged for review."""
    fixture = await make_meter_fixture(context, installed_on=A_MONTH_AGO)
    await chat.verifies(fixture)
    await chat.says("9000")
    await chat.presses("confirm")
    [reading] = await readings_of(fixture.meter_id)
    assert reading["status"] == "flagged"
    return reading


async def test_a_three_zone_reading_is_asked_zone_by_zone_and_stored_per_zone(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context, zone_count=3)
    await chat.verifies(fixture)

    half_peak_prompt = await chat.says("120,4")
    night_prompt = await chat.says("340")
    preview = await chat.says("560,1")
    assert "напівпік" in texts(half_peak_prompt).lower()
    assert "ніч" in texts(night_prompt).lower()
    assert all(v in texts(preview) for v in ("120,4", "340,0", "560,1"))
    receipt = await chat.presses("confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["value_2"], reading["value_3"]) == (1204, 3400, 5601)
    assert reading["consumption_total"] == 1204 + 3400 + 5601
    assert reading["receipt"] in texts(receipt)


async def test_no_consumption_repeats_the_previous_reading_with_one_tap(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context, initial={Zone.TOTAL: Decimal("4321.7")})
    await chat.verifies(fixture)

    preview = await chat.presses("zero")
    assert "4321,7" in texts(preview)
    assert "Споживання з попереднього показника немає" in texts(preview)
    receipt = await chat.presses("confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"]) == (43217, 0)
    assert reading["status"] == "accepted"
    assert reading["receipt"] in texts(receipt)


async def test_a_value_below_the_previous_is_refused_naming_the_previous_and_asked_again(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(
        web_context, initial={Zone.TOTAL: Decimal("500")}, installed_on=A_MONTH_AGO
    )
    await chat.verifies(fixture)

    refusal = await chat.says("400")
    assert "менший за попередній (500,0)" in texts(refusal)
    assert refusal[-1]["input_hint"] == "digits_decimal"
    assert await readings_of(fixture.meter_id) == []
    _version, state = await chat.dialog()
    assert state["stage"] == "enter_zone"

    await chat.submits("512")
    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["consumption_total"]) == (5120, 120)


async def test_a_four_digit_meter_that_wrapped_past_9999_is_stored_as_a_rollover(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(
        web_context,
        digits=4,
        decimals=0,
        initial={Zone.TOTAL: Decimal(9990)},
        installed_on=A_MONTH_AGO,
    )
    await chat.verifies(fixture)

    preview = await chat.says("25")
    assert "почав відлік з нуля" in texts(preview)
    receipt = await chat.presses(confirm_button(preview))

    [reading] = await readings_of(fixture.meter_id)
    assert (reading["value_1"], reading["rollover"]) == (25, True)
    assert reading["consumption_total"] == 35
    assert reading["status"] == "accepted"
    assert reading["receipt"] in texts(receipt)


async def test_a_value_far_above_the_household_cap_is_flagged_and_a_photo_is_attached(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context, installed_on=A_MONTH_AGO)
    await chat.verifies(fixture)

    preview = await chat.says("9000")  # 300 kWh a day for 30 days
    assert "значно більше, ніж зазвичай" in texts(preview)
    receipt = await chat.presses("confirm")

    [reading] = await readings_of(fixture.meter_id)
    assert reading["status"] == "flagged"
    assert "above_household_cap" in reading["flags"]
    said = texts(receipt)
    assert reading["receipt"] in said
    assert "перевіримо" in said
    assert "надіслати фото" in said

    ref = "https://media.example/meter-photo-1.jpg"
    thanks = await chat.sends_photo(ref)
    assert "фото додано" in texts(thanks)
    [evidence] = await ReadingEvidence.select().where(ReadingEvidence.reading == reading["id"])
    assert (evidence["content"], evidence["content_type"]) == (ref, f"{chat.channel}/file-ref")


async def test_a_submission_is_cancelled_from_the_confirmation_and_started_again(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    await chat.verifies(fixture)
    await chat.says("950")  # at the confirmation now

    cancelled = await chat.says("скасувати")
    _version, state = await chat.dialog()
    assert state["stage"] == "menu"
    assert "скасовано" in texts(cancelled).lower()

    again = await chat.presses("menu:submit")
    _version, state = await chat.dialog()
    assert state["stage"] == "enter_zone"
    assert "zero" in payloads(again)
    assert await readings_of(fixture.meter_id) == []


async def test_a_value_far_above_the_meters_usual_is_questioned_before_it_is_sent(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(
        web_context, installed_on=date(2026, 3, 31), initial={Zone.TOTAL: Decimal("0")}
    )
    for month in range(4, 10):  # month ends, April to September: 10 kWh a day
        taken_on = date(2026, month + 1, 1) - timedelta(days=1)
        await submit_reading(
            web_context,
            ReadingSubmission(
                reading_id=uuid4(),
                meter_id=fixture.meter_id,
                values={Zone.TOTAL: Decimal(10 * (taken_on - date(2026, 3, 31)).days)},
                channel=Channel.IMPORT,
                submitted_by="import:test",
                taken_on=taken_on,
            ),
        )
    await chat.verifies(fixture)  # the last reading: 1830 on 30 September

    usual = await chat.says("2130")
    assert "значно більше, ніж зазвичай" not in texts(usual)
    await chat.presses("reenter")
    unusual = await chat.says("3330")  # 50 kWh a day
    assert "значно більше, ніж зазвичай" in texts(unusual)
    await chat.presses("confirm")

    [reading] = [r for r in await readings_of(fixture.meter_id) if r["channel"] == chat.channel]
    assert (reading["status"], reading["flags"]) == ("flagged", "high_consumption")


async def test_a_burst_of_five_concurrent_presses_keeps_the_dialog_and_every_reply(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    await chat.verifies(fixture)
    one_menu = len(await chat.presses("menu"))
    version_before, state_before = await chat.dialog()
    replies_before = len(await chat.replies())

    burst = [chat.pressing("menu") for _ in range(5)]
    answers = await asyncio.gather(
        *(chat.web.post(path, content=body, headers=headers) for path, body, headers in burst)
    )

    assert [a.status_code for a in answers] == [200] * 5
    version, state = await chat.dialog()
    assert version == version_before + 5
    assert state == state_before
    assert len(await chat.replies()) == replies_before + 5 * one_menu


async def test_a_burst_of_presses_at_the_confirmation_stores_one_reading(
    chat: Chat, web_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(web_context)
    await chat.verifies(fixture)
    await chat.says("1234")

    burst = [chat.pressing("confirm") for _ in range(4)]
    answers = await asyncio.gather(
        *(chat.web.post(path, content=body, headers=headers) for path, body, headers in burst)
    )

    assert [a.status_code for a in answers] == [200] * 4
    [reading] = await readings_of(fixture.meter_id)
    assert reading["value_1"] == 12340
    receipts = [r for r in await chat.replies() if reading["receipt"] in r["text"]]
    assert len(receipts) == 1


async def test_a_flagged_reading_takes_three_photos_and_says_so_of_a_fourth(
    chat: Chat, web_context: ServiceContext
) -> None:
    reading = await flagged_reading(chat, web_context)

    for n in range(3):
        assert "фото додано" in texts(await chat.sends_photo(f"https://media.example/{n}.jpg"))
    fourth = await chat.sends_photo("https://media.example/3.jpg")
    fifth = await chat.sends_photo("https://media.example/4.jpg")

    assert "вже додано 3 фото" in texts(fourth)
    assert "вже додано 3 фото" in texts(fifth)
    attached = await ReadingEvidence.count().where(ReadingEvidence.reading == reading["id"])
    assert attached == 3


async def test_photos_picked_at_once_in_messenger_are_each_attached_up_to_the_limit(
    web: httpx.AsyncClient, web_context: ServiceContext
) -> None:
    chat = CHATS["messenger"](web, next(_users))
    reading = await flagged_reading(chat, web_context)
    images = [
        {"type": "image", "payload": {"url": f"https://media.example/{n}.jpg"}} for n in range(5)
    ]

    said = texts(await chat.send(chat.event({"attachments": images[:2]})))
    assert said.count("фото додано") == 2
    said = texts(await chat.send(chat.event({"attachments": images[2:]})))  # three more
    assert said.count("фото додано") == 1 and said.count("вже додано 3 фото") == 1
    attached = await ReadingEvidence.count().where(ReadingEvidence.reading == reading["id"])
    assert attached == 3

    await chat.says("привіт")
    await chat.presses("menu:submit")  # a new entry: the photos are not for it
    one = await chat.send(chat.event({"attachments": images[:1]}))
    five = await chat.send(chat.event({"attachments": images}))
    assert texts(five) == texts(one)  # said once, not for each photo


async def test_a_photo_of_a_flagged_reading_is_taken_after_a_greeting_or_an_hour_away(
    chat: Chat, web_context: ServiceContext, clock: FixedClock
) -> None:
    reading = await flagged_reading(chat, web_context)

    await chat.says("Добрий день!")
    after_greeting = await chat.sends_photo("https://media.example/a.jpg")
    clock.advance(timedelta(hours=1))  # went down to the meter
    after_an_hour = await chat.sends_photo("https://media.example/b.jpg")

    assert "фото додано" in texts(after_greeting)
    assert "фото додано" in texts(after_an_hour)
    assert "почнімо спочатку" not in texts(after_an_hour)
    attached = await ReadingEvidence.count().where(ReadingEvidence.reading == reading["id"])
    assert attached == 2


async def test_a_photo_during_the_next_entry_is_not_taken_for_the_flagged_reading(
    chat: Chat, web_context: ServiceContext
) -> None:
    reading = await flagged_reading(chat, web_context)
    await chat.presses("menu:submit")  # the next entry: its meter, not the last reading's

    answer = await chat.sends_photo("https://media.example/c.jpg")

    assert "фото додано" not in texts(answer)
    _version, state = await chat.dialog()
    assert state["stage"] == "enter_zone"
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == reading["id"]) == 0
