"""Fakes shipped beside what they fake: a fixed clock, and helpers that build test data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.domain.eic import make_eic
from pokaznyk_core.domain.zones import Zone, zones_for
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.registry import (
    NewAccount,
    add_metering_point,
    create_account,
    install_meter,
)

__all__ = ["FixedClock", "MeterFixture", "make_meter_fixture"]


@dataclass
class FixedClock:
    """A clock that says what the test tells it."""

    instant: datetime = field(default_factory=lambda: datetime(2026, 10, 30, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """The instant set by the test."""
        return self.instant

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.instant += delta


@dataclass(frozen=True)
class MeterFixture:
    """An account with one metering point and one meter, made for a test."""

    account_id: int
    account_number: str
    surname: str
    eic: str
    metering_point_id: int
    meter_id: int
    zones: tuple[Zone, ...]


def _issued_eic(body: str) -> str | None:
    try:
        return make_eic(body)
    except ValueError:  # about 1 body in 37 has no issued EIC
        return None


async def make_meter_fixture(
    context: ServiceContext,
    *,
    zone_count: int = 1,
    digits: int = 6,
    decimals: int = 1,
    installed_on: date = date(2024, 1, 10),
    initial: dict[Zone, Decimal] | None = None,
    surname: str = "Коваленко",
    phones: tuple[str, ...] = ("+380501234567",),
) -> MeterFixture:
    """Create a fresh account (unique number and EIC) with one meter in service."""
    n = uuid4().int
    number = f"{n % 10**10:010d}"
    account_id = await create_account(
        context,
        NewAccount(
            number=number,
            surname=surname,
            name="Олена",
            settlement="м. Краматорськ",
            street="вул. Шевченка",
            building=str(n % 200 + 1),
            apartment="5",
            phones=phones,
        ),
        actor="test",
    )
    eic = next(
        code
        for body in range(n % 10**11, n % 10**11 + 40)
        if (code := _issued_eic(f"{body:012d}")) is not None
    )
    point_id = await add_metering_point(context, account_id, eic, actor="test")
    meter_id = await install_meter(
        context,
        point_id,
        serial=f"T-{n % 10**9:09d}",
        digits=digits,
        decimals=decimals,
        zone_count=zone_count,
        installed_on=installed_on,
        initial_values=initial,
        actor="test",
    )
    return MeterFixture(
        account_id=account_id,
        account_number=number,
        surname=surname,
        eic=eic,
        metering_point_id=point_id,
        meter_id=meter_id,
        zones=zones_for(zone_count),
    )
