"""Billing periods and the submission window around each month end.

The window of period M is the last ``days_before_month_end`` days of M and the first
``days_after_month_start`` days of M+1, in the company's time zone. A reading taken in
it counts for M; any other reading counts for its own month, marked off-window.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pokaznyk_core.domain.outcomes import Code, Problem

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Period:
    """A billing period: one calendar month. ``str(period)`` is ``"YYYY-MM"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such period: {self.year}-{self.month}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, text: str) -> Period | Problem:
        """Read ``"YYYY-MM"`` (surrounding whitespace ignored)."""
        match = _PERIOD.fullmatch(text.strip())
        if match is None:
            return Problem(Code.PERIOD_FORMAT)
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or year < 1:
            return Problem(Code.PERIOD_FORMAT)
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Period:
        """The period ``day`` falls in."""
        return cls(day.year, day.month)

    @property
    def days(self) -> int:
        """How many days the month has."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month."""
        return date(self.year, self.month, self.days)

    def next(self) -> Period:
        """The following month."""
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def previous(self) -> Period:
        """The preceding month."""
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)


LONGEST_WINDOW_DAYS = 28
"""The shortest month: two windows must never overlap, whatever the month."""


@dataclass(frozen=True)
class WindowConfig:
    """The size of the submission window (configuration, not code)."""

    days_before_month_end: int = 2
    """How many last days of the ending month belong to its window."""
    days_after_month_start: int = 3
    """How many first days of the next month belong to the ending month's window."""

    def __post_init__(self) -> None:
        before, after = self.days_before_month_end, self.days_after_month_start
        if before < 0 or after < 0 or not 1 <= before + after <= LONGEST_WINDOW_DAYS:
            raise ValueError(f"a window of {before} + {after} days is not possible")


@dataclass(frozen=True)
class Placement:
    """Which period a reading counts for, and whether it was taken in the window."""

    period: Period
    in_window: bool


def place_reading(taken_on: date, config: WindowConfig) -> Placement:
    """Place a reading taken on ``taken_on`` (a date in the company's time zone)."""
    period = Period.of(taken_on)
    if taken_on.day > period.days - config.days_before_month_end:
        return Placement(period, True)
    if taken_on.day <= config.days_after_month_start:
        return Placement(period.previous(), True)
    return Placement(period, False)


def window_of(period: Period, config: WindowConfig) -> tuple[date, date]:
    """The first and last day (inclusive) of the window in which ``period`` is read."""
    opens = period.next().first_day - timedelta(days=config.days_before_month_end)
    closes = period.next().first_day + timedelta(days=config.days_after_month_start - 1)
    return opens, closes


@dataclass(frozen=True)
class WindowState:
    """The window as seen on a day: open (for ``period``, until ``closes_on``) or closed
    (the next window is for ``period``, from ``opens_on`` to ``closes_on``)."""

    is_open: bool
    period: Period
    opens_on: date
    closes_on: date


def window_state(today: date, config: WindowConfig) -> WindowState:
    """Whether the window is open on ``today``, and the window it is about."""
    placement = place_reading(today, config)
    # Off-window days lie before the window of their own month, so it is the next one.
    opens, closes = window_of(placement.period, config)
    return WindowState(placement.in_window, placement.period, opens, closes)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of an aware ``instant`` in the company's time zone ``tz``.

    Raises ``ValueError`` for a naive datetime: its time zone would be a guess.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("local_date needs an aware datetime")
    # Through UTC: `astimezone` returns a datetime already in `tz` as it is, and a wall
    # time that the zone skipped or repeated (fold) is then not normalised to its instant.
    return instant.astimezone(UTC).astimezone(tz).date()
