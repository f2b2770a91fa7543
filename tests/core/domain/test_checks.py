from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.checks import (
    ConsumptionHistory,
    Flag,
    PlausibilityLimits,
    PreviousReading,
    check_reading,
    check_typed_reading,
)
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone

ONE_ZONE = MeterSpec(6, 1, 1)
TWO_ZONES = MeterSpec(6, 1, 2)
THREE_ZONES = MeterSpec(6, 0, 3)
MARCH_1 = date(2026, 3, 1)
MARCH_31 = date(2026, 3, 31)
TODAY = date(2026, 4, 1)


def total(value: str) -> dict[Zone, Decimal]:
    return {Zone.TOTAL: Decimal(value)}


def day_night(day: str, night: str) -> dict[Zone, Decimal]:
    return {Zone.DAY: Decimal(day), Zone.NIGHT: Decimal(night)}


def previous(values: dict[Zone, Decimal], taken_on: date = MARCH_1) -> PreviousReading:
    return PreviousReading(taken_on=taken_on, values=values)


def test_accepts_a_reading_above_the_previous_one_with_its_consumption() -> None:
    verdict = check_reading(
        ONE_ZONE, total("1300.5"), MARCH_31, TODAY, previous(total("1000.0")), None
    )
    assert verdict.accepted
    assert verdict.problems == ()
    assert verdict.notices == ()
    assert not verdict.flagged
    assert not verdict.rollover
    assert verdict.consumption == {Zone.TOTAL: Decimal("300.5")}
    assert verdict.total_consumption == Decimal("300.5")


def test_accepts_a_repeated_reading_as_zero_consumption_without_a_warning() -> None:
    verdict = check_reading(
        TWO_ZONES, day_night("1234.5", "567.8"), MARCH_31, TODAY,
        previous(day_night("1234.5", "567.8")), None,
    )  # fmt: skip
    assert verdict.accepted
    assert verdict.notices == ()
    assert verdict.flags == frozenset()
    assert verdict.total_consumption == 0


def test_accepts_a_first_reading_without_consumption_checks() -> None:
    verdict = check_reading(ONE_ZONE, total("999999.9"), MARCH_31, TODAY, None, None)
    assert verdict.accepted
    assert verdict.consumption == {}


def test_rejects_a_reading_lower_than_the_previous_and_names_zone_and_value() -> None:
    verdict = check_reading(
        TWO_ZONES, day_night("1200.0", "600.0"), MARCH_31, TODAY,
        previous(day_night("1234.5", "567.8")), None,
    )  # fmt: skip
    assert not verdict.accepted
    assert verdict.problems == (
        Problem(Code.READING_TOO_LOW, {"zone": "day", "previous": "1234.5"}, "day"),
    )
    assert verdict.consumption == {}


def test_accepts_a_rollover_when_the_consumption_is_plausible() -> None:
    verdict = check_reading(
        ONE_ZONE, total("120.0"), MARCH_31, TODAY, previous(total("999900.0")), None
    )
    assert verdict.accepted
    assert verdict.rollover_zones == {Zone.TOTAL}
    assert verdict.consumption == {Zone.TOTAL: Decimal("220.0")}
    assert verdict.notices == (Problem(Code.READING_ROLLOVER, {"zone": "total"}, "total"),)
    assert not verdict.flagged


def test_rejects_a_rollover_that_implies_more_than_the_household_cap() -> None:
    verdict = check_reading(
        ONE_ZONE, total("5000.0"), MARCH_31, TODAY, previous(total("999000.0")), None
    )
    assert not verdict.accepted
    assert verdict.problems[0].code is Code.READING_TOO_LOW


def test_rejects_the_wrong_set_of_zones() -> None:
    verdict = check_reading(TWO_ZONES, total("1.0"), MARCH_31, TODAY, None, None)
    assert verdict.problems == (Problem(Code.READING_ZONE_COUNT, {"expected": 2}),)


def test_rejects_values_the_meter_cannot_show_naming_the_zone() -> None:
    verdict = check_reading(TWO_ZONES, day_night("1000000", "1.25"), MARCH_31, TODAY, None, None)
    assert verdict.problems == (
        Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": 6}, "day"),
        Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 1}, "night"),
    )


def test_rejects_a_reading_dated_in_the_future() -> None:
    verdict = check_reading(ONE_ZONE, total("1.0"), date(2026, 4, 2), TODAY, None, None)
    assert verdict.problems == (Problem(Code.READING_IN_FUTURE, {"today": "2026-04-01"}),)


def test_rejects_a_reading_dated_before_the_previous_one() -> None:
    verdict = check_reading(
        ONE_ZONE, total("1.0"), date(2026, 2, 28), TODAY, previous(total("0.0")), None
    )
    assert verdict.problems == (
        Problem(Code.READING_BEFORE_PREVIOUS, {"previous_date": "2026-03-01"}),
    )


def test_accepts_a_reading_on_the_same_day_as_the_previous_one() -> None:
    verdict = check_reading(ONE_ZONE, total("10.0"), MARCH_1, TODAY, previous(total("5.0")), None)
    assert verdict.accepted


def test_rejects_a_reading_dated_before_the_meter_was_installed() -> None:
    verdict = check_reading(
        ONE_ZONE, total("1.0"), MARCH_1, TODAY, None, None, installed_on=date(2026, 3, 5)
    )
    assert verdict.problems == (
        Problem(Code.READING_BEFORE_INSTALLATION, {"installed_on": "2026-03-05"}),
    )


def test_flags_consumption_above_the_household_cap_but_accepts_it() -> None:
    verdict = check_reading(
        ONE_ZONE, total("4100.0"), MARCH_31, TODAY, previous(total("1000.0")), None
    )
    assert verdict.accepted
    assert verdict.flags == {Flag.ABOVE_HOUSEHOLD_CAP}
    assert verdict.notices == (
        Problem(Code.READING_ABOVE_HOUSEHOLD_CAP, {"consumption": "3100.0", "days": 30}),
    )


def test_flags_consumption_far_above_the_history() -> None:
    history = ConsumptionHistory({Zone.TOTAL: Decimal(5)}, days_observed=90)
    # 30 days: limit is (4 * 5 + 5) * 30 = 750 kWh
    verdict = check_reading(
        ONE_ZONE, total("1751.0"), MARCH_31, TODAY, previous(total("1000.0")), history
    )
    assert verdict.accepted
    assert verdict.flags == {Flag.HIGH_CONSUMPTION}
    assert verdict.notices[0].code is Code.READING_HIGH_CONSUMPTION


def test_does_not_flag_consumption_at_the_history_limit() -> None:
    history = ConsumptionHistory({Zone.TOTAL: Decimal(5)}, days_observed=90)
    verdict = check_reading(
        ONE_ZONE, total("1750.0"), MARCH_31, TODAY, previous(total("1000.0")), history
    )
    assert not verdict.flagged


def test_ignores_a_history_too_short_to_judge_by() -> None:
    history = ConsumptionHistory({Zone.TOTAL: Decimal(1)}, days_observed=59)
    verdict = check_reading(
        ONE_ZONE, total("2000.0"), MARCH_31, TODAY, previous(total("1000.0")), history
    )
    assert not verdict.flagged


def test_accepts_day_and_night_swapped_but_flags_them_and_asks_to_check() -> None:
    verdict = check_reading(
        TWO_ZONES, day_night("2100.0", "5300.0"), MARCH_31, TODAY,
        previous(day_night("5000.0", "2000.0")), None,
    )  # fmt: skip
    assert verdict.accepted
    assert verdict.flags == {Flag.ZONES_SWAPPED}
    assert verdict.notices == (
        Problem(Code.READING_ZONES_SWAPPED, {"zone": "day", "other_zone": "night"}),
    )
    assert verdict.consumption == {Zone.DAY: Decimal("300.0"), Zone.NIGHT: Decimal("100.0")}


def test_finds_the_swapped_pair_on_a_three_zone_meter() -> None:
    before = {Zone.PEAK: Decimal(3000), Zone.HALF_PEAK: Decimal(1000), Zone.NIGHT: Decimal(5000)}
    typed = {Zone.PEAK: Decimal(3100), Zone.HALF_PEAK: Decimal(5200), Zone.NIGHT: Decimal(1050)}
    verdict = check_reading(THREE_ZONES, typed, MARCH_31, TODAY, previous(before), None)
    assert verdict.flags == {Flag.ZONES_SWAPPED}
    assert verdict.notices[0].params == {"zone": "half_peak", "other_zone": "night"}


def test_rejects_a_two_zone_reading_that_no_swap_explains() -> None:
    verdict = check_reading(
        TWO_ZONES, day_night("10.0", "20.0"), MARCH_31, TODAY,
        previous(day_night("5000.0", "2000.0")), None,
    )  # fmt: skip
    assert not verdict.accepted
    assert {p.field for p in verdict.problems} == {"day", "night"}


def test_parses_typed_values_then_checks_them() -> None:
    values, verdict = check_typed_reading(
        TWO_ZONES, {Zone.DAY: "1 300,5", Zone.NIGHT: "600"}, MARCH_31, TODAY,
        previous(day_night("1000.0", "500.0")), None,
    )  # fmt: skip
    assert values == day_night("1300.5", "600.0")
    assert verdict.accepted
    assert verdict.consumption == day_night("300.5", "100.0")


def test_names_the_zone_of_a_value_that_does_not_parse() -> None:
    values, verdict = check_typed_reading(
        TWO_ZONES, {Zone.DAY: "1300", Zone.NIGHT: "6o0"}, MARCH_31, TODAY, None, None
    )
    assert values == {Zone.DAY: Decimal("1300.0")}
    assert verdict.problems == (Problem(Code.VALUE_NOT_A_NUMBER, field="night"),)


def test_truncates_typed_smart_meter_decimals_when_asked() -> None:
    values, verdict = check_typed_reading(
        ONE_ZONE, {Zone.TOTAL: "1300.99"}, MARCH_31, TODAY, None, None,
        truncate_extra_decimals=True,
    )  # fmt: skip
    assert values == total("1300.9")
    assert verdict.accepted


LIMITS = PlausibilityLimits()
UNITS = 10 ** (ONE_ZONE.digits + ONE_ZONE.decimals)


@given(
    before=st.integers(0, UNITS - 1),
    days=st.integers(0, 400),
    data=st.data(),
)
def test_any_plausible_consumption_is_accepted_with_or_without_rollover(
    before: int, days: int, data: st.DataObject
) -> None:
    cap_units = int(LIMITS.household_cap_per_day * max(1, days) * 10)
    used = data.draw(st.integers(0, cap_units))
    after = (before + used) % UNITS
    verdict = check_reading(
        ONE_ZONE, total(str(ONE_ZONE.from_units(after))), MARCH_1 + timedelta(days),
        date(2030, 1, 1), previous(total(str(ONE_ZONE.from_units(before)))), None,
    )  # fmt: skip
    assert verdict.accepted
    assert verdict.consumption == {Zone.TOTAL: ONE_ZONE.from_units(used)}
    assert verdict.rollover == (before + used >= UNITS)
    assert not verdict.flagged


@given(before=st.integers(1, UNITS - 1), days=st.integers(0, 400), data=st.data())
def test_a_drop_is_a_rollover_only_when_the_implied_use_is_plausible(
    before: int, days: int, data: st.DataObject
) -> None:
    after = data.draw(st.integers(0, before - 1))
    implied = ONE_ZONE.from_units(after + UNITS - before)
    verdict = check_reading(
        ONE_ZONE, total(str(ONE_ZONE.from_units(after))), MARCH_1 + timedelta(days),
        date(2030, 1, 1), previous(total(str(ONE_ZONE.from_units(before)))), None,
    )  # fmt: skip
    plausible = implied <= LIMITS.household_cap_per_day * max(1, days)
    assert verdict.accepted == plausible
    assert verdict.rollover == plausible
    if not plausible:
        assert verdict.problems[0].code is Code.READING_TOO_LOW


@given(
    day=st.integers(0, 999_999),
    night=st.integers(0, 999_999),
    days=st.integers(0, 60),
)
def test_repeating_any_reading_is_silent_zero_consumption(day: int, night: int, days: int) -> None:
    values = day_night(str(day), str(night))
    verdict = check_reading(
        TWO_ZONES, values, MARCH_1 + timedelta(days), date(2030, 1, 1), previous(values), None
    )
    assert verdict.accepted
    assert verdict.notices == ()
    assert verdict.flags == frozenset()
    assert verdict.total_consumption == 0


@given(
    day_before=st.integers(0, 400_000),
    night_before=st.integers(0, 400_000),
    day_used=st.integers(0, 1500),
    night_used=st.integers(0, 1500),
)
def test_a_plausible_reading_typed_with_zones_swapped_is_caught_or_passes(
    day_before: int, night_before: int, day_used: int, night_used: int
) -> None:
    before = day_night(str(day_before), str(night_before))
    typed = {
        Zone.DAY: Decimal(night_before + night_used),
        Zone.NIGHT: Decimal(day_before + day_used),
    }
    verdict = check_reading(TWO_ZONES, typed, MARCH_31, TODAY, previous(before), None)
    assert verdict.accepted
    assert verdict.total_consumption == day_used + night_used
    assert all(used >= 0 for used in verdict.consumption.values())
    if typed[Zone.DAY] < before[Zone.DAY] or typed[Zone.NIGHT] < before[Zone.NIGHT]:
        assert Flag.ZONES_SWAPPED in verdict.flags
