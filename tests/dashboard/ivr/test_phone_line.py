"""The phone line through the real app: Twilio's signature, TwiML, a whole call by keypad."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from tests.dashboard.ivr.calls import PUBLIC, TOKEN, Call, digit_for, gather_of
from tests.dashboard.webhooks.conftest import client_for

from pokaznyk_core.channels import ivr
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import OutboxMessage, Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture


async def test_refuses_an_unsigned_or_wrongly_signed_call_and_stores_nothing(
    phone: httpx.AsyncClient,
) -> None:
    before = await OutboxMessage.count()
    call = Call(phone, "CA-unsigned", "+380501112233")
    assert (await call.post("/ivr/voice", signed=False)).status_code == 403
    forged = await phone.post(
        "/ivr/voice", data=call.form(None), headers={"X-Twilio-Signature": "AAAA"}
    )
    assert forged.status_code == 403
    assert await OutboxMessage.count() == before


async def test_refuses_a_signed_body_over_one_mebibyte_and_stores_nothing(
    phone: httpx.AsyncClient,
) -> None:
    call = Call(phone, "CA-huge", "+380501112233")
    fields = call.form(None) | {"Padding": "x" * (1024 * 1024)}
    signature = ivr.signature(f"{PUBLIC}/ivr/voice", fields.items(), TOKEN)
    before = await OutboxMessage.count()
    response = await phone.post(
        "/ivr/voice", data=fields, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 413
    assert await OutboxMessage.count() == before


async def test_asks_for_the_language_first(phone: httpx.AsyncClient) -> None:
    action, said = gather_of(await Call(phone, "CA-lang", "+380501112233").post("/ivr/voice"))
    assert action == f"{PUBLIC}/ivr/language"
    assert "натисніть 1" in said and "press 2" in said


async def test_a_caller_from_the_accounts_phone_submits_by_keypad_and_hears_the_receipt(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380671234500",))
    call = Call(phone, "CA-whole-call", "+380671234500")
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, greeting = gather_of(await call.post(language_action, "1"))
    assert "натисніть" in greeting
    assert await digit_for(menu_action, call.caller, "menu:submit") == "2", "press 2 to submit"
    account_action, _ = gather_of(await call.post(menu_action, "2"))
    value_action, _ = gather_of(await call.post(account_action, fixture.account_number + "#"))
    confirm_response = await call.post(value_action, "1300*5#")
    confirm_action, confirm_said = gather_of(confirm_response)
    assert "натисніть 0" in confirm_said
    repeat_action, repeated = gather_of(await call.post(confirm_action, "0"))
    assert repeated == confirm_said and repeat_action == confirm_action
    assert await digit_for(confirm_action, call.caller, "confirm") == "1", "1 confirms"
    assert await digit_for(confirm_action, call.caller, "reenter") == "2", "2 re-enters"
    receipt_response = await call.post(
        confirm_action, await digit_for(confirm_action, call.caller, "confirm")
    )
    _, receipt_said = gather_of(receipt_response)
    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    assert reading["channel"] == "ivr"
    assert reading["value_1"] == 13005
    assert ", ".join(reading["receipt"]) in receipt_said

    again = await call.post(confirm_action, await digit_for(confirm_action, call.caller, "confirm"))
    assert again.text == receipt_response.text
    assert len(await Reading.select().where(Reading.meter == fixture.meter_id)) == 1


async def test_accepts_unsigned_requests_only_when_allowed_for_a_private_pbx(
    database: Database, clock: FixedClock
) -> None:
    settings = Settings(
        database_url=database.url, ivr_allow_unsigned=True, extra={"outbox_in_serve": "0"}
    )
    async for client in client_for(ServiceContext(settings=settings, clock=clock), database):
        response = await Call(client, "CA-pbx", "+380501112299").post("/ivr/voice", signed=False)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert ET.fromstring(response.text).find("Gather") is not None


async def test_a_caller_who_called_before_may_choose_english(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    first = Call(phone, "CA-first-uk", "+380501112277")
    language_action, _ = gather_of(await first.post("/ivr/voice"))
    _, greeting = gather_of(await first.post(language_action, "1"))
    assert "натисніть" in greeting

    second = Call(phone, "CA-second-en", "+380501112277")
    language_action, _ = gather_of(await second.post("/ivr/voice"))
    response = await second.post(language_action, "2")
    _, greeting = gather_of(response)
    assert "press" in greeting and "натисніть" not in greeting
    assert not any("а" <= ch.lower() <= "я" for ch in greeting)  # no Cyrillic to an English voice
    assert "Another language: press 5." in greeting
    languages = {say.get("language") for say in ET.fromstring(response.text).iter("Say")}
    assert languages == {"en-US"}


async def test_a_caller_trying_account_numbers_is_held_back_like_any_verification(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context)
    call = Call(phone, "CA-guessing", "+380931110000")
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, _ = gather_of(await call.post(language_action, "1"))
    action, _ = gather_of(await call.post(menu_action, "2"))
    for attempt in range(1, 5):
        action, said = gather_of(await call.post(action, f"99999999{attempt:02d}#"))
        assert "Такого особового рахунку немає" in said
        assert f"Залишилося спроб: {5 - attempt}." in said
    menu_action, said = gather_of(await call.post(action, "9999999905#"))
    assert "Забагато невдалих спроб" in said

    action, _ = gather_of(await call.post(menu_action, "2"))
    _, said = gather_of(await call.post(action, fixture.account_number + "#"))
    assert "Забагато невдалих спроб" in said, "even a real account waits out the cooldown"
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 0


async def test_a_caller_in_a_cooldown_still_reaches_an_account_that_has_their_number(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380931110055",))
    call = Call(phone, "CA-mistyped", "+380931110055")
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, _ = gather_of(await call.post(language_action, "1"))
    action, _ = gather_of(await call.post(menu_action, "2"))
    for attempt in range(1, 6):  # five mistyped account numbers: the caller's cooldown
        action, said = gather_of(await call.post(action, f"99999999{attempt:02d}#"))
    assert "Забагато невдалих спроб" in said

    action, _ = gather_of(await call.post(action, "2"))
    _, said = gather_of(await call.post(action, fixture.account_number + "#"))
    assert "Забагато невдалих спроб" not in said
    assert "Ваш номер телефону знайдено в цьому особовому рахунку" in said


async def test_zero_repeats_the_language_question_and_the_receipt_number(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380671234511",))
    call = Call(phone, "CA-repeat", "+380671234511")
    language_action, asked = gather_of(await call.post("/ivr/voice"))
    again_action, again = gather_of(await call.post(language_action, "0"))
    assert (again_action, again) == (language_action, asked)
    menu_action, _ = gather_of(await call.post(language_action, "1"))
    account_action, _ = gather_of(await call.post(menu_action, "2"))
    value_action, said = gather_of(await call.post(account_action, fixture.account_number + "#"))
    assert "Ваш номер телефону знайдено в цьому особовому рахунку" in said
    confirm_action, _ = gather_of(await call.post(value_action, "1300*5#"))
    menu_action, receipt_said = gather_of(await call.post(confirm_action, "1"))
    [reading] = await Reading.select().where(Reading.meter == fixture.meter_id)
    spelled = ", ".join(reading["receipt"])
    assert f"{spelled}. Щоб почути номер ще раз, натисніть 0." in receipt_said
    _, repeated = gather_of(await call.post(menu_action, "0"))
    assert spelled in repeated


async def test_a_sip_address_is_the_callers_number_only_from_the_companys_own_pbx(
    database: Database, clock: FixedClock, phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380671234522",))
    sip = "sip:+380671234522@pbx.example.com"

    async def heard_after_the_account(client: httpx.AsyncClient, sid: str, signed: bool) -> str:
        call = Call(client, sid, sip)
        language_action, _ = gather_of(await call.post("/ivr/voice", signed=signed))
        menu_action, _ = gather_of(await call.post(language_action, "1", signed=signed))
        account_action, _ = gather_of(await call.post(menu_action, "2", signed=signed))
        digits = fixture.account_number + "#"
        return gather_of(await call.post(account_action, digits, signed=signed))[1]

    assert "не бачимо вашого номера" in await heard_after_the_account(phone, "CA-sip-1", True)
    settings = Settings(
        database_url=database.url, ivr_allow_unsigned=True, extra={"outbox_in_serve": "0"}
    )
    pbx_context = ServiceContext(settings=settings, clock=clock)
    async for pbx in client_for(pbx_context, database):
        heard = await heard_after_the_account(pbx, "CA-sip-2", False)
        assert "Ваш номер телефону знайдено в цьому особовому рахунку" in heard


async def test_two_stars_go_back_to_the_menu_from_an_entry(
    phone: httpx.AsyncClient, phone_context: ServiceContext
) -> None:
    fixture = await make_meter_fixture(phone_context, phones=("+380671234577",))
    call = Call(phone, "CA-back-to-menu", "+380671234577")
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, _ = gather_of(await call.post(language_action, "1"))
    account_action, asked = gather_of(await call.post(menu_action, "2"))  # pressed by mistake
    assert "дві зірочки й решітку" in asked
    back_action, _ = gather_of(await call.post(account_action, "**#"))
    assert await digit_for(back_action, call.caller, "menu:submit") == "2"
    account_action, _ = gather_of(await call.post(back_action, "2"))
    value_action, _ = gather_of(await call.post(account_action, fixture.account_number + "#"))
    again_action, _ = gather_of(await call.post(value_action, "**#"))  # at a value too
    assert await digit_for(again_action, call.caller, "menu:submit") == "2"
    assert await Reading.count().where(Reading.meter == fixture.meter_id) == 0


async def test_a_key_that_is_no_choice_is_said_to_be_none_and_the_menu_offers_the_chats(
    phone: httpx.AsyncClient,
) -> None:
    call = Call(phone, "CA-wrong-key", "+380501112266")
    language_action, _ = gather_of(await call.post("/ivr/voice"))
    menu_action, _ = gather_of(await call.post(language_action, "1"))
    again_action, said = gather_of(await call.post(menu_action, "9"))
    assert said.startswith("Такого варіанта немає.")
    assert again_action == menu_action and "натисніть 2" in said

    contacts = await digit_for(menu_action, call.caller, "menu:contacts")
    _, said = gather_of(await call.post(menu_action, contacts))
    assert "0, 8, 0, 0, 3, 0, 0, 0, 1, 5" in said
    assert "@" not in said and "чат-бот" in said, "no e-mail spelled to a caller"
