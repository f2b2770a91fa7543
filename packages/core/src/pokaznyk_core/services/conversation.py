"""Running the dialog against the database: the one call every conversational adapter makes.

`handle_incoming` handles one customer message all or nothing: it records the platform
update (a redelivery changes nothing), runs the engine on the user's dialog state, carries
out what it asks (verify, submit, look up…), saves the new state and writes the replies to
the outbox.

Most messages only move the dialog. They are answered from a snapshot read without a lock
and written in one atomic step that refuses when another message of the user moved the
dialog meanwhile; then the turn is read and run again (`turn_store`: two round trips a
message). A message that acts runs in one write transaction with the state locked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pokaznyk_core.channels.lengths import fit
from pokaznyk_core.dialog import actions as act
from pokaznyk_core.dialog.engine import resume, step
from pokaznyk_core.dialog.facts import AccountInfo, Facts
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply
from pokaznyk_core.dialog.state import DialogState
from pokaznyk_core.dialog.turn import Step
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.services import dialog_store as store
from pokaznyk_core.services import identities
from pokaznyk_core.services import turn_store as turns
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.dialog_actions import Who, perform
from pokaznyk_core.services.turn_store import OutboxRow
from pokaznyk_core.storage.transactions import write_transaction

MAX_ACTIONS = 4
"""How many actions one message may lead to (verify → latest readings is the longest)."""

_LINKING = (act.VerifyHolder, act.VerifyPhone, act.VerifyCaller)
_READ_ONLY = (act.LookupReceipt, act.LatestReadings)
"""Actions a snapshot turn carries out itself. A verification takes the locked turn: its
failure counts are read and written while attempts on the same user or account wait."""
# A verification that linked an account changes the accounts; a language or reminders
# choice changes only what the action itself set. A submission changes no fact the answer
# to it needs (which account and meter it was for stay the same); the next message loads
# the new last reading.


@dataclass(frozen=True)
class ConversationResult:
    """What handling one message did.

    ``replies`` were written to the outbox (when ``enqueue``) and are returned for a
    channel that answers in its HTTP response (the phone line). ``duplicate``: the update
    was already handled, nothing changed and nothing is sent.
    """

    replies: tuple[Reply, ...]
    duplicate: bool
    identity_id: int | None
    attached_photo: bool = False
    """The message was a photo, and it was attached to the flagged reading."""


async def handle_incoming(
    context: ServiceContext,
    channel: Channel,
    platform_user_id: str,
    incoming: Incoming,
    *,
    update_key: str | None = None,
    display_name: str = "",
    enqueue: bool = True,
    caller_verified_phone: str | None = None,
    also_queue: Sequence[OutboxRow] = (),
) -> ConversationResult:
    """Handle one message of a customer, all or nothing; see the module docstring.

    ``update_key`` is the platform's id of the update (Telegram update_id, Viber
    message_token, Messenger mid): a second delivery returns ``duplicate=True``.
    ``caller_verified_phone`` is the phone line's caller number (Twilio ``From``).
    ``also_queue`` are outbox rows written with the turn (a button's callback answer).

    A message that only moves the dialog is answered from a snapshot and written in one
    atomic step (`turn_store`); one that acts (verify, submit…), or one handled inside
    the caller's own transaction, runs in a locked transaction.
    """
    turn = _Turn(
        context,
        channel,
        platform_user_id,
        incoming,
        update_key=update_key,
        display_name=display_name,
        enqueue=enqueue,
        caller=caller_verified_phone,
        also_queue=tuple(also_queue),
        now=context.now(),
    )
    if turns.supports_snapshot_turns():
        for _ in range(SNAPSHOT_ATTEMPTS):
            result = await _snapshot_turn(turn)
            if result is not None:
                return result
    return await _locked_turn(turn, None)


SNAPSHOT_ATTEMPTS = 3
"""How often a turn is read and run again when another message of the same user moved the
dialog meanwhile, before it waits for the lock instead."""

_DUPLICATE = ConversationResult(replies=(), duplicate=True, identity_id=None)


@dataclass(frozen=True)
class _Turn:
    """One incoming message and how to answer it."""

    context: ServiceContext
    channel: Channel
    user: str
    incoming: Incoming
    update_key: str | None
    display_name: str
    enqueue: bool
    caller: str | None
    also_queue: tuple[OutboxRow, ...]
    now: datetime

    def who(self, identity_id: int) -> Who:
        caller = self.caller
        if self.channel is Channel.IVR and caller is None:
            caller = ""
        return Who(self.context, self.channel, self.user, identity_id, caller, self.now)

    def outbox_rows(self, replies: list[Reply], identity_id: int) -> list[OutboxRow]:
        rows = list(self.also_queue)
        if self.enqueue:
            rows += [
                OutboxRow(
                    self.channel.value,
                    self.user,
                    {
                        "reply": reply.to_json(),
                        "kind": turns.REPLY_KIND,
                        "identity_id": identity_id,
                    },
                )
                for reply in fit(self.channel.value, replies)
            ]
        return rows


@dataclass(frozen=True)
class _Prepared:
    """A step already run on a snapshot: used as it is when the state is unchanged."""

    version: int
    out: Step
    facts: Facts


async def _snapshot_turn(turn: _Turn) -> ConversationResult | None:
    """Answer from a snapshot; None when the dialog moved on meanwhile (run it again)."""
    snapshot = await turns.read_turn(turn.channel, turn.user, turn.update_key)
    if snapshot.identity is None and not snapshot.seen:  # first contact
        created = await turns.create_conversation(
            turn.channel,
            turn.user,
            display_name=turn.display_name,
            language=normalize_locale(turn.incoming.language_hint),
            now=turn.now,
        )
        snapshot = created or await turns.read_turn(turn.channel, turn.user, turn.update_key)
    if snapshot.seen:
        return _DUPLICATE
    if snapshot.identity is None or snapshot.state is None:
        return await _locked_turn(turn, None)
    if _reachable_again(turn, snapshot.identity):
        return await _locked_turn(turn, None)
    who = turn.who(int(snapshot.identity["id"]))
    accounts = await identities.accounts_from_rows(
        snapshot.fact_rows, today=who.context.today(), window=who.context.window
    )
    facts = await _facts(who, snapshot.identity, snapshot.state, accounts)
    first = out = step(snapshot.state, turn.incoming, facts, turn.now)
    prepared = _Prepared(snapshot.version, first, facts)
    replies = list(out.replies)
    for _ in range(MAX_ACTIONS):
        action = out.action
        if action is None:
            break
        if not isinstance(action, _READ_ONLY):  # it writes: the locked transaction does all
            return await _locked_turn(turn, prepared)
        result = await perform(who, action, facts)
        out = resume(out.state, result, facts, turn.now)
        replies += out.replies
    committed = await turns.commit_turn(
        snapshot,
        json.dumps(out.state.to_json(), ensure_ascii=False),
        turn.outbox_rows(replies, who.identity_id),
        channel=turn.channel,
        update_key=turn.update_key,
        now=turn.now,
    )
    if committed is turns.Committed.DUPLICATE:
        return _DUPLICATE
    if committed is turns.Committed.CONFLICT:
        return None
    return ConversationResult(replies=tuple(replies), duplicate=False, identity_id=who.identity_id)


async def _locked_turn(turn: _Turn, prepared: _Prepared | None) -> ConversationResult:
    """Answer in one write transaction with the user's state locked (`prepared` is used
    when the state is still the version it was run on)."""
    channel, user, now = turn.channel, turn.user, turn.now
    async with write_transaction():
        if turn.update_key is not None:
            first = await store.delivery_with_state(channel, user, turn.update_key, now)
            if first is store.DUPLICATE:
                return _DUPLICATE
            known = first if isinstance(first, tuple) else None
        else:
            known = await store.identity_with_state(channel, user)
        if known is not None:  # the usual case: one round trip for both, the state locked
            identity, (row_id, version, state) = known
        else:  # first contact
            identity = await identities.identity_for(
                channel,
                user,
                display_name=turn.display_name,
                language_hint=turn.incoming.language_hint,
                now=now,
            )
            row_id, version, state = await store.locked_state(channel, user, now)
        who = turn.who(int(identity["id"]))
        if prepared is not None and prepared.version == version:
            out, facts = prepared.out, prepared.facts
        else:
            facts = await _facts(who, identity, state)
            out = step(state, turn.incoming, facts, now)
        replies = list(out.replies)
        attached = False
        for _ in range(MAX_ACTIONS):
            if out.action is None:
                break
            photo = isinstance(out.action, act.AttachPhoto)
            out, facts, result = await _carry_out(who, out, facts)
            attached = attached or (photo and isinstance(result, act.Done) and result.ok)
            replies += out.replies
        # The per-message writes are plain SQL: they run on every message, and building
        # them through the query builder cost more than the database did (measured).
        state_json = json.dumps(out.state.to_json(), ensure_ascii=False)
        queued = turn.outbox_rows(replies, who.identity_id)
        await store.save_state_and_enqueue(row_id, state_json, version + 1, queued, now=now)
        if _reachable_again(turn, identity):
            await identities.mark_reachable(who.identity_id)
    return ConversationResult(
        replies=tuple(replies),
        duplicate=False,
        identity_id=who.identity_id,
        attached_photo=attached,
    )


def _reachable_again(turn: _Turn, identity: dict[str, Any]) -> bool:
    """Whether this message shows that a user marked unreachable (a Telegram user who had
    blocked the bot, a Viber user who unsubscribed) can be reached again: marked with the
    turn, in its transaction. A Viber user who writes is subscribed by writing (Viber sends
    no `subscribed` event for it); one who only opened the chat is not."""
    opened = turn.channel is Channel.VIBER and turn.incoming.kind is IncomingKind.START
    return not opened and not identity.get("subscribed", True)


async def _facts(
    who: Who,
    identity: dict[str, Any],
    state: DialogState,
    accounts: list[AccountInfo] | None = None,
) -> Facts:
    """What the engine may consult. A phone caller has no linked accounts (a call's
    account is named in the call, `DialogState.guest_account_id`); links an older version
    made for a caller are not read."""
    context = who.context
    today = context.today()
    if who.channel is Channel.IVR:
        accounts = []
    elif accounts is None:
        accounts = await identities.linked_accounts(
            who.identity_id, today=today, window=context.window
        )
    guest = None
    if state.guest_account_id is not None:
        found = await identities.account_infos(
            [state.guest_account_id],
            verified=state.caller_verified,
            today=today,
            window=context.window,
        )
        guest = found[0] if found else None
    return Facts(
        user_key=who.key,
        today=today,
        language=identity["language"],
        reminders=bool(identity["reminders"]),
        accounts=tuple(accounts),
        guest=guest,
        window=context.window,
        limits=context.limits,
        account_number_length=context.settings.account_number_length,
        voice=who.channel is Channel.IVR,
        phone_sharing=who.channel in (Channel.TELEGRAM, Channel.MESSENGER),
        caller_phone=who.caller_phone,
    )


async def _carry_out(who: Who, out: Step, facts: Facts) -> tuple[Step, Facts, act.ActionResult]:
    action = out.action
    assert action is not None
    result = await perform(who, action, facts)
    if isinstance(action, act.SetLanguage):
        facts = replace(facts, language=normalize_locale(action.locale))
    elif isinstance(action, act.SetReminders):
        facts = replace(facts, reminders=action.enabled)
    elif (
        isinstance(action, _LINKING)
        and isinstance(result, act.Verified)
        and (result.account_ids or result.guest_account_id is not None)
    ):
        call = out.state
        if result.guest_account_id is not None:
            call = replace(
                call,
                guest_account_id=result.guest_account_id,
                caller_verified=result.caller_verified,
            )
        identity = {"language": facts.language, "reminders": facts.reminders}
        facts = await _facts(who, identity, call)
    return resume(out.state, result, facts, who.now), facts, result
