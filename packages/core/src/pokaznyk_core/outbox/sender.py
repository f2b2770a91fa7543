"""The outbox sender: calls the platform APIs for claimed messages, one chat in order, and
records each outcome.

Messages are claimed for a sender (`outbox.claims`), so no other sender has them. A
message is marked sent in its own statement right after the platform's 2xx, so in normal
operation it goes out once; only a sender that dies (or loses the sender's lease) between
the call and that statement lets the message go again.

`send_due` is one round: it claims what is due and waits for every chat of it (a command
that runs once, `send_due_once`; the tests). The worker (`outbox.worker`) instead keeps
claiming while chats are being sent to, so a slow chat holds up only itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from pokaznyk_core.outbox.claims import (
    LEASE,
    Claimed,
    claim,
    due_again,
    free_former_claims,
    new_holder,
    still_held,
)
from pokaznyk_core.outbox.delivery import (
    Outcome,
    build_request,
    configured_channels,
    load_payload,
    outcome_of,
)
from pokaznyk_core.outbox.queue import FAILED, SENT, SKIPPED, set_subscribed
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.outbox.reminders import NotDue, no_longer_due
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.sender_lease import SenderLease
from pokaznyk_core.storage.tables import OutboxMessage
from pokaznyk_core.storage.transactions import is_transient

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "RETRY_FOR",
    "backoff",
    "deliver_to_chat",
    "send_due",
    "send_due_once",
]

log = logging.getLogger("pokaznyk.outbox")

RETRY_FOR = timedelta(hours=24)
"""How long a message is tried again through passing failures (the platform down or
refusing our token) before it is given up: an outage of hours, or a token being put right,
still delivers the backlog, in order. Counted in tries (`MAX_ATTEMPTS`), not from when the
message was queued, so a message that waited (its channel switched off, the worker down)
still gets its day."""
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
PARALLEL_CHATS = 16
"""How many chats a sender sends to at once: at most this many platform calls in flight.
A chat has one call in flight at a time, so a few slow or hanging calls leave the rest of
the places to the other chats."""
CHAT_WAIT_SECONDS = 2.0
"""The longest a chat's turn waits for its own rate limit: a chat with more queued than
its limit lets through (a customer pressing a button 25 times) has the rest sent in later
turns, so its place, and every other customer's reply, never waits for it."""
MARK_SENT_WITHIN = 60.0
"""How long a delivered message's record is tried while the database is busy (another
process's long write), pausing 0.5 s, 1 s, 2 s… between tries: within `LEASE`, after which
the message would go again."""


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed try: 5, 10, 20, … capped at an hour."""
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** max(0, attempts - 1)))


def _tries_over(span: timedelta) -> int:
    """How many tries, `backoff` apart, it takes to go on trying for `span`."""
    tries, waited = 1, 0.0
    while waited < span.total_seconds():
        waited += backoff(tries)
        tries += 1
    return tries


MAX_ATTEMPTS = _tries_over(RETRY_FOR)
"""The tries after which a message failing for a passing reason is given up (34: a day)."""


def _claim_ended(message: Claimed) -> Any:
    """The condition of an update that ends `message`'s claim: still its holder's (a new
    holder of the lease may have taken it over)."""
    return (OutboxMessage.id == message.id) & (OutboxMessage.claimed_by == message.holder)


async def _mark_sent(message: Claimed, now: datetime) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.status: SENT,
            OutboxMessage.sent_at: now,
            OutboxMessage.attempts: message.attempts + 1,
            OutboxMessage.last_error: "",
            OutboxMessage.claimed_by: None,
        }
    ).where(OutboxMessage.id == message.id)  # whoever holds it now: it went


async def _record_sent(message: Claimed, now: datetime) -> None:
    """Mark a message the platform accepted as sent, through a passing failure of the
    database too: left unmarked, its lease would end and the customer get it twice."""
    deadline, pause = time.monotonic() + MARK_SENT_WITHIN, 0.5
    while True:
        try:
            await _mark_sent(message, now)
        except Exception as error:
            if not is_transient(error) or time.monotonic() >= deadline:
                raise
            log.warning("outbox message %s was sent; recording it waits: %s", message.id, error)
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause *= 2
        else:
            return


async def _mark_failed(message: Claimed, error: str) -> None:
    log.warning("outbox message %s to %s gave up: %s", message.id, message.channel, error)
    await OutboxMessage.update(
        {
            OutboxMessage.status: FAILED,
            OutboxMessage.attempts: message.attempts + 1,
            OutboxMessage.last_error: error,
            OutboxMessage.claimed_by: None,
        }
    ).where(_claim_ended(message))


async def _mark_skipped(message: Claimed, why: NotDue) -> None:
    log.info("outbox message %s to %s skipped: %s", message.id, message.channel, why.value)
    await OutboxMessage.update(
        {
            OutboxMessage.status: SKIPPED,
            OutboxMessage.last_error: why.value,
            OutboxMessage.claimed_by: None,
        }
    ).where(_claim_ended(message))


async def _retry_at(message: Claimed, at: datetime, *, attempts: int, error: str) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.next_attempt_at: at,
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error,
            OutboxMessage.claimed_by: None,
        }
    ).where(_claim_ended(message))


async def _call(context: ServiceContext, client: httpx.AsyncClient, message: Claimed) -> Outcome:
    try:
        url, body, headers, params = build_request(
            context.settings, message.channel, message.recipient, load_payload(message.payload)
        )
    except (ValueError, KeyError, TypeError) as error:
        return Outcome(delivered=False, error=f"cannot build the request: {error}")
    try:
        response = await client.post(url, json=body, headers=headers, params=params)
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # a token with a stray \r: put right
        return Outcome(delivered=False, retry=True, error=f"{type(error).__name__}: {error}"[:500])
    return outcome_of(message.channel, response)


async def _skipped_reminder(context: ServiceContext, message: Claimed) -> bool:
    """Drop a reminder that is no longer due (`reminders.no_longer_due`); True when it was.
    Replies are never dropped."""
    try:
        payload = load_payload(message.payload)
    except ValueError:
        return False  # the call says it cannot be built
    why = await no_longer_due(
        context, payload, message.dedupe_key, channel=message.channel, recipient=message.recipient
    )
    if why is None:
        return False
    await _mark_skipped(message, why)
    return True


async def deliver_to_chat(
    context: ServiceContext,
    client: httpx.AsyncClient,
    limiter: RateLimiter,
    messages: list[Claimed],
    stop: asyncio.Event | None = None,
) -> int:
    """Send one chat's claimed messages in order; returns how many were delivered.

    A button's callback answer goes first and holds nothing back. After a passing failure
    the chat's later messages wait for the one that failed. Once `stop` is set no more
    are sent: the rest are left due at once, for the next sender. A message a new holder
    of the sender's lease has taken over is left to it."""
    answers = [m for m in messages if not m.in_chat_order]
    in_order = [m for m in messages if m.in_chat_order]
    sent = 0
    budget = CHAT_WAIT_SECONDS
    chains = [[answer] for answer in answers] + [in_order]
    for number, chain in enumerate(chains):
        for index, message in enumerate(chain):
            rest = chain[index:]
            if stop is not None and stop.is_set():
                later = [m for other in chains[number + 1 :] for m in other]
                await due_again(rest + later, context.now())
                return sent
            if not await still_held(message):  # a new sender has it: its chat is its own
                return sent
            if await _skipped_reminder(context, message):
                continue
            started = time.monotonic()
            wait = await limiter.acquire(message.channel, message.recipient, max_wait=budget)
            budget -= time.monotonic() - started
            if wait > 0:  # this chat is at its limit: the rest go in a later turn, in order
                await due_again(rest, context.now() + timedelta(seconds=wait))
                break
            outcome = await _call(context, client, message)
            if outcome.delivered:
                await _record_sent(message, context.now())
                sent += 1
                continue
            held_until = await _after_failure(context, limiter, message, outcome)
            if held_until is not None:  # keep the chat's messages in order
                await due_again(chain[index + 1 :], held_until)
                break
    return sent


async def _after_failure(
    context: ServiceContext, limiter: RateLimiter, message: Claimed, outcome: Outcome
) -> datetime | None:
    """Record a failed call: given up (None), or tried again later (when, returned)."""
    # Flood control (a 429 that says how long to wait) is not a failed attempt: the
    # platform only asked us to wait, so it never makes a message give up.
    flood = outcome.retry and outcome.retry_after is not None
    attempts = message.attempts if flood else message.attempts + 1
    if not outcome.retry or attempts >= MAX_ATTEMPTS:
        await _mark_failed(message, outcome.error)
        if outcome.unreachable:  # no reminders until they write again
            await set_subscribed(message.channel, message.recipient, False)
        return None
    delay = backoff(attempts)
    if outcome.retry_after is not None:  # the platform said how long: exactly that
        delay = min(max(0.0, outcome.retry_after), BACKOFF_CAP_SECONDS)
        limiter.pause(message.channel, delay)
    at = context.now() + timedelta(seconds=delay)
    log.info("outbox message %s: %s; retry in %.0f s", message.id, outcome.error, delay)
    await _retry_at(message, at, attempts=attempts, error=outcome.error)
    return at


def by_chat(messages: list[Claimed]) -> list[list[Claimed]]:
    """Claimed messages grouped by chat, in the order of each chat's first message."""
    chats: dict[tuple[str, str], list[Claimed]] = {}
    for message in messages:
        chats.setdefault(message.chat, []).append(message)
    return list(chats.values())


async def send_due(
    context: ServiceContext,
    client: httpx.AsyncClient,
    *,
    batch: int = 50,
    limiter: RateLimiter | None = None,
    stop: asyncio.Event | None = None,
    holder: str | None = None,
) -> int:
    """Send the messages that are due now, `PARALLEL_CHATS` chats at a time, and wait for
    them all; returns how many were delivered. They are claimed under `holder` (the token
    of the sender's lease; a token of their own without one). Once `stop` is set, the
    calls under way finish and no other starts."""
    messages = await claim(
        context.now(),
        configured_channels(context.settings),
        batch,
        holder=holder or new_holder(),
    )
    if not messages:
        return 0
    limiter = limiter or RateLimiter()
    places = asyncio.Semaphore(PARALLEL_CHATS)

    async def one(chat: list[Claimed]) -> int:
        async with places:
            return await deliver_to_chat(context, client, limiter, chat, stop)

    return sum(await asyncio.gather(*(one(chat) for chat in by_chat(messages))))


async def send_due_once(context: ServiceContext, client: httpx.AsyncClient) -> int | None:
    """One round of `send_due` for a command that runs once, under the sender's lease;
    None when another process holds it (that process sends these messages). What a
    former holder left claimed is sent too."""
    lease = SenderLease(context.settings.database_url)
    try:
        if not await lease.held():
            return None
        await free_former_claims(lease.token, context.now())
        return await send_due(context, client, holder=lease.token)
    finally:
        await lease.release()
