"""The snapshot turn's store: one read, one all-or-nothing write, on both engines."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services import identities
from pokaznyk_core.services import turn_store as turns
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import (
    LinkedAccount,
    OutboxMessage,
    ProcessedUpdate,
)
from pokaznyk_core.testing import MeterFixture, make_meter_fixture


async def new_user(context: ServiceContext) -> str:
    user = uuid4().hex[:12]
    await turns.create_conversation(
        Channel.TELEGRAM, user, display_name="Олена", language="uk", now=context.now()
    )
    return user


def reply_row(user: str, text: str) -> turns.OutboxRow:
    return turns.OutboxRow("telegram", user, {"reply": {"text": text}, "kind": "reply"})


async def say(
    context: ServiceContext, snapshot: turns.Snapshot, user: str, text: str, key: str
) -> turns.Committed:
    """Commit a turn that replies `text` to the update `key`."""
    return await turns.commit_turn(
        snapshot,
        "{}",
        [reply_row(user, text)],
        channel=Channel.TELEGRAM,
        update_key=key,
        now=context.now(),
    )


async def outbox_texts(user: str) -> list[str]:
    rows = await OutboxMessage.select(OutboxMessage.payload).where(OutboxMessage.recipient == user)
    return [
        (json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"])["reply"][
            "text"
        ]
        for r in rows
    ]


async def submit(context: ServiceContext, meter: MeterFixture, value: str, taken_on: date) -> None:
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={zone: Decimal(value) for zone in meter.zones},
            channel=Channel.WEB_FORM,
            submitted_by="web_form:test",
            taken_on=taken_on,
        ),
    )
    assert outcome.stored


async def test_a_first_contact_gets_an_identity_and_an_empty_state(
    context: ServiceContext,
) -> None:
    user = await new_user(context)
    snapshot = await turns.read_turn(Channel.TELEGRAM, user, "u-1")
    assert not snapshot.seen
    assert snapshot.identity is not None and snapshot.identity["language"] == "uk"
    assert snapshot.version == 0
    assert snapshot.fact_rows == ()


async def test_a_first_contact_is_answered_from_what_its_creation_returned(
    context: ServiceContext,
) -> None:
    user = uuid4().hex[:12]

    async def first_message() -> turns.Snapshot | None:
        return await turns.create_conversation(
            Channel.TELEGRAM, user, display_name="Олена", language="en", now=context.now()
        )

    created = await first_message()
    read = await turns.read_turn(Channel.TELEGRAM, user, "u-1")
    assert created == read  # the same identity, state id, version and (empty) state
    assert created is not None and created.identity is not None
    assert created.identity["language"] == "en"
    assert bool(created.identity["reminders"])
    # A first message racing it creates nothing, and its turn is read instead.
    assert await first_message() is None


async def test_a_turn_over_a_state_that_moved_on_writes_nothing(context: ServiceContext) -> None:
    user = await new_user(context)
    stale = await turns.read_turn(Channel.TELEGRAM, user, "a")
    first = await say(context, stale, user, "one", "a")
    second = await say(context, stale, user, "two", "b")
    assert (first, second) == (turns.Committed.SAVED, turns.Committed.CONFLICT)
    assert await outbox_texts(user) == ["one"]
    assert not await ProcessedUpdate.exists().where(ProcessedUpdate.update_key == "b")
    fresh = await turns.read_turn(Channel.TELEGRAM, user, "b")
    assert fresh.version == 1


async def test_a_redelivery_racing_the_first_delivery_writes_nothing(
    context: ServiceContext,
) -> None:
    user = await new_user(context)
    key = uuid4().hex
    before = await turns.read_turn(Channel.TELEGRAM, user, key)
    assert await say(context, before, user, "once", key) is turns.Committed.SAVED
    # The second delivery read its snapshot after the first was saved but before it was
    # recorded as seen (or raced it): the write itself must refuse the update key.
    racing = await turns.read_turn(Channel.TELEGRAM, user, None)
    outcome = await say(context, racing, user, "twice", key)
    assert outcome is turns.Committed.DUPLICATE
    assert await outbox_texts(user) == ["once"]
    assert (await turns.read_turn(Channel.TELEGRAM, user, None)).version == 1


async def test_an_outbox_row_queued_before_under_its_dedupe_key_is_skipped(
    context: ServiceContext,
) -> None:
    user = await new_user(context)
    answer = turns.OutboxRow("telegram", user, {"method": "answerCallbackQuery"}, "cb:1")
    for key in ("k1", "k2"):
        snapshot = await turns.read_turn(Channel.TELEGRAM, user, key)
        assert (
            await turns.commit_turn(
                snapshot,
                "{}",
                [answer],
                channel=Channel.TELEGRAM,
                update_key=key,
                now=context.now(),
            )
            is turns.Committed.SAVED
        )
    assert await OutboxMessage.count().where(OutboxMessage.recipient == user) == 1


async def test_the_snapshot_sees_the_linked_accounts_as_the_locked_path_does(
    context: ServiceContext,
) -> None:
    user = await new_user(context)
    snapshot = await turns.read_turn(Channel.TELEGRAM, user, None)
    assert snapshot.identity is not None
    identity_id = int(snapshot.identity["id"])
    for zones in (1, 3):
        meter = await make_meter_fixture(context, zone_count=zones)
        await submit(context, meter, "100.0", date(2026, 9, 30))
        await submit(context, meter, "150.5", context.today())
        await LinkedAccount.insert(
            LinkedAccount(
                identity=identity_id,
                account=meter.account_id,
                method="holder",
                linked_at=context.now(),
            )
        )
    today = context.today()
    snapshot = await turns.read_turn(Channel.TELEGRAM, user, None)
    from_snapshot = await identities.accounts_from_rows(
        snapshot.fact_rows, today=today, window=context.window
    )
    locked = await identities.linked_accounts(identity_id, today=today, window=context.window)
    assert len(from_snapshot) == 2
    assert from_snapshot == locked


async def test_a_write_failing_on_another_unique_index_is_an_error_not_a_duplicate(
    context: ServiceContext, database: Database
) -> None:
    if not database.is_postgres:
        pytest.skip("SQLite's turn write has no statement to fail this way")
    user = await new_user(context)
    snapshot = await turns.read_turn(Channel.TELEGRAM, user, "x")
    taken = await OutboxMessage.raw("SELECT nextval('outbox_message_id_seq') AS n")
    await OutboxMessage.raw(
        "INSERT INTO outbox_message (id, channel, recipient, payload, status, attempts,"
        " next_attempt_at, last_error, created_at)"
        " VALUES ({}, 'telegram', 'x', {}, 'sent', 0, {}, '', {})",
        int(taken[0]["n"]) + 1,
        "{}",
        context.now(),
        context.now(),
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await say(context, snapshot, user, "lost?", "x")
    assert not await ProcessedUpdate.exists().where(ProcessedUpdate.update_key == "x")
