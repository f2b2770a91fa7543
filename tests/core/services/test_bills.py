"""An account's bills of closed periods, with the reconciliation after estimates.

Every test closes its own periods: one database serves the whole module, and a period
closes once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.domain.billing import Basis
from pokaznyk_core.domain.outcomes import Code
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.billing import close_period
from pokaznyk_core.services.bills import account_bills
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import Meter
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

T = Zone.TOTAL


async def _submit(context: ServiceContext, meter_id: int, value: str, taken_on: date) -> None:
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter_id,
            values={T: Decimal(value)},
            channel=Channel.CABINET,
            submitted_by="test",
            taken_on=taken_on,
        ),
    )
    assert outcome.stored, outcome.verdict.problems


async def _close(context: ServiceContext, clock: FixedClock, *periods: Period) -> None:
    for period in periods:
        clock.instant = datetime(period.next().year, period.next().month, 10, 9, tzinfo=UTC)
        await close_period(context, period, actor="test")


async def _meter_at_five_kwh_a_day(
    context: ServiceContext, clock: FixedClock, installed_on: date, readings: tuple[date, date]
) -> MeterFixture:
    """A meter whose two readings show 5 kWh a day (150 kWh over 30 days)."""
    clock.instant = datetime(readings[1].year, readings[1].month, readings[1].day, 9, tzinfo=UTC)
    meter = await make_meter_fixture(
        context, initial={T: Decimal("1000.0")}, installed_on=installed_on
    )
    await _submit(context, meter.meter_id, "1150.0", readings[0])
    await _submit(context, meter.meter_id, "1300.0", readings[1])
    return meter


async def test_an_actual_period_after_an_estimated_one_shows_the_reconciliation(
    context: ServiceContext, clock: FixedClock
) -> None:
    meter = await _meter_at_five_kwh_a_day(
        context, clock, date(2025, 6, 1), (date(2025, 7, 31), date(2025, 8, 30))
    )
    await _close(context, clock, Period(2025, 9))  # no reading: 30 days at 5 kWh
    clock.instant = datetime(2025, 10, 31, 9, tzinfo=UTC)
    await _submit(context, meter.meter_id, "1550.0", date(2025, 10, 31))  # 250 kWh counted
    await _close(context, clock, Period(2025, 10))

    october, september = await account_bills(meter.account_id)

    assert (september.period, september.basis, september.total) == (
        Period(2025, 9),
        Basis.ESTIMATED,
        Decimal(150),
    )
    assert september.reconciliation is None and september.estimated
    assert (october.period, october.basis, october.total) == (
        Period(2025, 10),
        Basis.ACTUAL,
        Decimal(100),
    )
    serial = await Meter.select(Meter.serial).where(Meter.id == meter.meter_id).first()
    assert serial is not None and october.meter_serial == serial["serial"]
    assert october.kwh == {T: Decimal(100)}
    reconciliation = october.reconciliation
    assert reconciliation is not None
    assert (reconciliation.estimated, reconciliation.actual, reconciliation.difference) == (
        Decimal(150),
        Decimal(250),
        Decimal(-100),
    )
    assert reconciliation.notice.code is Code.ESTIMATE_CHARGE
    assert reconciliation.notice.params["estimated"] == "150"  # whole kWh, no ".0"


async def test_estimates_that_were_too_high_show_a_negative_credit(
    context: ServiceContext, clock: FixedClock
) -> None:
    meter = await _meter_at_five_kwh_a_day(
        context, clock, date(2025, 11, 1), (date(2025, 11, 30), date(2025, 12, 30))
    )
    await _close(context, clock, Period(2026, 1))  # estimated: 31 days at 5 kWh
    clock.instant = datetime(2026, 2, 28, 9, tzinfo=UTC)
    await _submit(context, meter.meter_id, "1350.0", date(2026, 2, 28))  # 50 kWh counted
    await _close(context, clock, Period(2026, 2))

    february, january = await account_bills(meter.account_id)

    assert january.total == Decimal(155) and not january.credit
    assert february.basis is Basis.ACTUAL and february.total == Decimal(-105)
    assert february.credit
    assert february.reconciliation is not None
    assert february.reconciliation.difference == Decimal(105)
    assert february.reconciliation.notice.code is Code.ESTIMATE_CREDIT


async def test_another_accounts_bills_never_appear_and_the_newest_come_first(
    context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 3, 20, 9, tzinfo=UTC)
    mine = await make_meter_fixture(
        context, zone_count=3, installed_on=date(2026, 3, 1), initial=None
    )
    theirs = await make_meter_fixture(context, installed_on=date(2026, 3, 1))
    await _close(context, clock, Period(2026, 4), Period(2026, 5))

    bills = await account_bills(mine.account_id)

    assert {b.meter_id for b in bills} == {mine.meter_id}
    assert [(str(b.period), b.basis) for b in bills] == [
        ("2026-05", Basis.ESTIMATED),
        ("2026-04", Basis.ESTIMATED),
    ]
    # No history: the default 5 kWh a day, shared by the zones, truncated to whole kWh.
    assert bills[1].kwh == {
        Zone.PEAK: Decimal(30),
        Zone.HALF_PEAK: Decimal(67),
        Zone.NIGHT: Decimal(52),
    }
    assert bills[1].total == Decimal(149)
    assert {b.meter_id for b in await account_bills(theirs.account_id)} == {theirs.meter_id}
    assert [str(b.period) for b in await account_bills(mine.account_id, limit=1)] == ["2026-05"]


async def test_an_account_without_closed_periods_has_no_bills(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context)
    assert await account_bills(meter.account_id) == []
