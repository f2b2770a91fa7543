"""Reminders when the submission window opens: one per verified, opted-in user and account.

Queued in the outbox under `remind:{period}:{identity}:{account}`, so running this twice
(two workers, or `pokaznyk remind` by hand) reminds once. A Messenger user is reminded only
within 24 hours of their last message (Meta refuses anything later); the worker runs the
reminders once an hour, so one who writes during the window is reminded within the hour.

A queued reminder may wait (behind a failing platform, a channel whose token is unset, a
worker that was down): when its turn comes the sender asks `no_longer_due` again, with the
same rule as queuing, and drops it when its window closed, the customer switched reminders
off or cannot be written to, the account got its reading, was closed or unlinked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pokaznyk_core.channels.messenger import may_start_message
from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.domain.window import WindowState, window_state
from pokaznyk_core.i18n.catalogue import format_day, normalize_locale, translate
from pokaznyk_core.outbox.queue import enqueue_many
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.reading_store import counts_for_period_sql
from pokaznyk_core.services.turn_store import REMINDER_KIND, OutboxRow
from pokaznyk_core.storage.tables import DialogState, LinkedAccount, OutboxMessage, Reading

REMINDED_CHANNELS = ("telegram", "viber", "messenger")
SENDING_MARGIN = timedelta(hours=1)
"""How long a queued reminder may wait (retries, rate limits) and still reach a Messenger
user inside Meta's 24 hours."""
CATALOGUE_KEY = "reminder.window_open"
_CHUNK = 500


@dataclass(frozen=True)
class Reminder:
    """One reminder to queue."""

    identity_id: int
    account_id: int
    channel: str
    recipient: str
    locale: str
    account_number: str


@dataclass(frozen=True)
class RemindersQueued:
    """What one run of `send_reminders` did."""

    queued: int
    """Reminders newly queued."""
    messenger_silent: int = 0
    """Reminders due to Messenger users silent for over 23 hours (Meta's 24 less the
    sending margin): not queued (yet)."""


def reminder_text(locale: str, account: str, closes_on: date) -> str:
    """The reminder in the user's language, from the catalogue."""
    locale = normalize_locale(locale)
    closes = format_day(closes_on, locale)
    return translate(CATALOGUE_KEY, locale, account=account, closes_on=closes)


CANDIDATES_PAGE = 50_000
"""Links read by one statement of `_candidates` (a page by the links' ids), so that none
comes near `serve`'s statement limit however many customers there are."""


async def _candidates() -> list[Reminder]:
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await (
            LinkedAccount.select(
                LinkedAccount.id,
                LinkedAccount.identity.id.as_alias("identity_id"),
                LinkedAccount.account.id.as_alias("account_id"),
                LinkedAccount.identity.channel.as_alias("channel"),
                LinkedAccount.identity.platform_user_id.as_alias("recipient"),
                LinkedAccount.identity.language.as_alias("language"),
                LinkedAccount.account.number.as_alias("number"),
            )
            .where(
                (LinkedAccount.id > after)
                & (LinkedAccount.identity.reminders == True)  # noqa: E712 (a column expression)
                & (LinkedAccount.identity.subscribed == True)  # noqa: E712
                & (LinkedAccount.identity.channel.is_in(list(REMINDED_CHANNELS)))
                & (LinkedAccount.account.status == "active")
            )
            .order_by(LinkedAccount.id)
            .limit(CANDIDATES_PAGE)
        )
        rows += page
        if len(page) < CANDIDATES_PAGE:
            break
        after = int(page[-1]["id"])
    unique = {
        (r["identity_id"], r["account_id"]): Reminder(
            r["identity_id"],
            r["account_id"],
            r["channel"],
            r["recipient"],
            r["language"],
            r["number"],
        )
        for r in rows
    }
    return list(unique.values())


async def _accounts_with_reading(account_ids: list[int], period: str) -> set[int]:
    """The accounts that have a reading which counts for `period` as billing counts it:
    taken in its window, and the customer's own (`domain.history.is_baseline`: a flagged
    reading from a phone caller not on the account is not, until a reviewer accepts it).
    An account with only an off-window reading is billed on an estimate: it is reminded."""
    found: set[int] = set()
    for start in range(0, len(account_ids), _CHUNK):
        accounts = ", ".join(str(int(a)) for a in account_ids[start : start + _CHUNK])
        rows = await Reading.raw(
            f"SELECT DISTINCT account FROM reading WHERE account IN ({accounts})"
            f" AND {counts_for_period_sql()}",
            period,
            True,
        )
        found.update(int(r["account"]) for r in rows)
    return found


async def _queued_already(keys: list[str]) -> set[str]:
    """Which of these reminder keys are in the outbox already (the worker looks every hour:
    one search per chunk instead of an insert per reminder)."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        rows = await OutboxMessage.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.is_in(keys[start : start + _CHUNK])
        )
        found.update(r["dedupe_key"] for r in rows)
    return found


def _key(period: str, reminder: Reminder) -> str:
    return f"remind:{period}:{reminder.identity_id}:{reminder.account_id}"


async def _last_messages(platform_user_ids: list[str]) -> dict[str, datetime]:
    """When each Messenger user's dialog last moved (their last message)."""
    found: dict[str, datetime] = {}
    for start in range(0, len(platform_user_ids), _CHUNK):
        rows = await DialogState.select(DialogState.platform_user_id, DialogState.updated_at).where(
            (DialogState.channel == "messenger")
            & DialogState.platform_user_id.is_in(platform_user_ids[start : start + _CHUNK])
        )
        found.update((r["platform_user_id"], r["updated_at"]) for r in rows)
    return found


async def send_reminders(context: ServiceContext) -> RemindersQueued:
    """Queue the reminders due now (none outside the window)."""
    state = window_state(context.today(), context.window)
    if not state.is_open:
        return RemindersQueued(0)
    period = str(state.period)
    candidates = await _candidates()
    if not candidates:
        return RemindersQueued(0)
    done = await _accounts_with_reading(sorted({c.account_id for c in candidates}), period)
    due = [c for c in candidates if c.account_id not in done]
    queued_before = await _queued_already([_key(period, c) for c in due])
    due = [c for c in due if _key(period, c) not in queued_before]
    now = context.now()
    last_messages = await _last_messages(
        sorted({c.recipient for c in due if c.channel == "messenger"})
    )
    rows: list[OutboxRow] = []
    silent = 0
    for reminder in due:
        if reminder.channel == "messenger" and not may_start_message(
            last_messages.get(reminder.recipient), now, margin=SENDING_MARGIN
        ):
            silent += 1
            continue
        locale = normalize_locale(reminder.locale)
        reply = Reply(
            text=reminder_text(locale, reminder.account_number, state.closes_on),
            # one tap to start, on the account it names (a customer may have several)
            buttons=((x.button(locale, "submit", f"{x.SUBMIT_FOR_PREFIX}{reminder.account_id}"),),),
            locale=locale,
        )
        payload = {
            "reply": reply.to_json(),
            "kind": REMINDER_KIND,
            "period": period,
            "identity": reminder.identity_id,
            "account": reminder.account_id,
        }
        rows.append(
            OutboxRow(reminder.channel, reminder.recipient, payload, _key(period, reminder))
        )
    return RemindersQueued(await enqueue_many(rows, now=now), silent)


class NotDue(enum.Enum):
    """Why a queued reminder is not sent when its turn comes (its `last_error`)."""

    WINDOW_CLOSED = "the window of its period is no longer open"
    SWITCHED_OFF = "the customer switched reminders off"
    UNREACHABLE = "the customer cannot be written to"
    HAS_READING = "the account has a reading that counts for the period"
    NOT_LINKED = "the account is no longer linked to the customer"
    ACCOUNT_CLOSED = "the account is closed"
    SILENT_TOO_LONG = "Messenger takes no message the page starts a day after the person's last"


@dataclass(frozen=True)
class QueuedReminder:
    """What a reminder in the outbox is about."""

    period: str
    identity_id: int | None
    account_id: int | None


def queued_reminder(payload: dict[str, Any], dedupe_key: str | None) -> QueuedReminder | None:
    """The reminder an outbox payload holds, or None when it holds none. The identity and
    account come from the payload, or, for a reminder queued before they were written
    there, from its key (`remind:{period}:{identity}:{account}`)."""
    if payload.get("kind") != REMINDER_KIND:
        return None
    identity, account = payload.get("identity"), payload.get("account")
    parts = (dedupe_key or "").split(":")
    if (identity is None or account is None) and len(parts) == 4 and parts[0] == "remind":
        identity, account = parts[2], parts[3]
    try:
        return QueuedReminder(
            str(payload.get("period", "")),
            None if identity is None else int(identity),
            None if account is None else int(account),
        )
    except ValueError:
        return QueuedReminder(str(payload.get("period", "")), None, None)


@dataclass(frozen=True)
class ReminderFacts:
    """What the rule of `reminder_verdict` looks at, as stored when the reminder's turn comes."""

    linked: bool
    reminders_on: bool = True
    subscribed: bool = True
    account_active: bool = True
    has_reading: bool = False
    """A reading that counts for the period as billing counts it (`_accounts_with_reading`)."""


def reminder_verdict(
    reminder: QueuedReminder, window: WindowState, facts: ReminderFacts | None
) -> NotDue | None:
    """Why the reminder is not to be sent now (None: send it): the rule `send_reminders`
    queues by, asked again. `facts` is None when the reminder names no identity and account
    (only its window is checked)."""
    if not window.is_open or str(window.period) != reminder.period:
        return NotDue.WINDOW_CLOSED
    if facts is None:
        return None
    if not facts.linked:
        return NotDue.NOT_LINKED
    if not facts.reminders_on:
        return NotDue.SWITCHED_OFF
    if not facts.subscribed:
        return NotDue.UNREACHABLE
    if not facts.account_active:
        return NotDue.ACCOUNT_CLOSED
    if facts.has_reading:
        return NotDue.HAS_READING
    return None


_REMINDER_FACTS = (
    "SELECT i.reminders AS reminders_on, i.subscribed AS subscribed,"
    " a.status = 'active' AS account_active,"
    " EXISTS (SELECT 1 FROM reading AS r WHERE r.account = a.id"
    f" AND {counts_for_period_sql('r.')}) AS has_reading"
    " FROM linked_account AS l"
    " JOIN messenger_identity AS i ON i.id = l.identity"
    " JOIN account AS a ON a.id = l.account"
    " WHERE l.identity = {} AND l.account = {} LIMIT 1"
)


async def _reminder_facts(reminder: QueuedReminder) -> ReminderFacts | None:
    if reminder.identity_id is None or reminder.account_id is None:
        return None
    rows = await LinkedAccount.raw(
        _REMINDER_FACTS, reminder.period, True, reminder.identity_id, reminder.account_id
    )
    if not rows:
        return ReminderFacts(linked=False)
    row = rows[0]
    return ReminderFacts(
        linked=True,
        reminders_on=bool(row["reminders_on"]),
        subscribed=bool(row["subscribed"]),
        account_active=bool(row["account_active"]),
        has_reading=bool(row["has_reading"]),
    )


async def no_longer_due(
    context: ServiceContext,
    payload: dict[str, Any],
    dedupe_key: str | None,
    *,
    channel: str = "",
    recipient: str = "",
) -> NotDue | None:
    """Why an outbox message that is a reminder is not to be sent now, or None (send it;
    a message that is no reminder is always sent). A Messenger reminder that waited past
    a day since the person's last message is not sent either (Meta would refuse it)."""
    reminder = queued_reminder(payload, dedupe_key)
    if reminder is None:
        return None
    window = window_state(context.today(), context.window)
    closed = reminder_verdict(reminder, window, None)
    if closed is not None:  # no need to look further
        return closed
    verdict = reminder_verdict(reminder, window, await _reminder_facts(reminder))
    if verdict is None and channel == "messenger":
        last = (await _last_messages([recipient])).get(recipient)
        if not may_start_message(last, context.now()):
            return NotDue.SILENT_TOO_LONG
    return verdict
