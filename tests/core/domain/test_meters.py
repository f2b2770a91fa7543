from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.meters import (
    MeterReplacement,
    MeterSpec,
    make_meter_spec,
    plan_replacement,
)
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone, zones_for

SIX_ONE = MeterSpec(6, 1, 1)
TWO_ZONES = MeterSpec(6, 1, 2)

meters = st.builds(
    MeterSpec, digits=st.integers(4, 8), decimals=st.integers(0, 3), zone_count=st.integers(1, 3)
)


def test_names_the_zones_of_each_kind_of_meter() -> None:
    assert zones_for(1) == (Zone.TOTAL,)
    assert zones_for(2) == (Zone.DAY, Zone.NIGHT)
    assert zones_for(3) == (Zone.PEAK, Zone.HALF_PEAK, Zone.NIGHT)
    assert MeterSpec(5, 0, 2).zones == (Zone.DAY, Zone.NIGHT)


def test_refuses_a_zone_count_no_meter_has() -> None:
    with pytest.raises(ValueError, match="zones"):
        zones_for(4)


def test_makes_a_meter_spec_from_numbers_in_range() -> None:
    assert make_meter_spec(6, 1, 2) == MeterSpec(6, 1, 2)


@pytest.mark.parametrize(
    ("digits", "decimals", "zones", "code"),
    [
        (3, 1, 1, Code.METER_DIGITS_RANGE),
        (9, 1, 1, Code.METER_DIGITS_RANGE),
        (6, -1, 1, Code.METER_DECIMALS_RANGE),
        (6, 4, 1, Code.METER_DECIMALS_RANGE),
        (6, 1, 0, Code.METER_ZONES_RANGE),
        (6, 1, 4, Code.METER_ZONES_RANGE),
    ],
)
def test_says_which_meter_number_is_out_of_range(
    digits: int, decimals: int, zones: int, code: Code
) -> None:
    problem = make_meter_spec(digits, decimals, zones)
    assert isinstance(problem, Problem)
    assert problem.code is code


def test_refuses_to_construct_an_impossible_meter() -> None:
    with pytest.raises(ValueError, match="invalid meter"):
        MeterSpec(9, 0, 1)


def test_knows_its_modulus_and_step() -> None:
    assert SIX_ONE.modulus == Decimal(1_000_000)
    assert SIX_ONE.step == Decimal("0.1")
    assert MeterSpec(4, 0, 1).step == Decimal(1)


def test_converts_values_to_integer_units_and_back() -> None:
    assert SIX_ONE.to_units(Decimal("1234.5")) == 12345
    assert SIX_ONE.from_units(12345) == Decimal("1234.5")
    assert MeterSpec(4, 0, 1).from_units(1234) == Decimal(1234)
    assert str(MeterSpec(6, 2, 1).from_units(100)) == "1.00"


def test_truncates_when_converting_to_units() -> None:
    assert SIX_ONE.to_units(Decimal("1234.59")) == 12345


@given(meters, st.data())
def test_units_round_trip_exactly(meter: MeterSpec, data: st.DataObject) -> None:
    units = data.draw(st.integers(0, 10 ** (meter.digits + meter.decimals) - 1))
    value = meter.from_units(units)
    assert meter.to_units(value) == units
    assert value.as_tuple().exponent == -meter.decimals
    assert meter.check_value(value) is None


@given(meters, st.data())
def test_advances_across_the_modulus_by_the_wrapped_amount(
    meter: MeterSpec, data: st.DataObject
) -> None:
    top = 10 ** (meter.digits + meter.decimals)
    before = data.draw(st.integers(0, top - 1))
    used = data.draw(st.integers(0, top - 1))
    after = (before + used) % top
    assert meter.advance(meter.from_units(before), meter.from_units(after)) == meter.from_units(
        used
    )


def test_checks_that_a_value_fits_the_register() -> None:
    assert SIX_ONE.check_value(Decimal("999999.9")) is None
    assert SIX_ONE.check_value(Decimal(1_000_000), "day") == Problem(
        Code.VALUE_TOO_MANY_DIGITS, {"max_digits": 6}, "day"
    )
    assert SIX_ONE.check_value(Decimal("-1")) == Problem(Code.VALUE_NEGATIVE)
    assert SIX_ONE.check_value(Decimal("1.25")) == Problem(
        Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 1}
    )
    assert SIX_ONE.check_value(Decimal("NaN")) == Problem(Code.VALUE_NOT_A_NUMBER)


def _day_night(day: str, night: str) -> dict[Zone, Decimal]:
    return {Zone.DAY: Decimal(day), Zone.NIGHT: Decimal(night)}


def test_plans_a_replacement_with_the_old_meters_final_consumption() -> None:
    plan = plan_replacement(
        old=TWO_ZONES,
        last_values=_day_night("1000.0", "500.0"),
        last_taken_on=date(2026, 3, 1),
        final_values=_day_night("1100.0", "550.0"),
        removed_on=date(2026, 3, 20),
        new=SIX_ONE,
        initial_values={Zone.TOTAL: Decimal(0)},
        installed_on=date(2026, 3, 20),
    )
    assert isinstance(plan, MeterReplacement)
    assert dict(plan.final_consumption) == _day_night("100.0", "50.0")
    assert plan.rollover_zones == frozenset()
    assert plan.initial_values[Zone.TOTAL] == Decimal("0.0")


def test_plans_a_replacement_of_a_meter_without_readings() -> None:
    plan = plan_replacement(
        SIX_ONE, None, None, {Zone.TOTAL: Decimal(5)}, date(2026, 3, 1),
        SIX_ONE, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 2),
    )  # fmt: skip
    assert isinstance(plan, MeterReplacement)
    assert dict(plan.final_consumption) == {}


def test_refuses_a_final_reading_below_the_last_one() -> None:
    problem = plan_replacement(
        SIX_ONE, {Zone.TOTAL: Decimal("1234.5")}, date(2026, 3, 1),
        {Zone.TOTAL: Decimal(1000)}, date(2026, 3, 20),
        SIX_ONE, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 20),
    )  # fmt: skip
    assert problem == Problem(
        Code.REPLACEMENT_FINAL_TOO_LOW, {"zone": "total", "previous": "1234.5"}, "final.total"
    )


def test_accepts_a_final_reading_past_a_plausible_rollover() -> None:
    plan = plan_replacement(
        SIX_ONE, {Zone.TOTAL: Decimal("999900.0")}, date(2026, 3, 1),
        {Zone.TOTAL: Decimal(50)}, date(2026, 3, 20),
        SIX_ONE, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 20),
    )  # fmt: skip
    assert isinstance(plan, MeterReplacement)
    assert plan.rollover_zones == {Zone.TOTAL}
    assert plan.final_consumption[Zone.TOTAL] == Decimal("150.0")


def test_refuses_a_new_meter_installed_before_the_old_one_was_removed() -> None:
    problem = plan_replacement(
        SIX_ONE, None, None, {Zone.TOTAL: Decimal(5)}, date(2026, 3, 10),
        SIX_ONE, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 9),
    )  # fmt: skip
    assert problem == Problem(
        Code.REPLACEMENT_DATES, {"removed_on": "2026-03-10", "installed_on": "2026-03-09"}
    )


def test_refuses_a_removal_dated_before_the_last_reading() -> None:
    problem = plan_replacement(
        SIX_ONE, {Zone.TOTAL: Decimal(1)}, date(2026, 3, 10),
        {Zone.TOTAL: Decimal(5)}, date(2026, 3, 9),
        SIX_ONE, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 9),
    )  # fmt: skip
    assert problem == Problem(
        Code.REPLACEMENT_REMOVED_BEFORE_LAST_READING, {"previous_date": "2026-03-10"}
    )


def test_refuses_initial_values_that_do_not_fit_the_new_meter() -> None:
    problem = plan_replacement(
        SIX_ONE, None, None, {Zone.TOTAL: Decimal(5)}, date(2026, 3, 10),
        MeterSpec(4, 0, 1), {Zone.TOTAL: Decimal(12345)}, date(2026, 3, 10),
    )  # fmt: skip
    assert problem == Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": 4}, "initial.total")


def test_refuses_initial_values_for_the_wrong_zones() -> None:
    problem = plan_replacement(
        SIX_ONE, None, None, {Zone.TOTAL: Decimal(5)}, date(2026, 3, 10),
        TWO_ZONES, {Zone.TOTAL: Decimal(0)}, date(2026, 3, 10),
    )  # fmt: skip
    assert problem == Problem(Code.READING_ZONE_COUNT, {"expected": 2}, "initial")
