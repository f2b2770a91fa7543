"""Estimates for periods without an actual reading, and their reconciliation."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType

from pokaznyk_core.domain.checks import ConsumptionHistory
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import without_trailing_zeros
from pokaznyk_core.domain.zones import Zone, ZoneValues

# Daily averages keep four decimals (truncated); estimates are whole kWh.
_AVERAGE_PLACES = Decimal("0.0001")
_WHOLE = Decimal(1)


def daily_average(
    readings: Sequence[tuple[date, ZoneValues]], meter: MeterSpec
) -> ConsumptionHistory | None:
    """The average daily consumption per zone over consecutive actual readings.

    Readings may come in any order; a zone lower than the one before counts as a
    rollover. Readings on the same day add nothing. ``None`` when fewer than two
    different days are given.
    """
    ordered = sorted(readings, key=lambda reading: reading[0])
    used = dict.fromkeys(meter.zones, Decimal(0))
    days = 0
    for (before_on, before), (after_on, after) in itertools.pairwise(ordered):
        elapsed = (after_on - before_on).days
        if elapsed <= 0:
            continue
        days += elapsed
        for zone in meter.zones:
            if zone in before and zone in after:
                used[zone] += meter.advance(before[zone], after[zone])
    if days == 0:
        return None
    average = {
        zone: (total / days).quantize(_AVERAGE_PLACES, rounding=ROUND_DOWN)
        for zone, total in used.items()
    }
    return ConsumptionHistory(daily_average=MappingProxyType(average), days_observed=days)


def estimate_consumption(
    history: ConsumptionHistory | None, days: int, default_per_day: ZoneValues
) -> dict[Zone, Decimal]:
    """Estimated kWh per zone for ``days`` days: the history's daily average, or the
    configured default without history, times the days, truncated to whole kWh."""
    if days < 0:
        raise ValueError(f"cannot estimate {days} days")
    per_day = history.daily_average if history is not None else default_per_day
    return {
        zone: (average * days).quantize(_WHOLE, rounding=ROUND_DOWN)
        for zone, average in per_day.items()
    }


@dataclass(frozen=True)
class EstimateReconciliation:
    """Estimated against actual consumption; a positive ``difference`` is credited."""

    estimated: Decimal
    actual: Decimal
    difference: Decimal
    periods: tuple[str, ...] = ()
    """The billing periods that were estimated ("2026-08"), where known."""

    @property
    def notice(self) -> Problem:
        """What to tell the customer: a credit, a charge, or that the estimate was right
        (naming the months estimated, where known)."""
        params = {"estimated": _kwh(self.estimated), "actual": _kwh(self.actual)}
        if self.periods:
            params["periods"] = " ".join(self.periods)
        if self.difference > 0:
            return Problem(Code.ESTIMATE_CREDIT, {**params, "difference": _kwh(self.difference)})
        if self.difference < 0:
            return Problem(Code.ESTIMATE_CHARGE, {**params, "difference": _kwh(-self.difference)})
        return Problem(Code.ESTIMATE_MATCHED, params)


def _kwh(value: Decimal) -> str:
    """kWh as they are: whole ones without a decimal (an estimate is whole: "41", not
    "41.0"), others with theirs ("40.5")."""
    return f"{without_trailing_zeros(value):f}"


def reconcile(
    estimated_total: Decimal, actual_total: Decimal, periods: Sequence[str] = ()
) -> EstimateReconciliation:
    """Compare the estimates billed (for `periods`, where known) with the actual
    consumption a reading shows."""
    return EstimateReconciliation(
        estimated=estimated_total,
        actual=actual_total,
        difference=estimated_total - actual_total,
        periods=tuple(sorted(periods)),
    )
