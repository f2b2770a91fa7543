from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.window import (
    Period,
    Placement,
    WindowConfig,
    local_date,
    place_reading,
    window_of,
    window_state,
)

KYIV = ZoneInfo("Europe/Kyiv")
DEFAULT = WindowConfig()

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
configs = st.integers(0, 14).flatmap(
    lambda before: st.builds(WindowConfig, st.just(before), st.integers(max(0, 1 - before), 14))
)


def test_writes_and_reads_a_period_as_year_and_month() -> None:
    assert str(Period(2026, 3)) == "2026-03"
    assert Period.parse(" 2026-03 ") == Period(2026, 3)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "26-03", "2026/03", "", "march"])
def test_refuses_a_period_that_is_not_year_dash_month(text: str) -> None:
    assert Period.parse(text) == Problem(Code.PERIOD_FORMAT)


def test_knows_the_days_of_a_period_in_leap_and_common_years() -> None:
    assert Period(2024, 2).days == 29
    assert Period(2026, 2).days == 28
    assert Period(2100, 2).days == 28
    assert Period(2000, 2).last_day == date(2000, 2, 29)
    assert Period(2026, 12).first_day == date(2026, 12, 1)


def test_steps_across_the_year_end() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert Period(2026, 1) < Period(2026, 2) < Period(2027, 1)


@pytest.mark.parametrize(
    ("taken_on", "period", "in_window"),
    [
        (date(2026, 3, 29), Period(2026, 3), False),
        (date(2026, 3, 30), Period(2026, 3), True),
        (date(2026, 3, 31), Period(2026, 3), True),
        (date(2026, 4, 1), Period(2026, 3), True),
        (date(2026, 4, 3), Period(2026, 3), True),
        (date(2026, 4, 4), Period(2026, 4), False),
        (date(2026, 12, 31), Period(2026, 12), True),
        (date(2027, 1, 2), Period(2026, 12), True),
        (date(2024, 2, 28), Period(2024, 2), True),
        (date(2024, 2, 27), Period(2024, 2), False),
        (date(2026, 2, 27), Period(2026, 2), True),
        (date(2026, 2, 26), Period(2026, 2), False),
    ],
)
def test_places_a_reading_in_the_period_it_counts_for(
    taken_on: date, period: Period, in_window: bool
) -> None:
    assert place_reading(taken_on, DEFAULT) == Placement(period, in_window)


def test_gives_the_window_of_a_period() -> None:
    assert window_of(Period(2026, 3), DEFAULT) == (date(2026, 3, 30), date(2026, 4, 3))
    assert window_of(Period(2024, 2), DEFAULT) == (date(2024, 2, 28), date(2024, 3, 3))
    assert window_of(Period(2026, 12), DEFAULT) == (date(2026, 12, 30), date(2027, 1, 3))


def test_reports_an_open_window_and_when_it_closes() -> None:
    state = window_state(date(2026, 4, 2), DEFAULT)
    assert state.is_open
    assert state.period == Period(2026, 3)
    assert state.closes_on == date(2026, 4, 3)


def test_reports_the_next_window_when_closed() -> None:
    state = window_state(date(2026, 4, 4), DEFAULT)
    assert not state.is_open
    assert state.period == Period(2026, 4)
    assert (state.opens_on, state.closes_on) == (date(2026, 4, 29), date(2026, 5, 3))


@pytest.mark.parametrize(("before", "after"), [(-1, 3), (2, -1), (0, 0), (20, 9)])
def test_refuses_a_window_that_cannot_exist(before: int, after: int) -> None:
    with pytest.raises(ValueError, match="window"):
        WindowConfig(before, after)


@given(days, configs)
def test_a_reading_counts_for_its_month_or_the_one_before(day: date, config: WindowConfig) -> None:
    placement = place_reading(day, config)
    assert placement.period in (Period.of(day), Period.of(day).previous())
    opens, closes = window_of(placement.period, config)
    assert placement.in_window == (opens <= day <= closes)
    if not placement.in_window:
        assert placement.period == Period.of(day)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)), configs)
def test_every_window_has_the_configured_length_and_straddles_the_month_end(
    day: date, config: WindowConfig
) -> None:
    period = Period.of(day)
    opens, closes = window_of(period, config)
    assert (closes - opens).days + 1 == config.days_before_month_end + config.days_after_month_start
    assert opens <= period.next().first_day <= closes + timedelta(days=1)
    current = opens
    while current <= closes:
        assert place_reading(current, config) == Placement(period, True)
        current += timedelta(days=1)


@given(days, configs)
def test_the_window_state_is_the_window_today_is_in_or_the_next(
    day: date, config: WindowConfig
) -> None:
    state = window_state(day, config)
    assert state.opens_on <= state.closes_on
    if state.is_open:
        assert state.opens_on <= day <= state.closes_on
    else:
        assert day < state.opens_on
        assert window_state(state.opens_on, config).is_open
        assert not window_state(state.opens_on - timedelta(days=1), config).is_open
        assert window_state(state.opens_on, config).period == state.period


def test_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2026, 3, 31, 23, 0), KYIV)


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        # spring forward, Sunday 29 March 2026 at 03:00 local (01:00 UTC)
        (datetime(2026, 3, 28, 21, 59, tzinfo=UTC), date(2026, 3, 28)),
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 20, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 21, 0, tzinfo=UTC), date(2026, 3, 30)),
        # fall back, Sunday 25 October 2026 at 04:00 local (01:00 UTC)
        (datetime(2026, 10, 24, 20, 59, tzinfo=UTC), date(2026, 10, 24)),
        (datetime(2026, 10, 24, 21, 0, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 21, 59, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 0, tzinfo=UTC), date(2026, 10, 26)),
        # month ends around local midnight, in summer (+3) and winter (+2) time
        (datetime(2026, 3, 31, 20, 59, tzinfo=UTC), date(2026, 3, 31)),
        (datetime(2026, 3, 31, 21, 0, tzinfo=UTC), date(2026, 4, 1)),
        (datetime(2026, 10, 31, 21, 59, tzinfo=UTC), date(2026, 10, 31)),
        (datetime(2026, 10, 31, 22, 0, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 12, 31, 21, 59, tzinfo=UTC), date(2026, 12, 31)),
        (datetime(2026, 12, 31, 22, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_takes_the_date_in_kyiv_across_dst_changes_and_month_ends(
    utc: datetime, local: date
) -> None:
    assert local_date(utc, KYIV) == local


def test_a_reading_sent_just_after_local_midnight_counts_in_the_new_day() -> None:
    sent = datetime(2026, 4, 3, 21, 30, tzinfo=UTC)  # 00:30 on 4 April in Kyiv
    assert place_reading(local_date(sent, KYIV), DEFAULT) == Placement(Period(2026, 4), False)
    assert place_reading(local_date(sent - timedelta(hours=1), KYIV), DEFAULT).in_window


def _last_sunday(year: int, month: int) -> date:
    last: date = Period(year, month).last_day
    return last - timedelta(days=(last.weekday() + 1) % 7)


@given(
    st.datetimes(
        min_value=datetime(2015, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    )
)
def test_kyiv_is_three_hours_ahead_in_summer_time_and_two_in_winter(instant: datetime) -> None:
    year = instant.year
    summer_starts = datetime.combine(_last_sunday(year, 3), datetime.min.time(), UTC)
    summer_ends = datetime.combine(_last_sunday(year, 10), datetime.min.time(), UTC)
    summer = summer_starts + timedelta(hours=1) <= instant < summer_ends + timedelta(hours=1)
    offset = timedelta(hours=3 if summer else 2)
    assert local_date(instant, KYIV) == (instant + offset).date()


@given(st.datetimes(timezones=st.sampled_from([UTC, KYIV, ZoneInfo("America/New_York")])))
def test_the_local_date_does_not_depend_on_the_zone_an_instant_is_given_in(
    instant: datetime,
) -> None:
    assert local_date(instant, KYIV) == local_date(instant.astimezone(UTC), KYIV)


def test_a_wall_time_the_zone_skipped_is_dated_by_its_instant() -> None:
    skipped = datetime(1943, 11, 6, 0, 0, fold=1, tzinfo=KYIV)  # found by the test above
    assert local_date(skipped, KYIV) == local_date(skipped.astimezone(UTC), KYIV)
