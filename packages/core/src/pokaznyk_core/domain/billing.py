"""What a meter is billed for in a closed period: its actual reading, or an estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from pokaznyk_core.domain.checks import ConsumptionHistory
from pokaznyk_core.domain.estimates import EstimateReconciliation, estimate_consumption, reconcile
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.zones import ZoneValues

DEFAULT_DAILY_TOTAL = Decimal(5)
"""kWh a day assumed for a meter without any history (configured per company)."""

_ZONE_SHARES: dict[int, tuple[Decimal, ...]] = {
    1: (Decimal(1),),
    2: (Decimal("0.6"), Decimal("0.4")),
    3: (Decimal("0.2"), Decimal("0.45"), Decimal("0.35")),
}


class Basis(StrEnum):
    """What a bill line rests on."""

    ACTUAL = "actual"
    ESTIMATED = "estimated"


@dataclass(frozen=True)
class BillDecision:
    """The consumption billed for one meter and period, per zone (may be negative for a
    credit after estimates that were too high)."""

    basis: Basis
    consumption: ZoneValues
    reconciliation: EstimateReconciliation | None = None

    @property
    def total(self) -> Decimal:
        """The billed consumption over all zones."""
        return sum(self.consumption.values(), Decimal(0))


def default_daily_consumption(
    meter: MeterSpec, daily_total: Decimal = DEFAULT_DAILY_TOTAL
) -> ZoneValues:
    """The configured default daily consumption split over the meter's zones."""
    shares = _ZONE_SHARES[meter.zone_count]
    return MappingProxyType(
        {zone: daily_total * share for zone, share in zip(meter.zones, shares, strict=True)}
    )


def decide_bill(
    meter: MeterSpec,
    period_days: int,
    reading: ZoneValues | None,
    last_actual: ZoneValues,
    estimates_since_last_actual: Sequence[ZoneValues],
    history: ConsumptionHistory | None,
    default_per_day: ZoneValues,
) -> BillDecision:
    """Bill a period on its counting reading, or estimate it.

    With a reading, the period pays what the meter counted since the last period billed
    on an actual reading, less what the estimates in between already billed (so the sum
    over all periods always equals what the meter counted). Without one, the period is
    estimated from the meter's average daily consumption (or the default).
    """
    if reading is None:
        return BillDecision(
            basis=Basis.ESTIMATED,
            consumption=MappingProxyType(
                estimate_consumption(history, period_days, default_per_day)
            ),
        )
    counted = {zone: meter.advance(last_actual[zone], reading[zone]) for zone in meter.zones}
    billed = {
        zone: sum((e.get(zone, Decimal(0)) for e in estimates_since_last_actual), Decimal(0))
        for zone in meter.zones
    }
    consumption = {zone: counted[zone] - billed[zone] for zone in meter.zones}
    reconciliation = (
        reconcile(sum(billed.values(), Decimal(0)), sum(counted.values(), Decimal(0)))
        if estimates_since_last_actual
        else None
    )
    return BillDecision(
        basis=Basis.ACTUAL,
        consumption=MappingProxyType(consumption),
        reconciliation=reconciliation,
    )


def in_service(installed_on: date, removed_on: date | None, first: date, last: date) -> bool:
    """True when a meter counted for at least one day of a period."""
    return installed_on <= last and (removed_on is None or removed_on >= first)


__all__ = [
    "DEFAULT_DAILY_TOTAL",
    "Basis",
    "BillDecision",
    "decide_bill",
    "default_daily_consumption",
    "in_service",
]
