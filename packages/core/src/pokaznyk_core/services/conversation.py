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

from pokaznyk_core.dialog import actions as act
from pokaznyk_core.dialog.engine import resume, step
from pokaznyk_core.dialog.facts import AccountInfo, Facts
from pokaznyk_core.dialog.menu import BILLS_SHOWN
from pokaznyk_core.dialog.messages import Incoming, Reply
from pokaznyk_core.dialog.turn import Step
from pokaznyk_core.domain.accounts import normalize_phone_digits
from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel, ReadingStatus
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.services import dialog_store as store
from pokaznyk_core.services import identities
from pokaznyk_core.services import turn_store as turns
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.bills import account_bills
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.readings import ReadingSubmission, find_by_receipt, submit_reading
from pokaznyk_core.services.turn_store import OutboxRow
from pokaznyk_core.services.verification import accounts_with_phone, find_account, verify_holder
from pokaznyk_core.storage.tables import (
    AccountPhone,
    Meter,
    Reading,
    ReadingEvidence,
)
from pokaznyk_core.storage.transactions import write_transaction
from pokaznyk_core.storage.values import spec_of, values_from_row

MAX_ACTIONS = 4
"""How many actions one message may lead to (verify → latest readings is the longest)."""

_LINKING = (act.VerifyHolder, act.VerifyPhone, act.VerifyCaller)
_READ_ONLY = (act.LookupReceipt, act.LatestReadings)
"""Actions a snapshot turn carries out itself (with a verification by account number and
surname, whose link or failure it writes with its answer)."""
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


@dataclass(frozen=True)
class _Who:
    context: ServiceContext
    channel: Channel
    user: str
    identity_id: int
    caller_phone: str | None
    now: datetime

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.user}"


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

    def who(self, identity_id: int) -> _Who:
        caller = self.caller
        if self.channel is Channel.IVR and caller is None:
            caller = ""
        return _Who(self.context, self.channel, self.user, identity_id, caller, self.now)

    def outbox_rows(self, replies: list[Reply], identity_id: int) -> list[OutboxRow]:
        rows = list(self.also_queue)
        if self.enqueue:
            rows += [
                OutboxRow(
                    self.channel.value,
                    self.user,
                    {"reply": reply.to_json(), "kind": "reply", "identity_id": identity_id},
                )
                for reply in replies
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
    since = identities.recent_since(turn.context.today())
    snapshot = await turns.read_turn(turn.channel, turn.user, turn.update_key, since)
    if snapshot.identity is None and not snapshot.seen:  # first contact
        await turns.create_conversation(
            turn.channel,
            turn.user,
            display_name=turn.display_name,
            language=normalize_locale(turn.incoming.language_hint),
            now=turn.now,
        )
        snapshot = await turns.read_turn(turn.channel, turn.user, turn.update_key, since)
    if snapshot.seen:
        return _DUPLICATE
    if snapshot.identity is None or snapshot.state is None:
        return await _locked_turn(turn, None)
    who = turn.who(int(snapshot.identity["id"]))
    accounts = await identities.accounts_from_rows(
        snapshot.fact_rows, today=who.context.today(), window=who.context.window
    )
    facts = await _facts(who, snapshot.identity, snapshot.state.guest_account_id, accounts)
    first = out = step(snapshot.state, turn.incoming, facts, turn.now)
    prepared = _Prepared(snapshot.version, first, facts)
    replies = list(out.replies)
    links: list[tuple[int, int, str]] = []
    failures: list[tuple[str, str]] = []
    for _ in range(MAX_ACTIONS):
        action = out.action
        if action is None:
            break
        result: act.ActionResult
        if isinstance(action, act.VerifyHolder):
            result, facts = await _verify_unrecorded(who, action, facts, links, failures)
        elif isinstance(action, _READ_ONLY):
            result = await _perform(who, action, facts)
        else:  # an action that writes on its own: the locked transaction does it all
            return await _locked_turn(turn, prepared)
        out = resume(out.state, result, facts, turn.now)
        replies += out.replies
    committed = await turns.commit_turn(
        snapshot,
        json.dumps(out.state.to_json(), ensure_ascii=False),
        turn.outbox_rows(replies, who.identity_id),
        channel=turn.channel,
        update_key=turn.update_key,
        now=turn.now,
        writes=turns.TurnWrites(tuple(links), tuple(failures)),
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
            facts = await _facts(who, identity, state.guest_account_id)
            out = step(state, turn.incoming, facts, now)
        replies = list(out.replies)
        for _ in range(MAX_ACTIONS):
            if out.action is None:
                break
            out, facts = await _carry_out(who, out, facts)
            replies += out.replies
        # The per-message writes are plain SQL: they run on every message, and building
        # them through the query builder cost more than the database did (measured).
        state_json = json.dumps(out.state.to_json(), ensure_ascii=False)
        queued = turn.outbox_rows(replies, who.identity_id)
        await store.save_state_and_enqueue(row_id, state_json, version + 1, queued, now=now)
    return ConversationResult(replies=tuple(replies), duplicate=False, identity_id=who.identity_id)


async def _facts(
    who: _Who,
    identity: dict[str, Any],
    guest_account_id: int | None,
    accounts: list[AccountInfo] | None = None,
) -> Facts:
    context = who.context
    today = context.today()
    if accounts is None:
        accounts = await identities.linked_accounts(
            who.identity_id, today=today, window=context.window
        )
    guest = None
    if guest_account_id is not None:
        found = await identities.account_infos(
            [guest_account_id], verified=False, today=today, window=context.window
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


async def _carry_out(who: _Who, out: Step, facts: Facts) -> tuple[Step, Facts]:
    action = out.action
    assert action is not None
    result = await _perform(who, action, facts)
    if isinstance(action, act.SetLanguage):
        facts = replace(facts, language=normalize_locale(action.locale))
    elif isinstance(action, act.SetReminders):
        facts = replace(facts, reminders=action.enabled)
    elif (
        isinstance(action, _LINKING)
        and isinstance(result, act.Verified)
        and (result.account_ids or result.guest_account_id is not None)
    ):
        guest = result.guest_account_id or out.state.guest_account_id
        identity = {"language": facts.language, "reminders": facts.reminders}
        facts = await _facts(who, identity, guest)
    return resume(out.state, result, facts, who.now), facts


async def _perform(who: _Who, action: act.Action, facts: Facts) -> act.ActionResult:
    if isinstance(action, act.VerifyHolder):
        return await _verify_holder(who, action, facts)
    if isinstance(action, act.VerifyPhone):
        return await _verify_phone(who, action)
    if isinstance(action, act.VerifyCaller):
        return await _verify_caller(who, action)
    if isinstance(action, act.SubmitReading):
        return await _submit(who, action)
    if isinstance(action, act.AttachPhoto):
        return await _attach_photo(who, action)
    if isinstance(action, act.LookupReceipt):
        row = await find_by_receipt(action.code)
        return act.Found((_status(row, with_values=False),) if row else ())
    if isinstance(action, act.LatestReadings):
        linked = {a.account_id for a in facts.accounts}
        return await _latest([a for a in action.account_ids if a in linked])
    if isinstance(action, act.SetLanguage):
        await identities.set_language(who.identity_id, action.locale)
        return act.Done()
    await identities.set_reminders(who.identity_id, action.enabled)
    return act.Done()


async def _verify_holder(who: _Who, action: act.VerifyHolder, facts: Facts) -> act.Verified:
    outcome = await verify_holder(
        who.context,
        user_key=who.key,
        account_or_eic=action.account_or_eic,
        surname=action.surname,
        already_linked_account_ids=frozenset(a.account_id for a in facts.accounts),
    )
    if outcome.verified and outcome.account_id is not None:
        await identities.link_account(who.identity_id, outcome.account_id, "holder", who.now)
        return act.Verified(account_ids=(outcome.account_id,))
    failed = outcome.problem is not None and outcome.problem.code is Code.VERIFICATION_FAILED
    return act.Verified(
        problem=outcome.problem, attempts_left=outcome.attempts_left if failed else None
    )


async def _verify_unrecorded(
    who: _Who,
    action: act.VerifyHolder,
    facts: Facts,
    links: list[tuple[int, int, str]],
    failures: list[tuple[str, str]],
) -> tuple[act.Verified, Facts]:
    """Verify from the snapshot: the link or the failure is added to the turn's writes
    (committed with its answer), and a newly linked account to the facts."""
    outcome = await verify_holder(
        who.context,
        user_key=who.key,
        account_or_eic=action.account_or_eic,
        surname=action.surname,
        already_linked_account_ids=frozenset(a.account_id for a in facts.accounts),
        record=False,
    )
    if outcome.verified and outcome.account_id is not None:
        links.append((who.identity_id, outcome.account_id, "holder"))
        if facts.account(outcome.account_id) is None:
            context = who.context
            added = await identities.account_infos(
                [outcome.account_id], today=context.today(), window=context.window
            )
            facts = replace(facts, accounts=facts.accounts + tuple(added))
        return act.Verified(account_ids=(outcome.account_id,)), facts
    if outcome.failure_to_record is not None:
        failures.append(outcome.failure_to_record)
    failed = outcome.problem is not None and outcome.problem.code is Code.VERIFICATION_FAILED
    verified = act.Verified(
        problem=outcome.problem, attempts_left=outcome.attempts_left if failed else None
    )
    return verified, facts


async def _verify_phone(who: _Who, action: act.VerifyPhone) -> act.Verified:
    accounts = await accounts_with_phone(action.phone)
    await identities.set_phone(who.identity_id, normalize_phone_digits(action.phone))
    for account in accounts:
        await identities.link_account(who.identity_id, account["id"], "phone", who.now)
    return act.Verified(account_ids=tuple(a["id"] for a in accounts))


async def _verify_caller(who: _Who, action: act.VerifyCaller) -> act.Verified:
    account = await find_account(who.context, action.account_or_eic)
    if account is None or account["status"] != "active":
        return act.Verified(problem=Problem(Code.ACCOUNT_UNKNOWN))
    digits = normalize_phone_digits(action.caller_phone)
    on_account = len(digits) >= 9 and await AccountPhone.exists().where(
        (AccountPhone.account == account["id"]) & (AccountPhone.digits == digits)
    )
    if on_account:
        await identities.link_account(who.identity_id, account["id"], "caller_phone", who.now)
        return act.Verified(account_ids=(account["id"],))
    return act.Verified(guest_account_id=account["id"])


async def _submit(who: _Who, action: act.SubmitReading) -> act.Submitted:
    extra = frozenset({Flag.UNVERIFIED_SUBMITTER}) if action.unverified else frozenset()
    try:
        outcome = await submit_reading(
            who.context,
            ReadingSubmission(
                reading_id=action.reading_id,
                meter_id=action.meter_id,
                values=action.values,
                channel=who.channel,
                submitted_by=who.key,
                extra_flags=extra,
                source=who.key,
            ),
        )
    except ServiceError as error:
        return act.Submitted(stored=False, error=error.problem)
    verdict = outcome.verdict
    notices = list(verdict.notices)
    reconciliation = getattr(outcome, "reconciliation", None)
    if reconciliation is not None:
        notices.append(reconciliation.notice)
    return act.Submitted(
        stored=outcome.stored,
        receipt=outcome.receipt or "",
        status=outcome.status.value if outcome.status else "",
        period=str(outcome.period) if outcome.period else "",
        in_window=outcome.in_window,
        flags=verdict.flags | extra if outcome.stored else frozenset(),
        problems=verdict.problems,
        notices=tuple(notices),
    )


async def _attach_photo(who: _Who, action: act.AttachPhoto) -> act.Done:
    mine = await Reading.exists().where(
        (Reading.id == action.reading_id) & (Reading.submitted_by == who.key[:80])
    )
    if not mine or not action.photo_ref:
        return act.Done(ok=False)
    await ReadingEvidence.insert(
        ReadingEvidence(
            reading=action.reading_id,
            content_type=f"{who.channel.value}/file-ref",
            content=action.photo_ref,
            source=who.key[:200],
            attached_at=who.now,
        )
    )
    await record_audit(
        at=who.now,
        actor=who.key,
        action="reading.photo_attached",
        entity="reading",
        entity_id=str(action.reading_id),
        details={"channel": who.channel.value, "kind": "file-ref"},
        source=who.key,
    )
    return act.Done()


def _status(
    row: dict[str, Any],
    *,
    with_values: bool,
    serial: str = "",
    values: dict[Zone, str] | None = None,
) -> act.ReceiptStatus:
    return act.ReceiptStatus(
        receipt=row["receipt"],
        status=row["status"],
        period=row["period"],
        taken_on=row["taken_on"].isoformat(),
        in_window=bool(row["in_window"]),
        meter_serial=serial if with_values else "",
        values=(values or {}) if with_values else {},
    )


async def _latest(account_ids: list[int]) -> act.Found:
    """The latest reading of each meter in service, and the last closed periods billed."""
    if not account_ids:
        return act.Found(bills=())
    meters = await (
        Meter.select()
        .where(Meter.metering_point.account.is_in(account_ids))
        .where(Meter.removed_on.is_null())
        .order_by(Meter.id)
    )
    found = []
    for meter in meters:
        row = await (
            Reading.select()
            .where(Reading.meter == meter["id"])
            .where(Reading.status != ReadingStatus.SUPERSEDED.value)
            .order_by(Reading.received_at, ascending=False)
            .first()
        )
        if row is None:
            continue
        spec = spec_of(meter)
        values = {z: spec.format(v) for z, v in values_from_row(row, spec).items()}
        found.append(_status(row, with_values=True, serial=meter["serial"], values=values))
    bills = [
        act.BillStatus(
            period=str(bill.period),
            meter_serial=bill.meter_serial,
            basis=bill.basis.value,
            kwh=bill.total,
            notice=bill.reconciliation.notice if bill.reconciliation else None,
        )
        for account_id in account_ids
        for bill in await account_bills(account_id, limit=BILLS_SHOWN)
    ]
    return act.Found(tuple(found), bills=tuple(bills))
