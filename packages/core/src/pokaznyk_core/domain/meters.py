"""Meters: how many digits and decimals a register shows, its zones, and replacements.

A register with ``digits`` integer digits wraps past ``10**digits`` back to zero (a
rollover). Storage keeps readings as exact integers in the meter's smallest unit
(:meth:`MeterSpec.to_units`), so no float ever touches a reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import MAX_ZONE_COUNT, MIN_ZONE_COUNT, Zone, ZoneValues, zones_for

MIN_DIGITS = 4
MAX_DIGITS = 8
MIN_DECIMALS = 0
MAX_DECIMALS = 3

DEFAULT_HOUSEHOLD_CAP_PER_DAY = Decimal(100)


@dataclass(frozen=True)
class MeterSpec:
    """What a meter's registers can show: integer digits, decimals and zone count.

    Construct through :func:`make_meter_spec` when the numbers come from a person;
    the constructor raises ``ValueError`` for numbers out of range.
    """

    digits: int
    decimals: int
    zone_count: int

    def __post_init__(self) -> None:
        problem = _spec_problem(self.digits, self.decimals, self.zone_count)
        if problem is not None:
            raise ValueError(f"invalid meter: {problem!r}")

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The zones of this meter, in display order."""
        return zones_for(self.zone_count)

    @property
    def modulus(self) -> Decimal:
        """The value at which the register wraps to zero: ``10**digits``."""
        return Decimal(10) ** self.digits

    @property
    def step(self) -> Decimal:
        """The smallest value the register shows: ``10**-decimals``."""
        return Decimal(1).scaleb(-self.decimals)

    def quantize(self, value: Decimal) -> Decimal:
        """Cut ``value`` to this meter's decimals (truncated, never rounded)."""
        return value.quantize(self.step, rounding=ROUND_DOWN)

    def to_units(self, value: Decimal) -> int:
        """The exact integer count of smallest units in ``value`` (truncated)."""
        return int(value.scaleb(self.decimals))

    def from_units(self, units: int) -> Decimal:
        """The value of ``units`` smallest units, with exactly ``decimals`` places (an
        integer scaled by a power of ten is exact and has that exponent already)."""
        return Decimal(units).scaleb(-self.decimals)

    def format(self, value: Decimal) -> str:
        """The storage and JSON form of ``value``: ``decimals`` places, ``.`` separator."""
        return f"{self.quantize(value):f}"

    def check_value(self, value: Decimal, field: str | None = None) -> Problem | None:
        """Say why ``value`` cannot be shown by this meter's register, or ``None``."""
        if not value.is_finite():
            return Problem(Code.VALUE_NOT_A_NUMBER, field=field)
        if value < 0:
            return Problem(Code.VALUE_NEGATIVE, field=field)
        if value >= self.modulus:
            return Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": self.digits}, field)
        if value != self.quantize(value):
            return Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": self.decimals}, field)
        return None

    def advance(self, previous: Decimal, current: Decimal) -> Decimal:
        """Consumption from ``previous`` to ``current``, wrapping past the modulus."""
        if current >= previous:
            return current - previous
        return current + self.modulus - previous


def _spec_problem(digits: int, decimals: int, zone_count: int) -> Problem | None:
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        return Problem(Code.METER_DIGITS_RANGE, {"min": MIN_DIGITS, "max": MAX_DIGITS})
    if not MIN_DECIMALS <= decimals <= MAX_DECIMALS:
        return Problem(Code.METER_DECIMALS_RANGE, {"min": MIN_DECIMALS, "max": MAX_DECIMALS})
    if not MIN_ZONE_COUNT <= zone_count <= MAX_ZONE_COUNT:
        return Problem(Code.METER_ZONES_RANGE, {"min": MIN_ZONE_COUNT, "max": MAX_ZONE_COUNT})
    return None


def make_meter_spec(digits: int, decimals: int, zone_count: int) -> MeterSpec | Problem:
    """Build a meter spec, or say which number is out of range (digits 4–8, decimals 0–3,
    zones 1–3)."""
    problem = _spec_problem(digits, decimals, zone_count)
    if problem is not None:
        return problem
    return MeterSpec(digits, decimals, zone_count)


def rollover_plausible(consumption: Decimal, days: int, cap_per_day: Decimal) -> bool:
    """Whether ``consumption`` implied by a wrap-around fits the household cap.

    ``days`` below one count as one, so a same-day reading still allows a day's use.
    """
    return consumption <= cap_per_day * max(1, days)


@dataclass(frozen=True)
class MeterReplacement:
    """A checked replacement: the old meter closes with its final reading, the new one
    opens with its initial reading. ``final_consumption`` is what the old meter counted
    since its last reading (empty without one), with rollovers in ``rollover_zones``."""

    old: MeterSpec
    final_values: Mapping[Zone, Decimal]
    removed_on: date
    new: MeterSpec
    initial_values: Mapping[Zone, Decimal]
    installed_on: date
    final_consumption: Mapping[Zone, Decimal]
    rollover_zones: frozenset[Zone]


def _values_problems(meter: MeterSpec, values: ZoneValues, form_field: str) -> list[Problem]:
    if set(values) != set(meter.zones):
        return [Problem(Code.READING_ZONE_COUNT, {"expected": meter.zone_count}, form_field)]
    found = []
    for zone in meter.zones:
        problem = meter.check_value(values[zone], f"{form_field}.{zone.value}")
        if problem is not None:
            found.append(problem)
    return found


def plan_replacement(
    old: MeterSpec,
    last_values: ZoneValues | None,
    last_taken_on: date | None,
    final_values: ZoneValues,
    removed_on: date,
    new: MeterSpec,
    initial_values: ZoneValues,
    installed_on: date,
    *,
    household_cap_per_day: Decimal = DEFAULT_HOUSEHOLD_CAP_PER_DAY,
) -> MeterReplacement | Problem:
    """Check a meter replacement and return its plan, or the first problem found.

    The final reading must fit the old meter and not be lower than its last reading
    (unless a rollover is plausible for the days elapsed), the old meter must not be
    removed before its last reading, the new one not installed before the old one was
    removed, and the initial values must fit the new meter. Value problems name their
    field as ``final.<zone>`` or ``initial.<zone>``.
    """
    problems = _values_problems(old, final_values, "final")
    problems += _values_problems(new, initial_values, "initial")
    if problems:
        return problems[0]
    if installed_on < removed_on:
        return Problem(
            Code.REPLACEMENT_DATES,
            {"removed_on": removed_on.isoformat(), "installed_on": installed_on.isoformat()},
        )
    consumption: dict[Zone, Decimal] = {}
    rollover: set[Zone] = set()
    if last_values is not None:
        if last_taken_on is not None and removed_on < last_taken_on:
            return Problem(
                Code.REPLACEMENT_REMOVED_BEFORE_LAST_READING,
                {"previous_date": last_taken_on.isoformat()},
            )
        days = (removed_on - last_taken_on).days if last_taken_on is not None else 1
        for zone in old.zones:
            if zone not in last_values:
                continue
            used = old.advance(last_values[zone], final_values[zone])
            if final_values[zone] < last_values[zone]:
                if not rollover_plausible(used, days, household_cap_per_day):
                    return Problem(
                        Code.REPLACEMENT_FINAL_TOO_LOW,
                        {"zone": zone.value, "previous": old.format(last_values[zone])},
                        f"final.{zone.value}",
                    )
                rollover.add(zone)
            consumption[zone] = used
    return MeterReplacement(
        old=old,
        final_values=MappingProxyType({z: old.quantize(final_values[z]) for z in old.zones}),
        removed_on=removed_on,
        new=new,
        initial_values=MappingProxyType({z: new.quantize(initial_values[z]) for z in new.zones}),
        installed_on=installed_on,
        final_consumption=MappingProxyType(consumption),
        rollover_zones=frozenset(rollover),
    )
