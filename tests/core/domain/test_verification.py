from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.verification import (
    VerificationLimits,
    caller_readings_problem,
    holder_entry_problem,
    verification_gate,
)

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
LIMITS = VerificationLimits()


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_lets_a_new_user_try_with_all_attempts_left() -> None:
    gate = verification_gate([], [], NOW, LIMITS)
    assert gate.allowed
    assert gate.problem is None
    assert gate.attempts_left == 5
    assert gate.retry_after is None


def test_counts_down_the_attempts_left_within_the_hour() -> None:
    gate = verification_gate(minutes_ago(50, 10, 1), [], NOW, LIMITS)
    assert gate.allowed
    assert gate.attempts_left == 2


def test_forgets_failures_older_than_the_hour() -> None:
    gate = verification_gate(minutes_ago(120, 90, 61, 60), [], NOW, LIMITS)
    assert gate.attempts_left == 5


def test_starts_an_hours_cooldown_after_the_fifth_failure_in_an_hour() -> None:
    gate = verification_gate(minutes_ago(40, 30, 20, 10, 5), [], NOW, LIMITS)
    assert not gate.allowed
    assert gate.problem == Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 55})
    assert gate.retry_after == timedelta(minutes=55)
    assert gate.attempts_left == 0


def test_rounds_the_minutes_to_wait_up() -> None:
    gate = verification_gate(minutes_ago(5, 4, 3, 2, 1.5), [], NOW, LIMITS)
    assert gate.problem == Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 59})


def test_lets_the_user_try_again_once_the_cooldown_is_over_with_a_fresh_count() -> None:
    gate = verification_gate(minutes_ago(100, 90, 80, 70, 60), [], NOW, LIMITS)
    assert gate.allowed
    assert gate.attempts_left == 5


def test_does_not_count_five_failures_spread_over_more_than_an_hour() -> None:
    gate = verification_gate(minutes_ago(70, 50, 30, 10, 1), [], NOW, LIMITS)
    assert gate.allowed
    assert gate.attempts_left == 1


def test_holds_new_verifications_of_an_account_with_twenty_failures_in_a_day() -> None:
    account = [NOW - timedelta(hours=h) for h in range(20)]
    gate = verification_gate([], account, NOW, LIMITS)
    assert not gate.allowed
    assert gate.problem == Problem(Code.VERIFICATION_ACCOUNT_HELD)
    assert gate.retry_after is None
    assert gate.attempts_left is None


def test_forgets_account_failures_older_than_a_day() -> None:
    account = [NOW - timedelta(hours=h) for h in range(5, 25)]
    assert verification_gate([], account, NOW, LIMITS).allowed


def test_lets_users_already_linked_to_a_held_account_through() -> None:
    account = [NOW - timedelta(minutes=m) for m in range(30)]
    gate = verification_gate([], account, NOW, LIMITS, already_linked=True)
    assert gate.allowed


def test_answers_an_unknown_account_like_a_fresh_known_one() -> None:
    assert verification_gate(minutes_ago(3), [], NOW, LIMITS) == verification_gate(
        minutes_ago(3), minutes_ago(3, 2), NOW, LIMITS
    )


def test_puts_the_users_cooldown_before_the_account_hold() -> None:
    account = [NOW - timedelta(minutes=m) for m in range(30)]
    gate = verification_gate(minutes_ago(5, 4, 3, 2, 1), account, NOW, LIMITS)
    assert gate.problem is not None
    assert gate.problem.code is Code.VERIFICATION_COOLDOWN


@example([185, 185, 185, 185, 185, 245])
@given(st.lists(st.integers(0, 24 * 60), max_size=30))
def test_never_allows_more_than_five_failures_within_any_hour(minutes: list[int]) -> None:
    failures = sorted(minutes_ago(*minutes))
    accepted: list[datetime] = []
    for failure in failures:
        if verification_gate(accepted, [], failure, LIMITS).allowed:
            accepted.append(failure)
    # An hour is half-open, as everywhere in the limits: failures a whole hour apart are
    # not in the same hour, and the user may try again the moment a cooldown ends.
    for index in range(5, len(accepted)):
        assert accepted[index] - accepted[index - 5] >= timedelta(hours=1)


def test_an_account_takes_a_bounded_number_of_readings_from_callers_not_on_it() -> None:
    limits = VerificationLimits(caller_readings=3)
    assert caller_readings_problem(2, limits) is None
    problem = caller_readings_problem(3, limits)
    assert problem is not None and problem.code is Code.VERIFICATION_CALLER_READINGS_USED


MALFORMED_ENTRIES = [
    ("", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("12345", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("abc", Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})),
    ("62Z554330313580X", Problem(Code.EIC_CHECK_CHARACTER)),
    ("62Z55433031358", Problem(Code.EIC_LENGTH, {"length": 16})),
    ("10X1001A1001A450", Problem(Code.EIC_PREFIX, {"prefix": "62Z"})),
]


@pytest.mark.parametrize(
    ("typed", "problem"), MALFORMED_ENTRIES, ids=[t or "empty" for t, _ in MALFORMED_ENTRIES]
)
def test_an_entry_in_neither_format_is_told_the_formats_own_problem(
    typed: str, problem: Problem
) -> None:
    assert holder_entry_problem(typed, "Петренко", 10) == problem


@pytest.mark.parametrize(
    "typed", ["0123456789", "о/р 0123-456-789", "62Z554330313580Y", "62z 5543 3031 3580 y"]
)
def test_an_account_number_or_eic_in_its_format_may_be_tried(typed: str) -> None:
    assert holder_entry_problem(typed, "Петренко", 10) is None


def test_a_field_longer_than_any_holders_data_is_refused_with_its_limit() -> None:
    assert holder_entry_problem("1" * 41, "Петренко", 10) == Problem(
        Code.ACCOUNT_ENTRY_TOO_LONG, {"max": 40}
    )
    assert holder_entry_problem("0123456789", "П" * 101, 10) == Problem(
        Code.SURNAME_TOO_LONG, {"max": 100}
    )
    assert holder_entry_problem("0123456789", "П" * 100, 10) is None
