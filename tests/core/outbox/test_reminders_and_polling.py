"""Reminders when the window opens, and long polling feeding the webhook's path."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from tests.core.outbox.conftest import linked_identity, queue_thanks, until_sent

from pokaznyk_core.cli import platforms
from pokaznyk_core.cli.platforms import _poll_round, poll_once, poll_updates
from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.outbox import reminders, run_worker, send_reminders
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import DialogState, LinkedAccount, OutboxMessage
from pokaznyk_core.testing import FixedClock, MeterFixture
from pokaznyk_core.testing_platforms import FakeTelegram


async def reminders_to(user: str) -> int:
    return (
        await OutboxMessage.count()
        .where(OutboxMessage.recipient == user)
        .where(OutboxMessage.dedupe_key.like("remind:%"))
    )


def row_account(row: dict[str, object]) -> str:
    """The account id a reminder's dedupe key names (remind:<period>:<identity>:<account>)."""
    return str(row["dedupe_key"]).rsplit(":", 1)[1]


async def test_reminds_an_opted_in_linked_user_once_per_window(
    platforms_context: ServiceContext,
) -> None:
    await linked_identity(platforms_context, "rem-1")
    await linked_identity(platforms_context, "rem-2", reminders=False)
    assert (await send_reminders(platforms_context)).queued >= 1
    assert (await send_reminders(platforms_context)).queued == 0
    assert await reminders_to("rem-1") == 1
    assert await reminders_to("rem-2") == 0
    [row] = await OutboxMessage.select().where(OutboxMessage.recipient == "rem-1")
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    reply = payload["reply"]
    assert "р.." not in reply["text"] and "р." in reply["text"]
    [[button]] = reply["buttons"]  # one tap starts the submission, on the account it names
    assert button["payload"] == f"menu:submit:{row_account(row)}"


async def test_reminds_everyone_however_many_pages_the_links_take(
    platforms_context: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [f"paged-{n}" for n in range(5)]
    for user in users:
        await linked_identity(platforms_context, user)
    await linked_identity(platforms_context, "paged-off", reminders=False)
    monkeypatch.setattr(reminders, "CANDIDATES_PAGE", 2)

    await send_reminders(platforms_context)

    assert [await reminders_to(user) for user in users] == [1] * 5
    assert await reminders_to("paged-off") == 0


async def test_does_not_remind_of_an_account_that_has_its_reading_already(
    platforms_context: ServiceContext,
) -> None:
    submitted = await linked_identity(platforms_context, "rem-4")
    await linked_identity(platforms_context, "rem-5")
    await submit_reading(
        platforms_context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=submitted.meter_id,
            values={zone: Decimal("10") for zone in submitted.zones},
            channel=Channel.WEB_FORM,
            submitted_by="web:test",
        ),
    )
    await send_reminders(platforms_context)
    assert await reminders_to("rem-4") == 0
    assert await reminders_to("rem-5") == 1


async def test_reminds_of_an_account_whose_reading_will_not_count_for_the_period(
    platforms_context: ServiceContext,
) -> None:
    """Billing counts only the customer's own in-window reading: one taken before the
    window opened, or a flagged one from a phone caller not on the account, leaves the bill
    estimated, so the customer is still reminded."""
    early = await linked_identity(platforms_context, "rem-early")
    stranger = await linked_identity(platforms_context, "rem-stranger")
    own = await linked_identity(platforms_context, "rem-own")

    async def reading(
        fixture: MeterFixture, channel: Channel, flags: frozenset[Flag] = frozenset(), day: int = 30
    ) -> None:
        outcome = await submit_reading(
            platforms_context,
            ReadingSubmission(
                reading_id=uuid4(),
                meter_id=fixture.meter_id,
                values={zone: Decimal("10") for zone in fixture.zones},
                channel=channel,
                submitted_by="test",
                taken_on=date(2026, 10, day),
                extra_flags=flags,
            ),
        )
        assert outcome.stored

    await reading(early, Channel.WEB_FORM, day=27)  # 2026-10, but off-window
    await reading(stranger, Channel.IVR, frozenset({Flag.UNVERIFIED_SUBMITTER}))
    await reading(own, Channel.WEB_FORM)

    await send_reminders(platforms_context)

    assert await reminders_to("rem-early") == 1
    assert await reminders_to("rem-stranger") == 1
    assert await reminders_to("rem-own") == 0


async def test_does_not_remind_outside_the_window(
    platforms_context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    await linked_identity(platforms_context, "rem-3")
    assert (await send_reminders(platforms_context)).queued == 0
    assert await reminders_to("rem-3") == 0


async def messenger_user_last_wrote(user: str, at: datetime) -> None:
    await DialogState.insert(
        DialogState(channel="messenger", platform_user_id=user, state="{}", updated_at=at)
    )


async def test_reminds_a_messenger_user_only_within_a_day_of_their_last_message(
    platforms_context: ServiceContext, clock: FixedClock
) -> None:
    now = platforms_context.now()
    await linked_identity(platforms_context, "psid-recent", channel="messenger")
    await messenger_user_last_wrote("psid-recent", now - timedelta(hours=2))
    await linked_identity(platforms_context, "psid-silent", channel="messenger")
    await messenger_user_last_wrote("psid-silent", now - timedelta(days=2))

    first = await send_reminders(platforms_context)
    assert first.messenger_silent == 1
    assert await reminders_to("psid-recent") == 1
    assert await reminders_to("psid-silent") == 0

    # The silent one writes during the window: the next round reminds them.
    await DialogState.update({DialogState.updated_at: now + timedelta(hours=1)}).where(
        DialogState.platform_user_id == "psid-silent"
    )
    clock.instant = now + timedelta(hours=1, minutes=5)
    second = await send_reminders(platforms_context)
    assert (second.queued, second.messenger_silent) == (1, 0)
    assert await reminders_to("psid-silent") == 1


def start_update(update_id: int, user_id: int) -> dict[str, object]:
    message = {
        "message_id": 1,
        "from": {"id": user_id, "is_bot": False, "first_name": "Олена"},
        "chat": {"id": user_id, "type": "private"},
        "date": 1,
        "text": "/start",
    }
    return {"update_id": update_id, "message": message}


async def test_polling_hands_updates_to_the_dialog_and_moves_the_offset(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.updates.append(start_update(500, 990_001))
    async with httpx.AsyncClient() as client:
        handled, offset = await _poll_round(client, platforms_context, 0, wait_seconds=0)
        assert (handled, offset) == (1, 501)
        assert await _poll_round(client, platforms_context, offset, wait_seconds=0) == (0, 501)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "990001") >= 1


async def test_polling_once_confirms_the_updates_it_handled_so_the_next_run_gets_new_ones(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    """`telegram poll --once` from cron starts from Telegram's first unconfirmed update
    every run: what it handled must be confirmed, or every run reads it again and, past
    Telegram's 100 a call, nothing new ever arrives."""
    fake_telegram.updates += [start_update(n, 990_000 + n) for n in (600, 601, 602)]
    async with httpx.AsyncClient() as client:
        assert await poll_once(client, platforms_context) == 3
        assert fake_telegram.updates == []  # confirmed: Telegram forgets them

        fake_telegram.updates.append(start_update(603, 990_603))
        assert await poll_once(client, platforms_context) == 1
    read = [call.json() for call in fake_telegram.calls("/getUpdates")]
    assert read[-1] == {"offset": 604, "timeout": 0, "limit": 1}
    assert fake_telegram.updates == []
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "990603") >= 1


async def test_polling_passes_over_an_update_that_always_fails_but_retries_a_passing_failure(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_dispatch = platforms.dispatch
    database_away = [True]

    async def dispatch(context: ServiceContext, channel: Channel, parsed: Any) -> Any:
        if parsed and parsed[0].platform_user_id == "990003":  # a bug this update meets
            raise KeyError("something this update always trips on")
        if parsed and parsed[0].platform_user_id == "990005" and database_away[0]:
            raise sqlite3.OperationalError("database is locked")
        return await real_dispatch(context, channel, parsed)

    monkeypatch.setattr(platforms, "dispatch", dispatch)
    fake_telegram.updates += [start_update(800, 990_003), start_update(801, 990_004)]
    async with httpx.AsyncClient() as client:
        assert await _poll_round(client, platforms_context, 0, wait_seconds=0) == (1, 802)
        assert await OutboxMessage.count().where(OutboxMessage.recipient == "990004") >= 1

        fake_telegram.updates.append(start_update(802, 990_005))
        with pytest.raises(sqlite3.OperationalError):
            await _poll_round(client, platforms_context, 802, wait_seconds=0)
        database_away[0] = False
        assert await _poll_round(client, platforms_context, 802, wait_seconds=0) == (1, 803)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "990005") >= 1


async def test_polling_outlasts_a_failing_bot_api_and_flood_control(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next(2, status=502)
    fake_telegram.throttle_next(1, retry_after=0)
    fake_telegram.updates.append(start_update(700, 990_002))
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        polling = asyncio.create_task(
            poll_updates(
                client, platforms_context, stop, wait_seconds=0, retry_seconds=(0.01, 0.05)
            )
        )
        for _ in range(500):
            if await OutboxMessage.count().where(OutboxMessage.recipient == "990002"):
                break
            await asyncio.sleep(0.01)
        stop.set()
        handled = await asyncio.wait_for(polling, timeout=10)
    assert handled == 1
    assert len(fake_telegram.calls("/getUpdates")) >= 4  # two failures, flood control, success


async def test_polling_stops_with_the_reason_when_a_webhook_is_in_the_way(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.refusal = (409, "Conflict: can't use getUpdates method while webhook is active")
    async with httpx.AsyncClient() as client:
        with pytest.raises(SystemExit) as stopped:
            await poll_updates(
                client, platforms_context, asyncio.Event(), wait_seconds=0, retry_seconds=(0, 0)
            )
    assert stopped.value.code == 1
    assert len(fake_telegram.calls("/getUpdates")) == 1


async def test_a_running_worker_reminds_when_the_window_opens_and_delivers_once(
    platforms_context: ServiceContext, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    clock.instant = datetime(2026, 10, 29, 21, 0, tzinfo=UTC)  # 23:00 in Kyiv, window shut
    await linked_identity(platforms_context, "4242")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(platforms_context, stop, idle_seconds=0.02))

    def reminded() -> list[dict[str, Any]]:
        return [m for m in fake_telegram.sent_messages() if m["chat_id"] == 4242]

    try:
        await asyncio.sleep(0.2)  # a few rounds while the window is closed
        assert await reminders_to("4242") == 0
        clock.advance(timedelta(hours=1, minutes=1))  # 30 October: the window is open
        for _ in range(250):
            if reminded():
                break
            await asyncio.sleep(0.02)
        clock.advance(timedelta(hours=1, minutes=1))  # the next hour's run finds it sent
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)

    [reminder] = reminded()
    tapped = reminder["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert tapped.startswith("menu:submit:")
    assert await reminders_to("4242") == 1


async def test_a_failing_round_of_reminders_holds_no_reply_up(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    await queue_thanks(platforms_context, "4343")
    # The reminders' query fails (a table away for a migration, a lock past the timeout).
    await LinkedAccount.raw("ALTER TABLE linked_account RENAME TO linked_account_away")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(platforms_context, stop, idle_seconds=0.02))
    try:
        await until_sent(fake_telegram)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
        await LinkedAccount.raw("ALTER TABLE linked_account_away RENAME TO linked_account")
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["Дякуємо"]
