"""A reminder that waited in the outbox is asked again, when its turn comes, whether it is
still due: by the rule it was queued by. Replies are never dropped."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tests.core.outbox.conftest import linked_identity

from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.outbox import send_due, send_reminders
from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.identities import set_reminders
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import (
    Account,
    DialogState,
    LinkedAccount,
    MessengerIdentity,
    OutboxMessage,
)
from pokaznyk_core.testing import FixedClock, MeterFixture
from pokaznyk_core.testing_platforms import FakeGraph, FakeTelegram

Change = Callable[[ServiceContext, FixedClock, str, MeterFixture], Awaitable[None]]


@pytest.fixture(autouse=True)
async def only_this_tests_customer(platforms_context: ServiceContext) -> None:
    """The reminders are queued for this test's customer alone (the database is the
    module's)."""
    await LinkedAccount.delete(force=True)


async def identity_of(user: str) -> int:
    row = await MessengerIdentity.select(MessengerIdentity.id).where(
        MessengerIdentity.platform_user_id == user
    )
    return int(row[0]["id"])


async def reading(
    context: ServiceContext,
    fixture: MeterFixture,
    *,
    channel: Channel = Channel.WEB_FORM,
    flags: frozenset[Flag] = frozenset(),
    day: date = date(2026, 10, 30),
) -> None:
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=fixture.meter_id,
            values={zone: Decimal("10") for zone in fixture.zones},
            channel=channel,
            submitted_by="test",
            taken_on=day,
            extra_flags=flags,
        ),
    )
    assert outcome.stored


async def window_closed(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    clock.advance(timedelta(days=10))  # the channel's token was unset for days


async def switched_off(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    await set_reminders(await identity_of(user), False)


async def submitted(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    await reading(context, fixture)


async def unlinked(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    await LinkedAccount.delete().where(LinkedAccount.account == fixture.account_id)


async def closed(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    await Account.update({Account.status: "closed"}).where(Account.id == fixture.account_id)


async def nothing(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    return None


async def a_reading_that_will_not_count(
    context: ServiceContext, clock: FixedClock, user: str, fixture: MeterFixture
) -> None:
    """A phone caller not on the account: billing waits for a reviewer, so the customer
    is still reminded (as when reminders are queued)."""
    await reading(
        context, fixture, channel=Channel.IVR, flags=frozenset({Flag.UNVERIFIED_SUBMITTER})
    )


CHANGES: list[Change] = [window_closed, switched_off, submitted, unlinked, closed]


async def run_out(context: ServiceContext) -> None:
    async with httpx.AsyncClient() as client:
        while await send_due(context, client, limiter=RateLimiter(limits={})):
            pass


async def reminder_row(user: str) -> dict[str, Any]:
    row = await (
        OutboxMessage.select()
        .where(OutboxMessage.recipient == user)
        .where(OutboxMessage.dedupe_key.like("remind:%"))
        .first()
    )
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (window_closed, "window"),
        (switched_off, "switched reminders off"),
        (submitted, "has a reading"),
        (unlinked, "no longer linked"),
        (closed, "closed"),
    ],
)
async def test_a_reminder_no_longer_due_when_its_turn_comes_is_skipped_with_the_reason(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
    change: Change,
    why: str,
) -> None:
    user = str(8101 + CHANGES.index(change))  # a Telegram chat id of its own
    fixture = await linked_identity(platforms_context, user)
    assert (await send_reminders(platforms_context)).queued == 1
    await change(platforms_context, clock, user, fixture)
    reply = {"reply": {"text": "Дякуємо", "buttons": []}, "kind": "reply"}
    await enqueue("telegram", user, reply, now=platforms_context.now())

    await run_out(platforms_context)

    assert [m["text"] for m in fake_telegram.sent_messages()] == ["Дякуємо"]  # never dropped
    skipped = await reminder_row(user)
    assert skipped["status"] == "skipped"
    assert why in skipped["last_error"]


@pytest.mark.parametrize("change", [nothing, a_reading_that_will_not_count])
async def test_a_reminder_still_due_is_sent(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
    change: Change,
) -> None:
    user = "8201" if change is nothing else "8202"  # a Telegram chat id
    fixture = await linked_identity(platforms_context, user)
    await send_reminders(platforms_context)
    await change(platforms_context, clock, user, fixture)

    await run_out(platforms_context)

    [sent] = fake_telegram.sent_messages()
    assert sent["chat_id"] == int(user) and fixture.account_number in sent["text"]
    assert (await reminder_row(user))["status"] == "sent"


async def test_a_worker_whose_window_is_set_shorter_skips_a_reminder_of_a_closed_window(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    """POKAZNYK_WINDOW_DAYS_AFTER_MONTH_START=0 for the worker: on 1 November the window
    it knows closed with October, whatever the process that queued the reminder said."""
    await linked_identity(platforms_context, "8301")
    await send_reminders(platforms_context)
    clock.instant = clock.instant.replace(month=11, day=1)
    settings = replace(platforms_context.settings, window_days_after_month_start=0)
    worker = ServiceContext(settings=settings, clock=clock)

    await run_out(worker)

    assert fake_telegram.sent_messages() == []
    assert (await reminder_row("8301"))["status"] == "skipped"


async def test_a_reminder_queued_before_it_named_its_account_is_checked_by_its_key(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fixture = await linked_identity(platforms_context, "8401")
    await send_reminders(platforms_context)
    row = await reminder_row("8401")
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    older = {k: v for k, v in payload.items() if k not in ("identity", "account")}
    await OutboxMessage.update({OutboxMessage.payload: json.dumps(older)}).where(
        OutboxMessage.id == row["id"]
    )
    await reading(platforms_context, fixture)

    await run_out(platforms_context)

    assert fake_telegram.sent_messages() == []
    assert (await reminder_row("8401"))["status"] == "skipped"


async def test_a_messenger_reminder_that_waited_past_a_day_of_silence_is_skipped(
    platforms_context: ServiceContext, fake_graph: FakeGraph, clock: FixedClock
) -> None:
    """Meta takes a message the page starts only within 24 hours of the person's last: a
    reminder that waited longer is recorded as skipped, not failed with Meta's refusal."""
    await linked_identity(platforms_context, "PS-8401", channel="messenger")
    await DialogState.insert(
        DialogState(
            channel="messenger",
            platform_user_id="PS-8401",
            state="{}",
            version=1,
            updated_at=platforms_context.now(),  # the person wrote just now
        )
    )
    assert (await send_reminders(platforms_context)).queued == 1
    clock.advance(timedelta(hours=25))  # the channel's token was unset, say; still the window

    await run_out(platforms_context)

    assert fake_graph.requests == []
    skipped = await reminder_row("PS-8401")
    assert skipped["status"] == "skipped" and "Messenger" in skipped["last_error"]
