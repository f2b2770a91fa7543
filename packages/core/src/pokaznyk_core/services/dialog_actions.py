"""Carrying out what the dialog asks: verify, submit, attach a photo, look up.

`conversation` calls `perform` in a turn's locked transaction, and a turn answered from its
snapshot for the actions that only read (a receipt's status, the latest readings).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pokaznyk_core.dialog import actions as act
from pokaznyk_core.dialog.facts import Facts
from pokaznyk_core.dialog.menu import BILLS_SHOWN
from pokaznyk_core.domain.accounts import normalize_phone_digits
from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel, ReadingStatus
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services import identities
from pokaznyk_core.services.bills import account_bills
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.evidence import attach_chat_photo
from pokaznyk_core.services.reading_store import awaits_reviewer_sql
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.services.receipt_lookup import find_receipt_status, receipt_status
from pokaznyk_core.services.verification import (
    VerificationOutcome,
    accounts_with_phone,
    attempt_problem,
    caller_readings_held,
    find_account,
    record_failure,
    serialize_attempts,
    verify_holder,
)
from pokaznyk_core.storage.tables import (
    AccountPhone,
    Meter,
    Reading,
)
from pokaznyk_core.storage.values import spec_of, values_from_row


@dataclass(frozen=True)
class Who:
    """Who a dialog action is carried out for: the platform user, their identity, when."""

    context: ServiceContext
    channel: Channel
    user: str
    identity_id: int
    caller_phone: str | None
    now: datetime

    @property
    def key(self) -> str:
        """The user's key ("telegram:12345"): who submitted, whose failures count."""
        return f"{self.channel.value}:{self.user}"


async def perform(who: Who, action: act.Action, facts: Facts) -> act.ActionResult:
    """Carry out one action inside the turn's transaction; the result resumes the dialog."""
    if isinstance(action, act.VerifyHolder):
        return await _verify_holder(who, action, facts)
    if isinstance(action, act.VerifyPhone):
        return await _verify_phone(who, action)
    if isinstance(action, act.VerifyCaller):
        return await _verify_caller(who, action)
    if isinstance(action, act.SubmitReading):
        return await _submit(who, action, facts)
    if isinstance(action, act.AttachPhoto):
        return await _attach_photo(who, action)
    if isinstance(action, act.LookupReceipt):
        found = await find_receipt_status(action.code)
        return act.Found((found,) if found is not None else ())
    if isinstance(action, act.LatestReadings):
        linked = {a.account_id for a in facts.accounts}
        if facts.guest is not None and facts.guest.verified:  # a phone caller's own account
            linked.add(facts.guest.account_id)
        return await _latest([a for a in action.account_ids if a in linked])
    if isinstance(action, act.SetLanguage):
        await identities.set_language(who.identity_id, action.locale)
        return act.Done()
    await identities.set_reminders(who.identity_id, action.enabled)
    return act.Done()


async def _check_holder(who: Who, action: act.VerifyHolder, facts: Facts) -> VerificationOutcome:
    return await verify_holder(
        who.context,
        user_key=who.key,
        account_or_eic=action.account_or_eic,
        surname=action.surname,
        already_linked_account_ids=frozenset(a.account_id for a in facts.accounts),
    )


def _not_verified(outcome: VerificationOutcome) -> act.Verified:
    failed = outcome.problem is not None and outcome.problem.code is Code.VERIFICATION_FAILED
    return act.Verified(
        problem=outcome.problem,
        attempts_left=outcome.attempts_left if failed else None,
        retry_after=outcome.retry_after,
    )


async def _verify_holder(who: Who, action: act.VerifyHolder, facts: Facts) -> act.Verified:
    outcome = await _check_holder(who, action, facts)
    if outcome.verified and outcome.account_id is not None:
        linked = await identities.link_account(
            who.identity_id, outcome.account_id, "holder", who.now
        )
        return act.Verified(account_ids=(outcome.account_id,), already_linked=not linked)
    return _not_verified(outcome)


async def _verify_phone(who: Who, action: act.VerifyPhone) -> act.Verified:
    accounts = await accounts_with_phone(action.phone)
    await identities.set_phone(who.identity_id, normalize_phone_digits(action.phone))
    for account in accounts:
        await identities.link_account(who.identity_id, account["id"], "phone", who.now)
    return act.Verified(account_ids=tuple(a["id"] for a in accounts))


async def _verify_caller(who: Who, action: act.VerifyCaller) -> act.Verified:
    """A caller may submit for any account number (the design's phone line), which tells
    whether the number exists: so numbers that do not count as failed verifications of
    the caller's number, and the same limits as everywhere hold the caller back. A caller
    whose number is on the account is no guess, like a shared phone in a chat: neither
    the caller's cooldown nor the account's daily hold keeps them off it."""
    caller = who.key  # a caller hiding their number is a new user each call
    account = await find_account(who.context, action.account_or_eic)
    key = account["number"] if account is not None else action.account_or_eic.strip()[:40]
    await serialize_attempts(caller, key)  # the turn's transaction holds it to the end
    digits = normalize_phone_digits(action.caller_phone)
    on_account = (
        account is not None
        and len(digits) >= 9
        and await AccountPhone.exists().where(
            (AccountPhone.account == account["id"]) & (AccountPhone.digits == digits)
        )
    )
    held = None if on_account else await attempt_problem(who.context, caller, key)
    if held is not None:
        return act.Verified(problem=held)
    if account is not None and account["status"] != "active" and on_account:
        return act.Verified(problem=Problem(Code.ACCOUNT_CLOSED))  # told to its holder
    if account is None or account["status"] != "active":
        failed = await record_failure(who.context, user_key=caller, account_key=key)
        if failed.problem is None or failed.problem.code is not Code.VERIFICATION_FAILED:
            return act.Verified(problem=failed.problem)
        return act.Verified(
            problem=Problem(Code.ACCOUNT_UNKNOWN), attempts_left=failed.attempts_left
        )
    if not on_account:
        used = await caller_readings_held(who.context, account["id"])
        if used is not None:  # told before any value is keyed in, so it tells nothing
            return act.Verified(problem=used)
    return act.Verified(guest_account_id=account["id"], caller_verified=bool(on_account))


async def _submit(who: Who, action: act.SubmitReading, facts: Facts) -> act.Submitted:
    """Submit the reading. A caller whose number is not on the account hears no account
    data, but whether a value is refused tells something about the stored one: so each
    refusal counts as a failed verification, under the same limits."""
    extra = frozenset({Flag.UNVERIFIED_SUBMITTER}) if action.unverified else frozenset()
    account_key = facts.guest.number if action.unverified and facts.guest is not None else ""
    if action.unverified:
        await serialize_attempts(who.key, account_key)
        held = await attempt_problem(who.context, who.key, account_key)
        if held is None and facts.guest is not None:
            held = await caller_readings_held(
                who.context, facts.guest.account_id, other_than=action.reading_id
            )
        if held is not None:
            return act.Submitted(stored=False, error=held)
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
    if action.unverified and not outcome.stored:
        failed = await record_failure(who.context, user_key=who.key, account_key=account_key)
        if failed.problem is not None and failed.problem.code is not Code.VERIFICATION_FAILED:
            return act.Submitted(stored=False, error=failed.problem)  # the cooldown starts
        return act.Submitted(
            stored=False, problems=verdict.problems, attempts_left=failed.attempts_left
        )
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
        replaced=outcome.replaced_receipts,
    )


async def _attach_photo(who: Who, action: act.AttachPhoto) -> act.Done:
    if not action.photo_ref:
        return act.Done(ok=False)
    refused = await attach_chat_photo(
        action.reading_id,
        reference=action.photo_ref,
        channel=who.channel.value,
        submitted_by=who.key,
        now=who.now,
    )
    if refused is None:
        return act.Done()
    return act.Done(ok=False, reason=_PHOTO_REFUSALS.get(refused.key, ""))


_PHOTO_REFUSALS = {
    "evidence.too_many": act.TOO_MANY_PHOTOS,
    "evidence.not_flagged": act.NOT_FLAGGED,
}
"""What a chat is told of a photo `services.evidence` refused (anything else: "failed")."""


def _status(row: dict[str, Any], *, serial: str, values: dict[Zone, str]) -> act.ReceiptStatus:
    """A reading's status with its meter and values, for the customer it was verified for."""
    return replace(
        receipt_status(row), meter_serial=serial, values=values, account_id=row["account"]
    )


_LATEST = (
    "SELECT * FROM reading WHERE meter = {}"
    f" AND status <> '{ReadingStatus.SUPERSEDED.value}' AND NOT {awaits_reviewer_sql()}"
    " ORDER BY taken_on DESC, received_at DESC LIMIT 1"
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
        # A phone caller's value no reviewer accepted is not the customer's latest.
        rows = await Reading.raw(_LATEST, meter["id"])
        row = rows[0] if rows else None
        if row is None:
            continue
        spec = spec_of(meter)
        values = {z: spec.format(v) for z, v in values_from_row(row, spec).items()}
        found.append(_status(row, serial=meter["serial"], values=values))
    bills = [
        act.BillStatus(
            period=str(bill.period),
            meter_serial=bill.meter_serial,
            basis=bill.basis.value,
            kwh=bill.total,
            notice=bill.reconciliation.notice if bill.reconciliation else None,
            account_id=account_id,
        )
        for account_id in account_ids
        for bill in await account_bills(account_id, limit=BILLS_SHOWN)
    ]
    return act.Found(tuple(found), bills=tuple(bills))
