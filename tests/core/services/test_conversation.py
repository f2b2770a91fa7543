"""Whole dialogs through `handle_incoming`, on both database engines."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.dialog import DialogState, Incoming, IncomingKind, Stage
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.conversation import ConversationResult, handle_incoming
from pokaznyk_core.storage.tables import DialogState as DialogStateRow
from pokaznyk_core.storage.tables import (
    LinkedAccount,
    MessengerIdentity,
    OutboxMessage,
    Reading,
    ReadingEvidence,
    VerificationFailure,
)
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

T = Zone.TOTAL


def tap(payload: str) -> Incoming:
    return Incoming(IncomingKind.BUTTON, payload=payload)


def said(result: ConversationResult) -> str:
    return "\n".join(r.text for r in result.replies)


class Customer:
    """One platform user talking to the service."""

    def __init__(self, context: ServiceContext, channel: Channel = Channel.TELEGRAM) -> None:
        self.context = context
        self.channel = channel
        self.user = uuid4().hex[:12]
        self.caller: str | None = None

    async def say(
        self, message: Incoming | str, *, key: str | None = None, enqueue: bool = True
    ) -> ConversationResult:
        incoming = (
            Incoming(IncomingKind.TEXT, text=message) if isinstance(message, str) else message
        )
        return await handle_incoming(
            self.context,
            self.channel,
            self.user,
            incoming,
            update_key=key or uuid4().hex,
            enqueue=enqueue,
            caller_verified_phone=self.caller,
        )

    async def state(self) -> tuple[DialogState, int]:
        row = (
            await DialogStateRow.select()
            .where(
                (DialogStateRow.channel == self.channel.value)
                & (DialogStateRow.platform_user_id == self.user)
            )
            .first()
        )
        assert row is not None
        raw = row["state"]
        return DialogState.from_json(json.loads(raw) if isinstance(raw, str) else raw), row[
            "version"
        ]

    async def outbox(self) -> int:
        return int(await OutboxMessage.count().where(OutboxMessage.recipient == self.user))

    async def verify(self, meter: MeterFixture) -> ConversationResult:
        await self.say(Incoming(IncomingKind.START))
        await self.say(tap("menu:submit"))
        await self.say(meter.account_number)
        return await self.say(meter.surname)


async def readings_of(meter: MeterFixture) -> list[dict[str, object]]:
    return await Reading.select().where(Reading.meter == meter.meter_id)


async def test_verifies_and_submits_a_one_zone_reading(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("1000.0")})
    customer = Customer(context)
    verified = await customer.verify(meter)
    assert "1000,0" in said(verified)
    preview = await customer.say("1100,5")
    assert "100,5" in said(preview)
    receipt = await customer.say(tap("confirm"))
    rows = await readings_of(meter)
    assert len(rows) == 1
    assert (
        rows[0]["channel"] == "telegram" and rows[0]["submitted_by"] == f"telegram:{customer.user}"
    )
    assert rows[0]["value_1"] == 11005 and rows[0]["status"] == "accepted"
    assert str(rows[0]["receipt"]) in said(receipt)
    state, _ = await customer.state()
    assert state.stage is Stage.MENU
    links = await LinkedAccount.count().where(LinkedAccount.account == meter.account_id)
    assert links == 1


async def test_linking_an_account_already_linked_says_so(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context)
    customer = Customer(context)
    first = await customer.verify(meter)
    assert translate("dialog.verified", "uk") in said(first)
    await customer.say(tap("menu:link"))
    await customer.say(meter.account_number)
    again = await customer.say(meter.surname)
    assert translate("dialog.verified_again", "uk") in said(again)
    assert translate("dialog.verified", "uk") not in said(again)
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 1


async def test_writes_every_reply_to_the_outbox(context: ServiceContext) -> None:
    customer = Customer(context)
    result = await customer.say("привіт")
    rows = await OutboxMessage.select().where(OutboxMessage.recipient == customer.user)
    assert len(rows) == len(result.replies) >= 1
    payload = (
        json.loads(rows[0]["payload"])
        if isinstance(rows[0]["payload"], str)
        else rows[0]["payload"]
    )
    assert payload["reply"]["text"] == result.replies[0].text
    assert rows[0]["status"] == "pending" and rows[0]["channel"] == "telegram"


async def test_a_wrong_surname_and_an_unknown_account_get_the_same_answer(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context)
    wrong_surname, unknown = Customer(context), Customer(context)
    for customer, number in ((wrong_surname, meter.account_number), (unknown, "9999999999")):
        await customer.say(tap("menu:link"))
        await customer.say(number)
    first = await wrong_surname.say("Шевченко")
    second = await unknown.say("Шевченко")
    assert said(first) == said(second)
    assert translate("verification.failed", "uk") in said(first)
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 0


async def test_five_failures_start_a_cooldown(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context)
    customer = Customer(context)
    await customer.say(tap("menu:link"))
    for _ in range(5):
        await customer.say(meter.account_number)
        last = await customer.say("Шевченко")
    cooldown = render(Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}), "uk")
    assert cooldown in said(last)
    await customer.say(tap("menu:link"))
    await customer.say(meter.account_number)
    held = await customer.say(meter.surname)
    assert cooldown in said(held)


async def test_the_account_number_and_the_surname_may_come_in_one_message(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context)
    asked, at_menu = Customer(context), Customer(context)
    await asked.say(tap("menu:link"))
    await asked.say(f"{meter.account_number} {meter.surname}")
    await at_menu.say(Incoming(IncomingKind.START))
    # unasked (the menu, a first message), the words beside a number may be a greeting:
    # the surname is asked, and nothing counted
    asked_again = await at_menu.say(f"{meter.surname}, {meter.account_number}")
    assert translate("dialog.ask_surname", "uk") in said(asked_again)
    await at_menu.say(f"{meter.surname}.")  # a stop after it, as people write
    linked = await LinkedAccount.select(LinkedAccount.identity).where(
        LinkedAccount.account == meter.account_id
    )
    assert len(linked) == 2


async def test_an_account_number_among_other_words_asks_the_surname_and_counts_nothing(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context)
    first = Customer(context)
    greeted = await first.say(f"Добрий день, {meter.account_number}")
    assert translate("dialog.ask_surname", "uk") in said(greeted)
    at_menu = Customer(context)
    await at_menu.say(Incoming(IncomingKind.START))
    asked = await at_menu.say(f"Мій рахунок {meter.account_number}, дякую")
    assert translate("dialog.ask_surname", "uk") in said(asked)
    failures = VerificationFailure.count().where(
        VerificationFailure.account_key == meter.account_number
    )
    assert await failures == 0
    await at_menu.say(meter.surname)
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 1


async def test_digits_at_the_surname_question_are_no_failed_attempt(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context)
    customer = Customer(context)
    await customer.say(tap("menu:link"))
    await customer.say(meter.account_number)
    again = await customer.say(meter.account_number)  # thought lost: sent again
    assert said(again) == translate("dialog.ask_surname", "uk")
    typo = await customer.say("12345")
    assert translate("dialog.surname_in_letters", "uk") in said(typo)
    assert translate("dialog.ask_surname", "uk") in said(typo)
    assert (
        await VerificationFailure.count().where(
            VerificationFailure.account_key == meter.account_number
        )
        == 0
    )
    await customer.say(meter.surname)
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 1


async def test_a_user_in_a_cooldown_is_told_before_typing_in_vain(
    context: ServiceContext, clock: FixedClock
) -> None:
    meter = await make_meter_fixture(context)
    telegram, viber = Customer(context), Customer(context, Channel.VIBER)
    for customer in (telegram, viber):
        await customer.say(tap("menu:link"))
        for _ in range(5):
            await customer.say(meter.account_number)
            await customer.say("Шевченко")
    clock.advance(timedelta(minutes=20))
    cooldown = render(Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 40}), "uk")
    ask_surname = translate("dialog.ask_surname", "uk")

    # Telegram proves a shared contact is the sender's own: that way stays open.
    offer = await telegram.say(tap("menu:submit"))
    assert cooldown in said(offer)
    assert translate("dialog.locked_share_phone", "uk") in said(offer)
    assert offer.replies[-1].request_contact
    typed = await telegram.say(meter.account_number)
    assert cooldown in said(typed) and ask_surname not in said(typed)

    # Viber has no such way: back to the menu, and an account number typed there is told too.
    told = await viber.say(tap("menu:link"))
    assert cooldown in said(told)
    assert (await viber.state())[0].stage is Stage.MENU
    typed = await viber.say(meter.account_number)
    assert cooldown in said(typed) and ask_surname not in said(typed)

    clock.advance(timedelta(minutes=41))  # over: asked as ever, and verified
    again = await viber.say(tap("menu:link"))
    assert cooldown not in said(again)
    await viber.say(meter.account_number)
    verified = await viber.say(meter.surname)
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 1, said(
        verified
    )


async def test_submits_a_three_zone_reading(context: ServiceContext) -> None:
    initial = {
        Zone.PEAK: Decimal("300.0"),
        Zone.HALF_PEAK: Decimal("200.0"),
        Zone.NIGHT: Decimal("100.0"),
    }
    meter = await make_meter_fixture(context, zone_count=3, initial=initial)
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say("310")
    await customer.say("205,5")
    await customer.say("150")
    await customer.say(tap("confirm"))
    rows = await readings_of(meter)
    assert [(r["value_1"], r["value_2"], r["value_3"]) for r in rows] == [(3100, 2055, 1500)]


async def test_no_consumption_repeats_the_previous_reading(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("777.7")})
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say(tap("zero"))
    await customer.say(tap("confirm"))
    rows = await readings_of(meter)
    assert [(r["value_1"], r["status"], r["flags"]) for r in rows] == [(7777, "accepted", "")]


async def test_a_too_low_value_is_explained_and_entered_again(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("5000.0")})
    customer = Customer(context)
    await customer.verify(meter)
    low = await customer.say("4000")
    problem = Problem(Code.READING_TOO_LOW, {"zone": "total", "previous": "5000.0"})
    assert render(problem, "uk") in said(low)
    state, _ = await customer.state()
    assert state.stage is Stage.ENTER_ZONE
    await customer.say("5001")
    await customer.say(tap("confirm"))
    assert [r["value_1"] for r in await readings_of(meter)] == [50010]


async def test_accepts_a_rollover(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context,
        digits=4,
        decimals=0,
        initial={T: Decimal("9950")},
        installed_on=date(2026, 9, 30),
    )
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say("0120")
    await customer.say(tap("confirm"))
    rows = await readings_of(meter)
    assert [(r["value_1"], r["rollover"]) for r in rows] == [(120, True)]


async def test_a_flagged_reading_takes_a_photo(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 9, 30)
    )
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say("90000")
    flagged = await customer.say(tap("confirm"))
    assert translate("dialog.photo_offer", "uk") in said(flagged)
    thanks = await customer.say(Incoming(IncomingKind.PHOTO, photo_ref="AgAD-file-id"))
    assert translate("dialog.photo_attached", "uk") in said(thanks)
    rows = await readings_of(meter)
    assert rows[0]["status"] == "flagged"
    evidence = await ReadingEvidence.select().where(ReadingEvidence.reading == rows[0]["id"])
    assert [e["content"] for e in evidence] == ["AgAD-file-id"]


async def test_a_redelivered_update_changes_nothing(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say("150")
    first = await customer.say(tap("confirm"), key="update-1")
    before = (await customer.state(), await customer.outbox())
    again = await customer.say(tap("confirm"), key="update-1")
    assert again.duplicate and again.replies == () and not first.duplicate
    assert (await customer.state(), await customer.outbox()) == before
    assert len(await readings_of(meter)) == 1


async def test_a_double_tapped_confirmation_stores_one_reading(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    customer = Customer(context)
    await customer.verify(meter)
    await customer.say("150")
    await asyncio.gather(customer.say(tap("confirm")), customer.say(tap("confirm")))
    assert len(await readings_of(meter)) == 1


async def test_a_burst_of_messages_from_one_user_keeps_the_state_whole(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, zone_count=3)
    customer = Customer(context)
    await customer.verify(meter)
    _, version = await customer.state()
    results = await asyncio.gather(*(customer.say(str(100 + i)) for i in range(5)))
    state, after = await customer.state()
    assert after == version + 5
    assert not any(r.duplicate for r in results)
    assert state.stage in (Stage.ENTER_ZONE, Stage.CONFIRM)
    assert DialogState.from_json(state.to_json()) == state


async def test_the_first_messages_of_a_new_user_at_once_make_one_identity(
    context: ServiceContext,
) -> None:
    customer = Customer(context)
    await asyncio.gather(*(customer.say("привіт") for _ in range(3)))
    count = await MessengerIdentity.count().where(
        MessengerIdentity.platform_user_id == customer.user
    )
    assert count == 1
    _, version = await customer.state()
    assert version == 3


async def test_looks_up_a_receipt_typed_at_the_menu(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    submitter = Customer(context)
    await submitter.verify(meter)
    await submitter.say("150")
    await submitter.say(tap("confirm"))
    receipt = str((await readings_of(meter))[0]["receipt"])
    stranger = Customer(context)
    await stranger.say("привіт")
    status = await stranger.say(receipt.lower())
    assert receipt in said(status) and translate("dialog.status.accepted", "uk") in said(status)
    assert "T-" not in said(status)  # no meter serial for someone not linked


async def test_remembers_the_language_chosen(context: ServiceContext) -> None:
    customer = Customer(context)
    await customer.say("привіт")
    switched = await customer.say("English")
    assert switched.replies[-1].locale == "en"
    identity = (
        await MessengerIdentity.select()
        .where(MessengerIdentity.platform_user_id == customer.user)
        .first()
    )
    assert identity is not None and identity["language"] == "en"
    await DialogStateRow.delete().where(DialogStateRow.platform_user_id == customer.user)
    again = await customer.say("hello")
    assert translate("dialog.greeting", "en") in said(again)


async def test_a_caller_whose_number_is_on_the_account_is_verified(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    caller = Customer(context, Channel.IVR)
    caller.caller = "+380501234567"
    await caller.say(Incoming(IncomingKind.START), enqueue=False)
    await caller.say(tap("menu:submit"), enqueue=False)
    asked = await caller.say(meter.account_number, enqueue=False)
    assert "100,0" in said(asked)
    await caller.say("150.5", enqueue=False)  # as the phone line hands on 150*5
    await caller.say(tap("confirm"), enqueue=False)
    rows = await readings_of(meter)
    assert [(r["channel"], r["status"], r["value_1"]) for r in rows] == [("ivr", "accepted", 1505)]
    assert await caller.outbox() == 0


async def test_another_caller_submits_flagged_and_hears_no_account_data(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("1234.5")})
    caller = Customer(context, Channel.IVR)
    caller.caller = "+380679998877"
    await caller.say(tap("menu:submit"), enqueue=False)
    asked = await caller.say(meter.account_number, enqueue=False)
    assert "1234" not in said(asked) and "T-" not in said(asked)
    await caller.say("1300", enqueue=False)
    receipt = await caller.say(tap("confirm"), enqueue=False)
    assert translate("dialog.unverified_check", "uk") in said(receipt)
    rows = await readings_of(meter)
    assert [(r["status"], r["flags"]) for r in rows] == [("flagged", "unverified_submitter")]
    assert await LinkedAccount.count().where(LinkedAccount.account == meter.account_id) == 0


async def test_a_callers_account_holds_for_the_call_only_and_the_next_call_names_another(
    context: ServiceContext,
) -> None:
    phone = "+380501239876"
    home = await make_meter_fixture(context, initial={T: Decimal("100.0")}, phones=(phone,))
    parents = await make_meter_fixture(context, initial={T: Decimal("700.0")}, phones=(phone,))
    caller = Customer(context, Channel.IVR)
    caller.caller = phone
    await caller.say(Incoming(IncomingKind.START), enqueue=False)
    await caller.say(tap("menu:submit"), enqueue=False)
    asked = await caller.say(home.account_number, enqueue=False)
    assert translate("dialog.caller_verified", "uk") in said(asked) and "100,0" in said(asked)

    await caller.say(Incoming(IncomingKind.START), enqueue=False)  # the next call
    again = await caller.say(tap("menu:submit"), enqueue=False)
    assert (await caller.state())[0].stage is Stage.ASK_ACCOUNT, said(again)
    asked = await caller.say(parents.account_number, enqueue=False)
    assert "700,0" in said(asked)
    await caller.say("750", enqueue=False)
    await caller.say(tap("confirm"), enqueue=False)
    assert [r["value_1"] for r in await readings_of(parents)] == [7500]
    linked = LinkedAccount.account.is_in([home.account_id, parents.account_id])
    assert await LinkedAccount.count().where(linked) == 0


async def test_a_caller_hears_readings_and_bills_only_from_the_accounts_own_number(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    own, other = Customer(context, Channel.IVR), Customer(context, Channel.IVR)
    own.caller, other.caller = "+380501234567", "+380679998877"
    for caller in (own, other):
        await caller.say(Incoming(IncomingKind.START), enqueue=False)
        asked = await caller.say(tap("menu:status"), enqueue=False)
        assert (await caller.state())[0].stage is Stage.ASK_ACCOUNT, said(asked)
    heard = await own.say(meter.account_number, enqueue=False)
    assert translate("dialog.no_readings", "uk") in said(heard)
    refused = await other.say(meter.account_number, enqueue=False)
    assert said(refused).startswith(translate("dialog.status_own_phone", "uk"))
    assert (await other.state())[0].stage is Stage.MENU


async def test_a_caller_not_on_the_account_cannot_search_out_its_reading_by_refusals(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("5000.0")})
    caller = Customer(context, Channel.IVR)
    caller.caller = "+380679990011"
    await caller.say(tap("menu:submit"), enqueue=False)
    await caller.say(meter.account_number, enqueue=False)
    for attempt in range(1, 5):
        await caller.say("4000", enqueue=False)  # lower than the stored reading
        refused = await caller.say(tap("confirm"), enqueue=False)
        assert translate("dialog.guest_rejected", "uk") in said(refused)
        assert f"Залишилося спроб: {5 - attempt}." in said(refused)
    await caller.say("4500", enqueue=False)
    held = await caller.say(tap("confirm"), enqueue=False)
    assert "Забагато невдалих спроб" in said(held)
    await caller.say(tap("menu:submit"), enqueue=False)  # the account is asked again
    again = await caller.say(meter.account_number, enqueue=False)
    assert "Забагато невдалих спроб" in said(again)  # the cooldown holds the next try too
    assert await readings_of(meter) == []
