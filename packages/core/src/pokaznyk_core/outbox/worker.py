"""The outbox worker: sends due messages until stopped, beside the reminders, the
housekeeping and the chat photo downloads.

It sends to up to `sender.PARALLEL_CHATS` chats at once (`ChatSending`) and claims more as
soon as chats finish, leaving out the chats it is sending to: a chat whose platform call
is slow or hangs holds up only its own later messages, never another customer's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx

from pokaznyk_core.outbox.claims import Chat, Claimed, claim, free_former_claims
from pokaznyk_core.outbox.delivery import configured_channels
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.outbox.reminders import send_reminders
from pokaznyk_core.outbox.sender import PARALLEL_CHATS, by_chat, deliver_to_chat
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.sender_lease import SenderLease

log = logging.getLogger("pokaznyk.outbox")

PHOTOS_STOP_SECONDS = 5.0
"""How long a stopping worker lets its round of chat photo downloads finish."""
REMIND_RETRY = timedelta(minutes=5)
"""How soon a round of reminders that failed is tried again."""
REFILL_AT = max(1, PARALLEL_CHATS // 4)
"""How many chats finish before the worker claims again without waiting for its next
round (a claim per finished chat would cost a statement a message at full rate)."""


class ChatSending:
    """The chats one worker is sending to: each in order, at most `PARALLEL_CHATS` at once."""

    def __init__(
        self,
        context: ServiceContext,
        client: httpx.AsyncClient,
        limiter: RateLimiter,
        stop: asyncio.Event,
    ) -> None:
        self._context = context
        self._client = client
        self._limiter = limiter
        self._stop = stop
        self._chats: dict[Chat, asyncio.Task[int]] = {}
        self._finished = 0
        self._change = asyncio.Event()
        self.holder = ""
        """The token of the sender's lease the chats are claimed under."""
        self.delivered = 0

    @property
    def places(self) -> int:
        """How many more chats may be sent to now."""
        return PARALLEL_CHATS - len(self._chats)

    async def take_over(self, holder: str) -> None:
        """This process took the sender's lease (`holder` is its token): what a former
        holder left claimed (a process killed mid-send) is due again at once."""
        freed = await free_former_claims(holder, self._context.now())
        self.holder = holder
        if freed:
            log.info("outbox: %d message(s) a former sender held are due again", freed)

    async def start_due(self) -> bool:
        """Claim due messages of the chats not being sent to, as many as there are places,
        and start sending to their chats. True when the claim was full (more may be due)."""
        places = self.places
        if places <= 0:
            return False
        channels = configured_channels(self._context.settings)
        self._finished = 0  # chats that finish from now on may have more due
        messages = await claim(
            self._context.now(), channels, places, holder=self.holder, skip_chats=self._chats
        )
        for chat in by_chat(messages):
            answers = [m for m in chat if not m.in_chat_order]
            ordered = [m for m in chat if m.in_chat_order]
            if ordered:
                self._start(ordered, ordered[0].chat)
            if answers:  # beside the chat's messages, never behind them (nor they behind it)
                first = answers[0]
                self._start(answers, (first.channel, f"{first.recipient}#answers:{first.id}"))
        return len(messages) == places

    def _start(self, messages: list[Claimed], chat: Chat) -> None:
        task = asyncio.create_task(
            deliver_to_chat(self._context, self._client, self._limiter, messages, self._stop),
            name=f"pokaznyk-chat-{chat[0]}",
        )
        self._chats[chat] = task
        task.add_done_callback(lambda done: self._finish(chat, done))

    def _finish(self, chat: Chat, task: asyncio.Task[int]) -> None:
        self._chats.pop(chat, None)
        self._finished += 1
        self._change.set()
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # its messages are due again when their claim ends
            log.error("outbox: sending to a %s chat failed", chat[0], exc_info=error)
        else:
            self.delivered += task.result()

    async def wait(self, seconds: float) -> None:
        """Wait until `REFILL_AT` of the chats under way at the last claim finished (all
        of them, when there were fewer), `stop` is set, or `seconds` passed."""
        wanted = min(REFILL_AT, self._finished + len(self._chats))
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._stop.is_set():
            if wanted and self._finished >= wanted:
                self._finished = 0
                return
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            self._change.clear()
            stopped = asyncio.ensure_future(self._stop.wait())
            changed = asyncio.ensure_future(self._change.wait())
            try:
                await asyncio.wait(
                    {stopped, changed}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopped.cancel()
                changed.cancel()

    async def finish(self) -> None:
        """Wait for the chats under way (a stopping worker: their calls under way end, no
        other starts)."""
        chats = list(self._chats.values())
        try:
            await asyncio.gather(*chats, return_exceptions=True)
        except asyncio.CancelledError:  # the next holder makes their claims due at once
            for chat in chats:
                chat.cancel()
            raise


async def run_worker(
    context: ServiceContext,
    stop: asyncio.Event,
    *,
    idle_seconds: float = 1.0,
    remind_every: timedelta = timedelta(hours=1),
    prune_every: timedelta = timedelta(hours=1),
    client: httpx.AsyncClient | None = None,
) -> None:
    """Send due messages until `stop` is set; run the reminders every `remind_every` and
    the housekeeping (`services.housekeeping`) every `prune_every`; download the chat
    photos that are due (`outbox.evidence_fetch`) beside the sending, one round of them at
    a time, so no reply waits for a download.

    Only the process that holds the sender's lease (`storage.sender_lease`) sends, so the
    platforms' rate limits hold whatever the number of processes; the others queue the
    reminders and download photos, and take over when it stops."""
    channels = configured_channels(context.settings)
    for channel in ("telegram", "viber", "messenger"):
        if channel not in channels:
            log.warning(
                "outbox: %s is disabled (no API token configured); its messages wait", channel
            )
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
    sending = ChatSending(context, http, RateLimiter(), stop)
    lease = SenderLease(context.settings.database_url)
    next_remind = next_prune = context.now()
    photos: asyncio.Task[None] | None = None
    loop = asyncio.get_running_loop()
    next_photos = loop.time()
    try:
        while not stop.is_set():
            more = False
            if (photos is None or photos.done()) and loop.time() >= next_photos:
                photos = asyncio.create_task(_fetch_photos(context, http), name="pokaznyk-photos")
                next_photos = loop.time() + idle_seconds  # rounds come faster when busy
            if context.now() >= next_remind:  # a failure here must not hold the sending up
                try:
                    reminders = await send_reminders(context)
                    if reminders.queued:
                        log.info("reminders: %d queued", reminders.queued)
                    next_remind = context.now() + remind_every
                except Exception:
                    log.exception("reminders failed; tried again in %s", REMIND_RETRY)
                    next_remind = context.now() + REMIND_RETRY
            try:
                if context.now() >= next_prune:
                    next_prune = context.now() + prune_every
                    await _housekeeping(context)
                if channels and await lease.held():  # a process that cannot send leaves it
                    if lease.token != sending.holder:
                        await sending.take_over(lease.token)
                    more = await sending.start_due()
            except Exception:  # one bad round must not stop the worker
                log.exception("outbox round failed")
            if not more:
                await sending.wait(idle_seconds)
    finally:
        await sending.finish()
        if photos is not None:  # a download cut short is tried again when its lease ends
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(photos, timeout=PHOTOS_STOP_SECONDS)
        await lease.release()
        if own_client:
            await http.aclose()


async def _fetch_photos(context: ServiceContext, client: httpx.AsyncClient) -> None:
    """One round of `evidence_fetch`: a failure is logged and the next round tries again."""
    from pokaznyk_core.outbox.evidence_fetch import fetch_chat_photos  # it uses the sender

    try:
        done = await fetch_chat_photos(context, client)
    except Exception:
        log.exception("chat photo round failed")
        return
    if done.fetched or done.given_up:
        log.info("chat photos: %d stored, %d given up", done.fetched, done.given_up)


async def _housekeeping(context: ServiceContext) -> None:
    """One round of `services.housekeeping`: a failure is logged and tried again next time,
    and the round's sending goes on."""
    from pokaznyk_core.services.housekeeping import prune  # it imports the outbox's queue

    try:
        pruned = await prune(context)
    except Exception:
        log.exception("housekeeping failed; it runs again in an hour")
        return
    if pruned.total:
        log.info(
            "housekeeping: deleted %d outbox messages, %d update records, %d verification failures",
            pruned.outbox_messages,
            pruned.update_records,
            pruned.verification_failures,
        )
