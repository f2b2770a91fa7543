"""Customer messages are admitted a few at a time, in the order they came, and never wait
for a place where waiting could deadlock."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from pokaznyk_core.dialog.messages import Incoming, IncomingKind
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.services.admission import message_turn
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.conversation import handle_incoming
from pokaznyk_core.settings import Settings, SettingsError
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.transactions import write_transaction

WAIT = 10  # seconds before a test calls a wait a deadlock


def at_once(context: ServiceContext, places: int) -> ServiceContext:
    return replace(context, settings=replace(context.settings, messages_at_once=places))


async def test_no_more_messages_than_the_setting_are_handled_at_once_and_in_arrival_order(
    context: ServiceContext,
) -> None:
    context = at_once(context, 2)
    inside: set[int] = set()
    most = 0
    entered: list[int] = []

    async def message(n: int) -> None:
        nonlocal most
        async with message_turn(context):
            entered.append(n)
            inside.add(n)
            most = max(most, len(inside))
            await asyncio.sleep(0.01)
            inside.discard(n)

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(message(n)))
        await asyncio.sleep(0)  # each arrives before the next
    await asyncio.wait_for(asyncio.gather(*tasks), WAIT)

    assert most == 2
    assert entered == list(range(8))


async def test_a_message_already_admitted_is_not_stopped_at_the_door_again(
    context: ServiceContext,
) -> None:
    context = at_once(context, 1)

    async def nested() -> str:
        async with message_turn(context), message_turn(context):
            return "handled"

    assert await asyncio.wait_for(nested(), WAIT) == "handled"


async def test_inside_a_transaction_a_message_runs_at_once_not_behind_those_waiting_for_it(
    context: ServiceContext, database: Database
) -> None:
    """The phone line handles its step inside its own transaction: a message admitted
    before it may be waiting for that transaction's lock, so it must not wait in turn."""
    context = at_once(context, 1)
    holder_in = asyncio.Event()
    release_holder = asyncio.Event()

    async def holder() -> None:
        async with message_turn(context):
            holder_in.set()
            await release_holder.wait()

    async def in_transaction() -> str:
        async with write_transaction(), message_turn(context):
            return "handled"

    task = asyncio.create_task(holder())
    await holder_in.wait()
    try:
        assert await asyncio.wait_for(in_transaction(), WAIT) == "handled"
    finally:
        release_holder.set()
        await task


async def test_messages_of_many_customers_at_once_through_one_place_are_all_answered(
    context: ServiceContext,
) -> None:
    context = at_once(context, 1)

    async def first_message(user: str) -> int:
        async with message_turn(context):
            result = await handle_incoming(
                context,
                Channel.TELEGRAM,
                user,
                Incoming(kind=IncomingKind.START, text="/start"),
                update_key=f"admission-{user}",
            )
        return len(result.replies)

    answered = await asyncio.wait_for(
        asyncio.gather(*(first_message(f"adm-{n}") for n in range(12))), WAIT * 3
    )

    assert all(count >= 1 for count in answered)


@pytest.mark.parametrize("value", ["0", "-3", "1001"])
def test_a_number_of_messages_at_once_out_of_range_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(SettingsError, match="POKAZNYK_MESSAGES_AT_ONCE must be between 1"):
        Settings.from_env({"POKAZNYK_MESSAGES_AT_ONCE": value})


def test_a_number_of_messages_at_once_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(SettingsError, match="POKAZNYK_MESSAGES_AT_ONCE must be a whole number"):
        Settings.from_env({"POKAZNYK_MESSAGES_AT_ONCE": "ten"})


async def test_a_task_started_by_an_admitted_message_waits_at_the_door_like_any_other(
    context: ServiceContext,
) -> None:
    context = at_once(context, 1)

    async def another_message() -> str:
        async with message_turn(context):
            return "handled"

    async with message_turn(context):
        started_inside = asyncio.create_task(another_message())
        done, _ = await asyncio.wait({started_inside}, timeout=0.2)
        assert not done, "it inherited the place of the message that started it"
    assert await asyncio.wait_for(started_inside, WAIT) == "handled"
