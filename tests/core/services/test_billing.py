"""Closing a period, estimates, and the credit shown when an actual reading arrives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.outcomes import Code
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.billing import close_period
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.imports import ImportFileError, import_readings
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import BillLine, Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture

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


async def test_a_period_is_billed_on_readings_or_estimated_and_a_later_reading_credits(
    context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2025, 12, 1, 9, tzinfo=UTC)
    meter = await make_meter_fixture(
        context, initial={T: Decimal("1000.0")}, installed_on=date(2025, 6, 1)
    )
    await _submit(context, meter.meter_id, "1300.0", date(2025, 7, 31))
    await _submit(context, meter.meter_id, "1450.0", date(2025, 8, 30))  # 30 days: 150
    clock.instant = datetime(2025, 10, 10, 9, tzinfo=UTC)
    september = await close_period(context, Period(2025, 9), actor="test")
    assert september.estimated >= 1
    lines = await BillLine.select().where(BillLine.meter == meter.meter_id)
    assert [(line["period"], line["basis"]) for line in lines] == [("2025-09", "estimated")]
    estimated = Decimal(lines[0]["consumption_1"]) / 10
    assert estimated == Decimal(150)  # 30 days at the meter's own 5 kWh a day

    clock.instant = datetime(2025, 10, 31, 9, tzinfo=UTC)
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("1700.0")},
            channel=Channel.TELEGRAM,
            submitted_by="test",
        ),
    )
    assert outcome.reconciliation is not None
    assert outcome.reconciliation.estimated == Decimal(150)
    assert outcome.reconciliation.actual == Decimal(250)
    assert outcome.reconciliation.notice.code is Code.ESTIMATE_CHARGE
    assert outcome.reconciliation.periods == ("2025-09",)  # told at submission, by month

    clock.instant = datetime(2025, 11, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2025, 10), actor="test")
    october = (
        await BillLine.select()
        .where((BillLine.meter == meter.meter_id) & (BillLine.period == "2025-10"))
        .first()
    )
    assert october is not None and october["basis"] == "actual"
    assert october["consumption_1"] == 1000  # 250 kWh counted less 150 estimated


async def test_a_period_closes_once_and_not_while_its_window_is_open(
    context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with pytest.raises(ServiceError) as early:
        await close_period(context, Period(2026, 10), actor="test")
    assert early.value.problem.code is Code.PERIOD_NOT_OVER
    clock.instant = datetime(2026, 5, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2026, 4), actor="test")
    with pytest.raises(ServiceError) as again:
        await close_period(context, Period(2026, 4), actor="test")
    assert again.value.problem.code is Code.PERIOD_ALREADY_CLOSED


async def test_importing_a_file_twice_stores_each_reading_once(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 1, 1)
    )
    text = (
        "eic,taken_on,total\n"
        f"{meter.eic},2026-08-31,150.27\n"
        f"{meter.eic},2026-09-30,180.0\n"
        f"{meter.eic},2026-10-30,170.0\n"
        "62Z000000000000X,2026-10-30,1.0\n"
    )
    first = await import_readings(context, text, source="smart.csv")
    assert (first.stored, first.duplicates) == (2, 0)
    assert [row for row, _ in first.rejected] == [4, 5]
    assert "lower" in first.rejected[0][1] or "less" in first.rejected[0][1]
    again = await import_readings(context, text, source="smart.csv")
    assert (again.stored, again.duplicates) == (0, 2)
    values = [
        r["value_1"]
        for r in await Reading.select(Reading.value_1)
        .where(Reading.meter == meter.meter_id)
        .order_by(Reading.taken_on)
    ]
    assert values == [1502, 1800], "150.27 on a one-decimal meter is truncated to 150.2"


async def test_an_import_file_without_the_columns_is_refused(context: ServiceContext) -> None:
    with pytest.raises(ImportFileError):
        await import_readings(context, "account;value\n1;2\n", source="bad.csv")


async def test_a_phone_callers_value_no_reviewer_accepted_is_never_billed(
    context: ServiceContext, clock: FixedClock
) -> None:
    """The phone line takes values from callers not on the account, flagged for review:
    such a value, the period's only one, leaves the bill estimated, not billed on it."""
    clock.instant = datetime(2024, 3, 31, 9, tzinfo=UTC)  # in March's window
    meter = await make_meter_fixture(
        context, initial={T: Decimal("1000.0")}, installed_on=date(2023, 10, 1)
    )
    await _submit(context, meter.meter_id, "1300.0", date(2024, 1, 31))
    stranger = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("99000.0")},
            channel=Channel.IVR,
            submitted_by="ivr:+380670000001",
            extra_flags=frozenset({Flag.UNVERIFIED_SUBMITTER}),
        ),
    )
    assert stranger.stored
    clock.instant = datetime(2024, 4, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2024, 3), actor="test")
    [line] = await BillLine.select().where(BillLine.meter == meter.meter_id)
    assert (line["period"], line["basis"]) == ("2024-03", "estimated")
    assert line["consumption_1"] < 10 * 1000  # a month at the meter's own rate, not 97,700


async def test_the_estimates_told_at_submission_are_those_the_next_bill_settles(
    context: ServiceContext, clock: FixedClock
) -> None:
    """A tester's account: its last reading in a window was July's, one taken on 12 August
    (outside the window) billed nothing, and August to October were estimated. The new
    reading's note must name the months and the kWh that November's bill then settles,
    not count from 12 August against September and October only."""
    clock.instant = datetime(2023, 7, 31, 9, tzinfo=UTC)
    meter = await make_meter_fixture(
        context, initial={T: Decimal("1000.0")}, installed_on=date(2023, 1, 1)
    )
    await _submit(context, meter.meter_id, "1200.0", date(2023, 1, 31))
    await _submit(context, meter.meter_id, "1800.0", date(2023, 7, 31))  # July's window
    clock.instant = datetime(2023, 8, 12, 9, tzinfo=UTC)
    await _submit(context, meter.meter_id, "1900.0", date(2023, 8, 12))  # off the window
    for month in (8, 9, 10):
        clock.instant = datetime(2023, month + 1, 10, 9, tzinfo=UTC)
        await close_period(context, Period(2023, month), actor="test")
    estimated = await BillLine.select().where(BillLine.meter == meter.meter_id)
    assert [line["basis"] for line in estimated] == ["estimated"] * 3

    clock.instant = datetime(2023, 11, 30, 9, tzinfo=UTC)  # November's window
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("2500.0")},
            channel=Channel.TELEGRAM,
            submitted_by="test",
        ),
    )
    told = outcome.reconciliation
    assert told is not None
    assert told.periods == ("2023-08", "2023-09", "2023-10")
    assert told.actual == Decimal(700)  # counted since July's reading, as the bill counts
    assert told.estimated == sum(Decimal(line["consumption_1"]) / 10 for line in estimated)

    clock.instant = datetime(2023, 12, 10, 9, tzinfo=UTC)
    await close_period(context, Period(2023, 11), actor="test")
    november = (
        await BillLine.select()
        .where((BillLine.meter == meter.meter_id) & (BillLine.period == "2023-11"))
        .first()
    )
    assert november is not None and november["basis"] == "actual"
    assert Decimal(november["consumption_1"]) / 10 == told.actual - told.estimated
