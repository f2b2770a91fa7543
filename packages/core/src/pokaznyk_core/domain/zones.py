"""Tariff zones of a meter: one register per zone."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum


class Zone(StrEnum):
    """A tariff zone; the value is the name used in storage, JSON and the catalogue."""

    TOTAL = "total"
    DAY = "day"
    NIGHT = "night"
    PEAK = "peak"
    HALF_PEAK = "half_peak"


ZoneValues = Mapping[Zone, Decimal]

_ZONES_BY_COUNT: dict[int, tuple[Zone, ...]] = {
    1: (Zone.TOTAL,),
    2: (Zone.DAY, Zone.NIGHT),
    3: (Zone.PEAK, Zone.HALF_PEAK, Zone.NIGHT),
}

MIN_ZONE_COUNT = 1
MAX_ZONE_COUNT = 3


def zones_for(zone_count: int) -> tuple[Zone, ...]:
    """Return the zones of a meter with ``zone_count`` registers, in display order.

    Raises ``ValueError`` for a count other than 1, 2 or 3.
    """
    try:
        return _ZONES_BY_COUNT[zone_count]
    except KeyError:
        raise ValueError(f"a meter has 1 to 3 zones, not {zone_count}") from None
