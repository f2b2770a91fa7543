"""Verifying a customer: account number (or EIC) plus surname, or a matching phone.

The limits live in the database (every server process sees the same failures), and the
answer to an unknown account and to a wrong surname is the same, given only after both
were asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pokaznyk_core.domain.accounts import (
    normalize_phone_digits,
    surname_matches,
    validate_account_number,
)
from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.eic import validate_eic
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import plain_text
from pokaznyk_core.domain.verification import (
    VerificationLimits,
    caller_readings_problem,
    holder_entry_problem,
    verification_gate,
)
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import (
    Account,
    AccountPhone,
    MeteringPoint,
    Reading,
    VerificationFailure,
)
from pokaznyk_core.storage.transactions import serialize_on, write_transaction


@dataclass(frozen=True)
class VerificationOutcome:
    """The answer to a verification attempt.

    `problem` is VERIFICATION_FAILED (with `attempts_left`), VERIFICATION_COOLDOWN or
    VERIFICATION_ACCOUNT_HELD, none of which says which part was wrong; or, with no attempt
    counted, what is wrong with the entry's format (an account number, an EIC, a length).
    """

    verified: bool
    account_id: int | None = None
    account_number: str | None = None
    problem: Problem | None = None
    attempts_left: int | None = None
    retry_after: timedelta | None = None
    """How long a cooldown still runs (None for anything else)."""


async def find_account(context: ServiceContext, account_or_eic: str) -> dict[str, Any] | None:
    """The account row for an account number or the EIC of one of its metering points."""
    text = plain_text(account_or_eic).strip()
    number = validate_account_number(text, context.settings.account_number_length)
    if not isinstance(number, Problem):  # plain SQL: it runs on every verification
        rows = await Account.raw("SELECT * FROM account WHERE number = {}", number)
        return dict(rows[0]) if rows else None
    eic = validate_eic(text)
    if isinstance(eic, Problem):
        return None
    point = (
        await MeteringPoint.select(MeteringPoint.account).where(MeteringPoint.eic == eic).first()
    )
    if point is None:
        return None
    return await Account.select().where(Account.id == point["account"]).first()


async def failures_since(column: Any, key: str, since: datetime) -> list[datetime]:
    """When the failures counted under `key` (in `column` of `verification_failure`) were
    recorded, since `since`."""
    rows = await VerificationFailure.select(VerificationFailure.failed_at).where(
        (column == key) & (VerificationFailure.failed_at >= since)
    )
    return [r["failed_at"] for r in rows]


# The recent failures of a user and of an account (by the number typed).
_FAILURES = (
    "SELECT 'user' AS counted, failed_at FROM verification_failure"
    " WHERE user_key = {} AND failed_at >= {}"
    " UNION ALL SELECT 'account', failed_at FROM verification_failure"
    " WHERE account_key = {} AND account_key <> '' AND failed_at >= {}"
)
# The account with a number (if any) and the failures beside it, in one round trip: one
# row per failure, or one row without a failure.
_ACCOUNT_AND_FAILURES = (
    "SELECT a.*, f.counted, f.failed_at FROM (SELECT 1) AS one"
    " LEFT JOIN account a ON a.number = {}"
    f" LEFT JOIN ({_FAILURES}) AS f ON true"
)


@dataclass(frozen=True)
class _Attempt:
    """What a verification attempt is judged on."""

    account: dict[str, Any] | None
    account_key: str
    """The number failures count against: the account's, or the number typed."""
    user_failures: list[datetime]
    account_failures: list[datetime]


async def _attempt(
    context: ServiceContext, account_or_eic: str, user_key: str, now: datetime
) -> _Attempt:
    """The account and the recent failures of the user and of the account, read after
    the attempts on either are serialized (so no two of them are judged on the same
    count); an account number is looked up with the failures in one round trip, an EIC
    first on its own."""
    user_since, account_since = _counted_since(context.verification, now)
    number = validate_account_number(account_or_eic.strip(), context.settings.account_number_length)
    if isinstance(number, Problem):
        account = await find_account(context, account_or_eic)
        # Failures count against the code typed even when no account has it, as against a
        # number, so a held code tells nothing about whether the account exists.
        code = "".join(account_or_eic.split()).upper()
        account_key = account["number"] if account else f"eic:{code}"[:40]
        await serialize_attempts(user_key, account_key)
        rows = await VerificationFailure.raw(
            _FAILURES, user_key, user_since, account_key, account_since
        )
    else:
        account_key = number
        await serialize_attempts(user_key, account_key)
        rows = await Account.raw(
            _ACCOUNT_AND_FAILURES, number, user_key, user_since, number, account_since
        )
        first = {k: v for k, v in rows[0].items() if k not in ("counted", "failed_at")}
        account = first if first["id"] is not None else None
    user_failures, account_failures = _split(rows)
    return _Attempt(
        account=account,
        account_key=account_key,
        user_failures=user_failures,
        account_failures=account_failures,
    )


def _counted_since(limits: VerificationLimits, now: datetime) -> tuple[datetime, datetime]:
    """Since when a user's failures and an account's count at `now`."""
    return now - limits.user_window - limits.user_cooldown, now - limits.account_window


def _split(rows: list[dict[str, Any]]) -> tuple[list[datetime], list[datetime]]:
    """The times of the user's failures and of the account's, from `_FAILURES` rows."""
    return (
        [r["failed_at"] for r in rows if r["counted"] == "user"],
        [r["failed_at"] for r in rows if r["counted"] == "account"],
    )


async def verify_holder(
    context: ServiceContext,
    *,
    user_key: str,
    account_or_eic: str,
    surname: str,
    already_linked_account_ids: frozenset[int] = frozenset(),
) -> VerificationOutcome:
    """Check an account number (or EIC) and the holder's surname, within the limits.

    `user_key` names who is trying (e.g. "telegram:12345" or "web:203.0.113.7"); its
    failures and the account's are counted in the database, and attempts on the same user
    or account take turns from the count to the failure written, so a burst of them at
    once cannot pass a limit. A caller that writes a failure of its own after this (a
    wrong phone) calls it inside its own `write_transaction`, which keeps the turns until
    that failure is written.

    An entry no account could have (too long, or in neither format) is answered with
    what is wrong with it and counts no attempt.
    """
    entry = holder_entry_problem(account_or_eic, surname, context.settings.account_number_length)
    if entry is not None:
        return VerificationOutcome(verified=False, problem=entry)
    now = context.now()
    limits = context.verification
    async with write_transaction():
        attempt = await _attempt(context, account_or_eic, user_key[:120], now)
        account, account_key = attempt.account, attempt.account_key
        user_failures = attempt.user_failures
        linked = account is not None and account["id"] in already_linked_account_ids
        gate = verification_gate(
            user_failures, attempt.account_failures, now, limits, already_linked=linked
        )
        if not gate.allowed:
            return VerificationOutcome(
                verified=False, problem=gate.problem, attempts_left=0, retry_after=gate.retry_after
            )
        if account is not None and surname_matches(surname, account["surname"]):
            if account["status"] != "active":  # told only to whoever knows the holder
                return VerificationOutcome(verified=False, problem=Problem(Code.ACCOUNT_CLOSED))
            return VerificationOutcome(
                verified=True, account_id=account["id"], account_number=account["number"]
            )
        return await record_failure(context, user_key=user_key, account_key=account_key)


async def record_failure(
    context: ServiceContext, *, user_key: str, account_key: str
) -> VerificationOutcome:
    """Count a failed verification and give the answer every failure gets, whichever part
    was wrong: attempts left, or the cooldown once they are used up."""
    now = context.now()
    limits = context.verification
    async with write_transaction():
        await VerificationFailure.insert(
            VerificationFailure(user_key=user_key[:120], account_key=account_key, failed_at=now)
        )
        user_failures = await failures_since(
            VerificationFailure.user_key, user_key, now - limits.user_window - limits.user_cooldown
        )
    return _failed(user_failures, now, limits)


async def serialize_attempts(user_key: str, account_key: str = "") -> None:
    """Make verification attempts on the same user or account (by the number typed) take
    turns until the caller's transaction ends, so none is judged on a count another is
    about to raise. Take it before reading the failures, inside the transaction that writes
    the failure."""
    keys = [f"verify-user:{user_key[:120]}"]
    if account_key:  # no failure counts against an empty key
        keys.append(f"verify-account:{account_key}")
    await serialize_on(*keys)


async def attempt_problem(
    context: ServiceContext, user_key: str, account_key: str = ""
) -> Problem | None:
    """What holds back an attempt of `user_key` on `account_key` (an account's number, or
    the number typed when no account has it; "" for none): the user's cooldown once their
    failed attempts are used up, or the account's hold for the day once it had its
    failures. None when the attempt may go on."""
    now = context.now()
    user_since, account_since = _counted_since(context.verification, now)
    rows = await VerificationFailure.raw(
        _FAILURES, user_key[:120], user_since, account_key, account_since
    )
    gate = verification_gate(*_split(rows), now, context.verification)
    return None if gate.allowed else gate.problem


# The readings an account took from phone callers not on it since a moment (but one).
_CALLER_READINGS = (
    "SELECT count(*) AS taken FROM reading WHERE account = {} AND received_at >= {}"
    " AND id <> {} AND flags LIKE {}"
)
_NO_READING = UUID(int=0)


async def caller_readings_held(
    context: ServiceContext, account_id: int, *, other_than: UUID = _NO_READING
) -> Problem | None:
    """Whether the account has taken its day's readings from phone callers whose number
    is not on it (`VerificationLimits.caller_readings`); `other_than` is the reading being
    submitted, which a retry finds stored already."""
    since = context.now() - context.verification.account_window
    pattern = f"%{Flag.UNVERIFIED_SUBMITTER.value}%"
    rows = await Reading.raw(_CALLER_READINGS, account_id, since, other_than, pattern)
    return caller_readings_problem(int(rows[0]["taken"]), context.verification)


def _failed(
    user_failures: list[datetime], now: datetime, limits: VerificationLimits
) -> VerificationOutcome:
    """The answer to a failure, given the user's failures including it."""
    gate = verification_gate(user_failures, [], now, limits)
    if not gate.allowed:
        return VerificationOutcome(
            verified=False, problem=gate.problem, attempts_left=0, retry_after=gate.retry_after
        )
    return VerificationOutcome(
        verified=False,
        problem=Problem(Code.VERIFICATION_FAILED),
        attempts_left=gate.attempts_left,
    )


async def accounts_with_phone(phone: str) -> list[dict[str, Any]]:
    """Active accounts that have this phone number (any format; compared by digits)."""
    digits = normalize_phone_digits(phone)
    if len(digits) < 9:
        return []
    phones = await AccountPhone.select(AccountPhone.account).where(AccountPhone.digits == digits)
    ids = sorted({p["account"] for p in phones})
    if not ids:
        return []
    return await (
        Account.select()
        .where(Account.id.is_in(ids))
        .where(Account.status == "active")
        .order_by(Account.number)
    )
