"""Limits on failed verifications, per user and per account.

A user (a platform user or a web client address) with too many recent failures waits
out a cooldown. An account with too many recent failures holds new verifications, but
users already linked to it keep working, so nobody can lock a customer out. The
answers never reveal which part of the data was wrong, nor that an account is held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pokaznyk_core.domain.accounts import (
    MAX_ACCOUNT_ENTRY_LENGTH,
    MAX_SURNAME_LENGTH,
    account_or_eic,
)
from pokaznyk_core.domain.outcomes import Code, Problem


@dataclass(frozen=True)
class VerificationLimits:
    """How many failures start a cooldown or a hold, and for how long."""

    user_failures: int = 5
    """Failures of one user within ``user_window`` that start a cooldown."""
    user_window: timedelta = timedelta(hours=1)
    """The span in which a user's failures are counted."""
    user_cooldown: timedelta = timedelta(hours=1)
    """How long the user waits, from the failure that reached the limit."""
    account_failures: int = 20
    """Failures on one account within ``account_window`` that hold new verifications."""
    account_window: timedelta = timedelta(days=1)
    """The span in which an account's failures are counted."""
    caller_readings: int = 3
    """Readings an account takes within ``account_window`` from phone callers whose number
    is not on it. Such a caller hears no account data, but whether a value is taken tells
    whether it is above the stored one: refusals count as failures, and this bounds the
    values taken, so that nobody can search the stored reading out by trying values. The
    holder's own number, the chats and the web form are not held by it."""

    @property
    def remembered_for(self) -> timedelta:
        """How long a failure counts for anything (a user's cooldown or an account's hold):
        an older one is never read again."""
        return max(self.user_window + self.user_cooldown, self.account_window)


@dataclass(frozen=True)
class VerificationGate:
    """Whether a user may try to verify now.

    When allowed, ``attempts_left`` says how many failures remain before a cooldown.
    When not, ``problem`` says why and ``retry_after`` how long to wait (``None`` for an
    account hold: its end must not be revealed).
    """

    allowed: bool
    problem: Problem | None
    attempts_left: int | None
    retry_after: timedelta | None


def _replay(failures: list[datetime], limits: VerificationLimits) -> _UserState:
    """Replay a user's failures (sorted): cooldowns started and failures since."""
    cooldown_until: datetime | None = None
    counted: list[datetime] = []
    for failure in failures:
        if cooldown_until is not None and failure < cooldown_until:
            continue  # a failure recorded during a cooldown starts nothing new
        counted = [t for t in counted if failure - t < limits.user_window] + [failure]
        if len(counted) >= limits.user_failures:
            cooldown_until = failure + limits.user_cooldown
            counted = []
    return _UserState(cooldown_until, tuple(counted))


@dataclass(frozen=True)
class _UserState:
    cooldown_until: datetime | None
    counted: tuple[datetime, ...]


def holder_entry_problem(
    account_or_eic_text: str, surname: str, account_number_length: int
) -> Problem | None:
    """What makes an account number (or EIC) and a surname typed to verify no attempt at
    all: a field longer than any holder's data, or a number in neither format. None when
    they may be tried. Such an entry costs no attempt: the formats are public, so the
    answer tells nothing about any account."""
    if len(account_or_eic_text) > MAX_ACCOUNT_ENTRY_LENGTH:
        return Problem(Code.ACCOUNT_ENTRY_TOO_LONG, {"max": MAX_ACCOUNT_ENTRY_LENGTH})
    if len(surname) > MAX_SURNAME_LENGTH:
        return Problem(Code.SURNAME_TOO_LONG, {"max": MAX_SURNAME_LENGTH})
    found = account_or_eic(account_or_eic_text, account_number_length)
    return found if isinstance(found, Problem) else None


def wait_minutes(wait: timedelta) -> int:
    """The minutes a wait is told as: rounded up, at least one."""
    return max(1, math.ceil(wait / timedelta(minutes=1)))


def cooldown_problem(wait: timedelta) -> Problem:
    """What a user in a cooldown is told: the minutes left, rounded up."""
    return Problem(Code.VERIFICATION_COOLDOWN, {"minutes": wait_minutes(wait)})


def caller_readings_problem(taken: int, limits: VerificationLimits) -> Problem | None:
    """What a phone caller not on an account is told once the account has taken
    ``taken`` readings from such callers within the account's window (None: go on)."""
    if taken < limits.caller_readings:
        return None
    return Problem(Code.VERIFICATION_CALLER_READINGS_USED)


def verification_gate(
    user_failures: Sequence[datetime],
    account_failures: Sequence[datetime],
    now: datetime,
    limits: VerificationLimits,
    already_linked: bool = False,
) -> VerificationGate:
    """Decide whether a user may attempt a verification at ``now``.

    ``user_failures`` and ``account_failures`` are the times of earlier failed attempts
    of this user and on this account. Pass ``account_failures=[]`` when the account is
    unknown, and call the gate the same way for an unknown account and a wrong surname.
    A user already linked to the account is not held by the account's failures.
    """
    state = _replay(sorted(t for t in user_failures if t <= now), limits)
    if state.cooldown_until is not None and now < state.cooldown_until:
        wait = state.cooldown_until - now
        return VerificationGate(
            allowed=False,
            problem=cooldown_problem(wait),
            attempts_left=0,
            retry_after=wait,
        )
    if not already_linked:
        recent = [t for t in account_failures if now - limits.account_window < t <= now]
        if len(recent) >= limits.account_failures:
            return VerificationGate(
                allowed=False,
                problem=Problem(Code.VERIFICATION_ACCOUNT_HELD),
                attempts_left=None,
                retry_after=None,
            )
    still_counted = [t for t in state.counted if now - t < limits.user_window]
    return VerificationGate(
        allowed=True,
        problem=None,
        attempts_left=max(0, limits.user_failures - len(still_counted)),
        retry_after=None,
    )
