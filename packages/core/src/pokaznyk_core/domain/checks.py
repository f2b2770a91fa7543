"""The checks every reading goes through, whatever the channel it came by.

:func:`check_reading` is a pure rule: it takes the meter, the values, the dates, the
previous reading and the consumption history as arguments and returns a
:class:`ReadingVerdict`. Services store the reading when the verdict is accepted and
mark it for review when it is flagged.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from pokaznyk_core.domain.meters import MeterSpec, rollover_plausible
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import parse_value
from pokaznyk_core.domain.zones import Zone, ZoneValues


@dataclass(frozen=True)
class PreviousReading:
    """The latest earlier actual reading of the meter (or its initial reading)."""

    taken_on: date
    values: ZoneValues


@dataclass(frozen=True)
class ConsumptionHistory:
    """Average kWh per day per zone over earlier actual readings, and the days covered."""

    daily_average: ZoneValues
    days_observed: int

    @property
    def total_daily_average(self) -> Decimal:
        """The average kWh per day over all zones."""
        return sum(self.daily_average.values(), Decimal(0))


@dataclass(frozen=True)
class PlausibilityLimits:
    """When a consumption is implausible enough to be flagged for review."""

    history_factor: Decimal = Decimal(4)
    """Flag when daily use exceeds this many times the history's daily average…"""
    history_margin_per_day: Decimal = Decimal(5)
    """…plus this many kWh per day (so a tiny history does not flag every reading)."""
    household_cap_per_day: Decimal = Decimal(100)
    """Flag above this many kWh per day whatever the history; also the most a rollover
    may imply per day for it to be believed."""
    min_days_observed: int = 60
    """The history is compared only when it covers at least this many days."""


class Flag(StrEnum):
    """Why a stored reading waits for a reviewer."""

    HIGH_CONSUMPTION = "high_consumption"
    ABOVE_HOUSEHOLD_CAP = "above_household_cap"
    ZONES_SWAPPED = "zones_swapped"
    UNVERIFIED_SUBMITTER = "unverified_submitter"
    FIELD_DISAGREEMENT = "field_disagreement"


@dataclass(frozen=True)
class ReadingVerdict:
    """The answer to one reading.

    ``accepted`` readings are stored; ``problems`` say why one was rejected (each with
    the zone as ``field`` where it belongs to one). ``notices`` are told to the customer
    with an accepted reading (rollover, will be checked, check the zone order).
    ``consumption`` is per zone since the previous reading, rollovers included; it is
    empty without a previous reading or when rejected.
    """

    accepted: bool
    problems: tuple[Problem, ...]
    flags: frozenset[Flag]
    notices: tuple[Problem, ...]
    rollover_zones: frozenset[Zone]
    consumption: Mapping[Zone, Decimal]

    @property
    def flagged(self) -> bool:
        """Whether the reading waits for a reviewer."""
        return bool(self.flags)

    @property
    def rollover(self) -> bool:
        """Whether any zone wrapped past the meter's modulus."""
        return bool(self.rollover_zones)

    @property
    def total_consumption(self) -> Decimal:
        """Consumption over all zones."""
        return sum(self.consumption.values(), Decimal(0))


def _rejected(problems: list[Problem]) -> ReadingVerdict:
    return ReadingVerdict(
        accepted=False,
        problems=tuple(problems),
        flags=frozenset(),
        notices=(),
        rollover_zones=frozenset(),
        consumption=MappingProxyType({}),
    )


@dataclass(frozen=True)
class _Evaluation:
    too_low: tuple[Zone, ...]
    rollover: frozenset[Zone]
    consumption: dict[Zone, Decimal]
    flags: frozenset[Flag]
    notices: tuple[Problem, ...]

    @property
    def clean(self) -> bool:
        return not self.too_low and not self.rollover and not self.flags


def _evaluate(
    meter: MeterSpec,
    values: ZoneValues,
    previous: PreviousReading,
    days: int,
    history: ConsumptionHistory | None,
    limits: PlausibilityLimits,
) -> _Evaluation:
    too_low: list[Zone] = []
    rollover: set[Zone] = set()
    consumption: dict[Zone, Decimal] = {}
    for zone in meter.zones:
        if zone not in previous.values:
            continue
        before, now = previous.values[zone], values[zone]
        used = meter.advance(before, now)
        if now < before:
            if not rollover_plausible(used, days, limits.household_cap_per_day):
                too_low.append(zone)
                continue
            rollover.add(zone)
        consumption[zone] = used
    if too_low:
        return _Evaluation(tuple(too_low), frozenset(), {}, frozenset(), ())
    flags, notices = _plausibility(sum(consumption.values(), Decimal(0)), days, history, limits)
    return _Evaluation((), frozenset(rollover), consumption, flags, notices)


def _plausibility(
    total: Decimal, days: int, history: ConsumptionHistory | None, limits: PlausibilityLimits
) -> tuple[frozenset[Flag], tuple[Problem, ...]]:
    per_day = total / days
    params: dict[str, str | int] = {"consumption": f"{total:f}", "days": days}
    flags: list[Flag] = []
    notices: list[Problem] = []
    if history is not None and history.days_observed >= limits.min_days_observed:
        expected = limits.history_factor * history.total_daily_average
        if per_day > expected + limits.history_margin_per_day:
            flags.append(Flag.HIGH_CONSUMPTION)
            notices.append(Problem(Code.READING_HIGH_CONSUMPTION, params))
    if per_day > limits.household_cap_per_day:
        flags.append(Flag.ABOVE_HOUSEHOLD_CAP)
        notices.append(Problem(Code.READING_ABOVE_HOUSEHOLD_CAP, params))
    return frozenset(flags), tuple(notices)


def _date_problems(
    taken_on: date, today: date, previous: PreviousReading | None, installed_on: date | None
) -> list[Problem]:
    found = []
    if taken_on > today:
        found.append(Problem(Code.READING_IN_FUTURE, {"today": today.isoformat()}))
    if installed_on is not None and taken_on < installed_on:
        found.append(
            Problem(Code.READING_BEFORE_INSTALLATION, {"installed_on": installed_on.isoformat()})
        )
    if previous is not None and taken_on < previous.taken_on:
        found.append(
            Problem(Code.READING_BEFORE_PREVIOUS, {"previous_date": previous.taken_on.isoformat()})
        )
    return found


def _swapped(values: ZoneValues, first: Zone, second: Zone) -> dict[Zone, Decimal]:
    result = dict(values)
    result[first], result[second] = values[second], values[first]
    return result


def check_reading(
    meter: MeterSpec,
    values: ZoneValues,
    taken_on: date,
    today: date,
    previous: PreviousReading | None,
    history: ConsumptionHistory | None,
    limits: PlausibilityLimits = PlausibilityLimits(),
    installed_on: date | None = None,
) -> ReadingVerdict:
    """Check one reading of every zone of ``meter`` taken on ``taken_on``.

    Rejected: a wrong set of zones; a value the meter cannot show; a date in the
    future, before the meter was installed or before the previous reading (the same day
    is allowed); a zone lower than its previous value unless a rollover is plausible for
    the days elapsed. Repeating the previous reading is zero consumption: accepted with
    no notice. Accepted but flagged, with a notice: consumption far above the history or
    above the household cap; on a 2- or 3-zone meter, values that fail as typed but pass
    cleanly with two zones exchanged (``ZONES_SWAPPED``). For a swapped reading the
    values stay as typed (the reviewer decides) while ``consumption`` is that of the
    swapped reading: the total is the same and no zone is negative.
    """
    if set(values) != set(meter.zones):
        return _rejected([Problem(Code.READING_ZONE_COUNT, {"expected": meter.zone_count})])
    problems = [
        problem
        for zone in meter.zones
        if (problem := meter.check_value(values[zone], zone.value)) is not None
    ]
    problems += _date_problems(taken_on, today, previous, installed_on)
    if problems:
        return _rejected(problems)
    if previous is None:
        return ReadingVerdict(True, (), frozenset(), (), frozenset(), MappingProxyType({}))
    days = max(1, (taken_on - previous.taken_on).days)
    typed = _evaluate(meter, values, previous, days, history, limits)
    if (typed.too_low or typed.flags) and meter.zone_count > 1:
        for first, second in itertools.combinations(meter.zones, 2):
            swapped = _evaluate(
                meter, _swapped(values, first, second), previous, days, history, limits
            )
            if swapped.clean:
                notice = Problem(
                    Code.READING_ZONES_SWAPPED, {"zone": first.value, "other_zone": second.value}
                )
                return ReadingVerdict(
                    accepted=True,
                    problems=(),
                    flags=frozenset({Flag.ZONES_SWAPPED}),
                    notices=(notice,),
                    rollover_zones=frozenset(),
                    consumption=MappingProxyType(swapped.consumption),
                )
    if typed.too_low:
        return _rejected(
            [
                Problem(
                    Code.READING_TOO_LOW,
                    {"zone": zone.value, "previous": meter.format(previous.values[zone])},
                    zone.value,
                )
                for zone in typed.too_low
            ]
        )
    rollover_notices = tuple(
        Problem(Code.READING_ROLLOVER, {"zone": zone.value}, zone.value)
        for zone in meter.zones
        if zone in typed.rollover
    )
    return ReadingVerdict(
        accepted=True,
        problems=(),
        flags=typed.flags,
        notices=rollover_notices + typed.notices,
        rollover_zones=typed.rollover,
        consumption=MappingProxyType(typed.consumption),
    )


def check_typed_reading(
    meter: MeterSpec,
    texts: Mapping[Zone, str],
    taken_on: date,
    today: date,
    previous: PreviousReading | None,
    history: ConsumptionHistory | None,
    limits: PlausibilityLimits = PlausibilityLimits(),
    installed_on: date | None = None,
    *,
    truncate_extra_decimals: bool = False,
) -> tuple[dict[Zone, Decimal], ReadingVerdict]:
    """Parse the text typed for each zone, then :func:`check_reading` the values.

    Returns the values that parsed and the verdict; a value that does not parse rejects
    the reading with its problem, ``field`` set to the zone.
    """
    if set(texts) != set(meter.zones):
        return {}, _rejected([Problem(Code.READING_ZONE_COUNT, {"expected": meter.zone_count})])
    values: dict[Zone, Decimal] = {}
    problems: list[Problem] = []
    for zone in meter.zones:
        parsed = parse_value(texts[zone], meter, truncate_extra_decimals=truncate_extra_decimals)
        if isinstance(parsed, Problem):
            problems.append(Problem(parsed.code, parsed.params, zone.value))
        else:
            values[zone] = parsed
    if problems:
        return values, _rejected(problems)
    verdict = check_reading(meter, values, taken_on, today, previous, history, limits, installed_on)
    return values, verdict
