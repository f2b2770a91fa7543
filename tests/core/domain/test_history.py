"""What a new reading is checked against, for every channel alike."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pokaznyk_core.domain.history import (
    PastReading,
    corrected_by,
    previous_and_history,
    previous_reading,
)
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.window import Period, Placement
from pokaznyk_core.domain.zones import Zone

METER = MeterSpec(digits=6, decimals=1, zone_count=1)
T = Zone.TOTAL
IN_OCTOBER_WINDOW = Placement(Period(2026, 10), in_window=True)


def reading(day: date, value: str, period: str, in_window: bool) -> PastReading:
    return PastReading(day, {T: Decimal(value)}, period, in_window)


def test_a_correction_in_the_window_is_checked_against_the_reading_before_it() -> None:
    september = reading(date(2026, 9, 30), "1000.0", "2026-09", True)
    first_try = reading(date(2026, 10, 30), "1900.0", "2026-10", True)
    previous, history = previous_and_history(
        [first_try, september],
        IN_OCTOBER_WINDOW,
        meter=METER,
        installed_on=date(2026, 1, 1),
        initial={T: Decimal(0)},
    )
    assert corrected_by(first_try, IN_OCTOBER_WINDOW)
    assert not corrected_by(september, IN_OCTOBER_WINDOW)
    assert previous.taken_on == date(2026, 9, 30) and previous.values[T] == Decimal("1000.0")
    assert history is not None


def test_an_off_window_reading_of_the_same_month_is_a_baseline_not_a_correction() -> None:
    mid_month = reading(date(2026, 10, 15), "1500.0", "2026-10", False)
    assert not corrected_by(mid_month, IN_OCTOBER_WINDOW)
    previous, _ = previous_and_history(
        [mid_month],
        IN_OCTOBER_WINDOW,
        meter=METER,
        installed_on=date(2026, 1, 1),
        initial={T: Decimal(0)},
    )
    assert previous.values[T] == Decimal("1500.0")


def test_without_earlier_readings_the_initial_reading_is_the_baseline() -> None:
    previous, history = previous_and_history(
        [],
        None,
        meter=METER,
        installed_on=date(2026, 3, 1),
        initial={T: Decimal("42.0")},
    )
    assert previous.taken_on == date(2026, 3, 1) and previous.values[T] == Decimal("42.0")
    assert history is None


def test_the_previous_reading_alone_is_the_one_the_history_starts_from() -> None:
    september = reading(date(2026, 9, 30), "1000.0", "2026-09", True)
    first_try = reading(date(2026, 10, 30), "1900.0", "2026-10", True)
    for newest_first in ([first_try, september], [first_try], []):
        alone = previous_reading(
            newest_first,
            IN_OCTOBER_WINDOW,
            installed_on=date(2026, 1, 1),
            initial={T: Decimal(0)},
        )
        with_history, _ = previous_and_history(
            newest_first,
            IN_OCTOBER_WINDOW,
            meter=METER,
            installed_on=date(2026, 1, 1),
            initial={T: Decimal(0)},
        )
        assert alone == with_history
    assert alone.taken_on == date(2026, 1, 1)


def _monthly(first: date, months: int, start: Decimal, per_day: int) -> list[PastReading]:
    """Month-end readings newest first, `per_day` kWh a day from `start` on `first`."""
    readings, value, taken_on = [], start, first
    for month in range(months):
        year, index = divmod(first.month + month, 12)
        next_on = date(first.year + year, index + 1, 1) - timedelta(days=1) if month else first
        value += per_day * (next_on - taken_on).days
        taken_on = next_on
        readings.append(PastReading(taken_on, {T: value}, f"{taken_on:%Y-%m}", True))
    return readings[::-1]


def test_the_history_is_the_latest_readings_not_the_whole_life_since_installation() -> None:
    year = _monthly(date(2025, 8, 31), 14, Decimal(100), per_day=10)
    _, history = previous_and_history(
        year, None, meter=METER, installed_on=date(2015, 1, 1), initial={T: Decimal(0)}
    )
    assert history is not None and history.total_daily_average == 10
    assert history.days_observed == (date(2026, 9, 30) - date(2025, 9, 30)).days


def test_a_young_meter_counts_from_its_installation_when_every_reading_is_known() -> None:
    three = _monthly(date(2026, 7, 31), 3, Decimal(300), per_day=10)  # 300 used in July
    installed_on, initial = date(2026, 7, 1), {T: Decimal(0)}
    _, whole = previous_and_history(
        three, None, meter=METER, installed_on=installed_on, initial=initial
    )
    _, partial = previous_and_history(
        three, None, meter=METER, installed_on=installed_on, initial=initial, complete=False
    )
    assert whole is not None and whole.days_observed == 91
    assert partial is not None and partial.days_observed == 61
