"""Reading values between the domain (Decimal per zone) and storage (integers per column)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.zones import Zone


def spec_of(row: Mapping[str, Any], prefix: str = "") -> MeterSpec:
    """The meter spec of a `meter` row (or of joined columns under `prefix`)."""
    return MeterSpec(
        digits=int(row[f"{prefix}digits"]),
        decimals=int(row[f"{prefix}decimals"]),
        zone_count=int(row[f"{prefix}zone_count"]),
    )


def values_from_row(
    row: Mapping[str, Any], spec: MeterSpec, prefix: str = "value_"
) -> dict[Zone, Decimal]:
    """Zone values from the columns `prefix1` … `prefix3`, in the meter's zone order."""
    return {
        zone: spec.from_units(int(row[f"{prefix}{index}"]))
        for index, zone in enumerate(spec.zones, start=1)
    }


def columns_from_values(
    values: Mapping[Zone, Decimal], spec: MeterSpec, prefix: str = "value_"
) -> dict[str, int | None]:
    """Columns `prefix1` … `prefix3` for zone values; unused zones are None."""
    columns: dict[str, int | None] = {f"{prefix}{i}": None for i in (1, 2, 3)}
    for index, zone in enumerate(spec.zones, start=1):
        columns[f"{prefix}{index}"] = spec.to_units(values[zone])
    return columns
