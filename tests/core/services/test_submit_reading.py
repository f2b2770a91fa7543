"""Submitting a reading: the one service every channel uses, on both database engines."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from pokaznyk_core.domain.checks import Flag, check_reading
from pokaznyk_core.domain.history import is_baseline
from pokaznyk_core.domain.outcomes import Code
from pokaznyk_core.domain.readings import Channel, ReadingStatus
from pokaznyk_core.domain.receipts import RECEIPT_ALPHABET
from pokaznyk_core.domain.window import place_reading
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services import identities
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.reading_store import baseline_sql, readings_and_bills
from pokaznyk_core.services.readings import ReadingSubmission, SubmissionOutcome, submit_reading
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import AuditEntry, Reading, RejectedSubmission
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

T, DAY, NIGHT = Zone.TOTAL, Zone.DAY, Zone.NIGHT
PEAK, HALF = Zone.PEAK, Zone.HALF_PEAK


async def submit(
    context: ServiceContext,
    meter: MeterFixture,
    values: dict[Zone, str],
    *,
    taken_on: date | None = None,
    channel: Channel = Channel.TELEGRAM,
    reading_id: object = None,
) -> SubmissionOutcome:
    return await submit_reading(
        context,
        ReadingSubmission(
            reading_id=reading_id or uuid4(),  # type: ignore[arg-type]
            meter_id=meter.meter_id,
            values={z: Decimal(v) for z, v in values.items()},
            channel=channel,
            submitted_by=f"{channel.value}:test",
            taken_on=taken_on,
        ),
    )


async def test_accepts_a_plausible_reading_with_a_short_receipt(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("1000.0")})
    outcome = await submit(context, meter, {T: "1250.5"}, taken_on=date(2026, 10, 30))
    assert outcome.stored and not outcome.duplicate
    assert outcome.status is ReadingStatus.ACCEPTED
    assert outcome.receipt is not None and len(outcome.receipt) <= 10
    assert set(outcome.receipt) <= set(RECEIPT_ALPHABET)
    assert str(outcome.period) == "2026-10" and outcome.in_window
    row = await Reading.select().where(Reading.id == outcome.reading_id).first()
    assert row is not None
    assert row["value_1"] == 12505 and row["channel"] == "telegram"


async def test_stores_a_retried_submission_once(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    reading_id = uuid4()
    first = await submit(context, meter, {T: "150.0"}, reading_id=reading_id)
    again = await submit(context, meter, {T: "150.0"}, reading_id=reading_id)
    assert again.duplicate and again.receipt == first.receipt
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 1


async def test_concurrent_retries_of_one_reading_store_it_once(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    reading_id = uuid4()
    outcomes = await asyncio.gather(
        *(submit(context, meter, {T: "150.0"}, reading_id=reading_id) for _ in range(5))
    )
    assert {o.receipt for o in outcomes} == {outcomes[0].receipt}
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 1


async def test_a_retry_waiting_for_the_meter_sees_the_reading_stored_meanwhile(
    context: ServiceContext, database: Database
) -> None:
    if not database.is_postgres:
        pytest.skip(
            "SQLite's write transaction holds the whole database: nothing is stored meanwhile"
        )
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    reading_id = uuid4()
    other = await asyncpg.connect(database.url)
    try:
        holder = other.transaction()
        await holder.start()
        await other.execute("SELECT 1 FROM meter WHERE id = $1 FOR UPDATE", meter.meter_id)
        retry = asyncio.create_task(submit(context, meter, {T: "150.0"}, reading_id=reading_id))
        await asyncio.sleep(0.3)
        assert not retry.done()  # it waits for the meter
        # Meanwhile the first delivery of the same reading is stored and committed.
        await other.execute(
            "INSERT INTO reading (id, receipt, meter, account, value_1, taken_on, received_at,"
            " channel, submitted_by, status, period, in_window, flags, rollover,"
            " consumption_total) VALUES ($1, 'FIRST2345', $2, $3, 1500, $4, $5, 'telegram',"
            " 'telegram:test', 'accepted', '2026-10', false, '', false, 500)",
            reading_id,
            meter.meter_id,
            meter.account_id,
            context.today(),
            context.now(),
        )
        await holder.commit()
        outcome = await retry
    finally:
        await other.close()
    assert outcome.duplicate and outcome.receipt == "FIRST2345"
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 1


async def test_rejects_a_value_lower_than_the_previous_and_counts_it(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("5000.0")})
    outcome = await submit(context, meter, {T: "4000.0"})
    assert not outcome.stored
    assert [p.code for p in outcome.verdict.problems] == [Code.READING_TOO_LOW]
    assert await Reading.count().where(Reading.meter == meter.meter_id) == 0
    rejected = await RejectedSubmission.select().where(RejectedSubmission.meter == meter.meter_id)
    assert [(r["channel"], r["reason"]) for r in rejected] == [("telegram", "reading.too_low")]


async def test_accepts_a_repeated_reading_without_a_warning(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("700.0")})
    first = await submit(context, meter, {T: "800.0"}, taken_on=date(2026, 9, 29))
    assert first.stored
    repeat = await submit(context, meter, {T: "800.0"}, taken_on=date(2026, 10, 30))
    assert repeat.status is ReadingStatus.ACCEPTED
    assert repeat.verdict.flags == frozenset() and repeat.verdict.notices == ()


async def test_accepts_a_plausible_rollover_and_marks_it(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context, digits=4, decimals=0, initial={T: Decimal("9950")}, installed_on=date(2026, 9, 30)
    )
    outcome = await submit(context, meter, {T: "0120"}, taken_on=date(2026, 10, 30))
    assert outcome.stored and outcome.verdict.rollover
    row = await Reading.select(Reading.rollover).where(Reading.id == outcome.reading_id).first()
    assert row is not None and row["rollover"] is True


async def test_flags_consumption_above_the_household_cap(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 9, 30)
    )
    outcome = await submit(context, meter, {T: "90000.0"}, taken_on=date(2026, 10, 30))
    assert outcome.stored and outcome.status is ReadingStatus.FLAGGED
    assert outcome.verdict.flagged


async def test_a_correction_in_the_window_supersedes_the_earlier_reading(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    first = await submit(context, meter, {T: "190.0"}, taken_on=date(2026, 10, 30))
    second = await submit(context, meter, {T: "180.0"}, taken_on=date(2026, 10, 30))
    assert second.status is ReadingStatus.ACCEPTED
    assert second.superseded == (first.reading_id,)
    assert second.replaced_receipts == (first.receipt,)
    statuses = {
        r["id"]: r["status"]
        for r in await Reading.select(Reading.id, Reading.status).where(
            Reading.meter == meter.meter_id
        )
    }
    assert statuses == {first.reading_id: "superseded", second.reading_id: "accepted"}


async def test_marks_a_reading_outside_the_window_off_window(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit(context, meter, {T: "150.0"}, taken_on=date(2026, 10, 15))
    assert outcome.stored and not outcome.in_window and str(outcome.period) == "2026-10"


async def test_a_reading_on_the_third_counts_for_the_month_that_ended(
    context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 11, 3, 20, 0, tzinfo=UTC)  # 22:00 in Kyiv, still the 3rd
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit(context, meter, {T: "150.0"})
    assert outcome.in_window and str(outcome.period) == "2026-10"


async def test_rejects_a_reading_dated_in_the_future(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit(context, meter, {T: "150.0"}, taken_on=date(2026, 11, 2))
    assert not outcome.stored
    assert outcome.verdict.problems[0].code is Code.READING_IN_FUTURE


async def test_three_zone_reading_is_stored_exactly(context: ServiceContext) -> None:
    meter = await make_meter_fixture(
        context,
        zone_count=3,
        decimals=2,
        initial={PEAK: Decimal("10.00"), HALF: Decimal("20.00"), NIGHT: Decimal("30.00")},
    )
    outcome = await submit(context, meter, {PEAK: "60.05", HALF: "120.10", NIGHT: "90.99"})
    assert outcome.stored
    row = await Reading.select().where(Reading.id == outcome.reading_id).first()
    assert row is not None
    assert (row["value_1"], row["value_2"], row["value_3"]) == (6005, 12010, 9099)


async def test_writes_an_audit_entry_with_the_reading(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit(context, meter, {T: "150.0"}, channel=Channel.WEB_FORM)
    entries = await AuditEntry.select().where(AuditEntry.entity_id == str(outcome.reading_id))
    assert [e["action"] for e in entries] == ["reading.submitted"]


async def test_an_unverified_caller_reading_is_flagged(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("150.0")},
            channel=Channel.IVR,
            submitted_by="ivr:+380501112233",
            extra_flags=frozenset({Flag.UNVERIFIED_SUBMITTER}),
        ),
    )
    assert outcome.status is ReadingStatus.FLAGGED


async def test_refuses_an_unknown_meter(context: ServiceContext) -> None:
    with pytest.raises(ServiceError) as error:
        await submit_reading(
            context,
            ReadingSubmission(
                reading_id=uuid4(),
                meter_id=987654321,
                values={T: Decimal(1)},
                channel=Channel.TELEGRAM,
                submitted_by="t",
            ),
        )
    assert error.value.problem.code is Code.METER_UNKNOWN


async def test_refuses_a_reading_id_already_used_for_another_meter(
    context: ServiceContext,
) -> None:
    first = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    second = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    reading_id = uuid4()
    await submit(context, first, {T: "150.0"}, reading_id=reading_id)
    with pytest.raises(ServiceError) as error:
        await submit(context, second, {T: "150.0"}, reading_id=reading_id)
    assert error.value.problem.code is Code.READING_ID_REUSED
    assert await Reading.count().where(Reading.meter == second.meter_id) == 0


async def test_an_unverified_callers_reading_does_not_displace_the_customers_own(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    own = await submit(context, meter, {T: "150.0"}, taken_on=date(2026, 10, 30))
    caller = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("190.0")},
            channel=Channel.IVR,
            submitted_by="ivr:+380501112299",
            taken_on=date(2026, 10, 30),
            extra_flags=frozenset({Flag.UNVERIFIED_SUBMITTER}),
        ),
    )
    assert caller.status is ReadingStatus.FLAGGED and caller.superseded == ()
    row = await Reading.select(Reading.status).where(Reading.id == own.reading_id).first()
    assert row is not None and row["status"] == "accepted"


async def _a_year_at_ten_kwh_a_day(context: ServiceContext, meter: MeterFixture) -> Decimal:
    """Month-end readings from August 2025 to September 2026, 10 kWh a day; the last value."""
    value = Decimal("100.0")
    taken_on = date(2025, 8, 31)
    for month in range(14):
        year, index = divmod(8 + month, 12)
        next_month_start = date(2025 + year, index + 1, 1)
        taken_on_next = next_month_start - timedelta(days=1) if month else taken_on
        value += 10 * (taken_on_next - taken_on).days
        taken_on = taken_on_next
        outcome = await submit(context, meter, {T: str(value)}, taken_on=taken_on)
        assert outcome.stored
    assert taken_on == date(2026, 9, 30)
    return value


async def test_consumption_far_above_the_last_years_average_is_flagged(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(
        context, installed_on=date(2025, 8, 31), initial={T: Decimal("100.0")}
    )
    last = await _a_year_at_ten_kwh_a_day(context, meter)
    usual = await submit(context, meter, {T: str(last + 30 * 40)}, taken_on=date(2026, 10, 30))
    assert usual.status is ReadingStatus.ACCEPTED and not usual.verdict.flags
    high = await submit(context, meter, {T: str(last + 30 * 50)}, taken_on=date(2026, 10, 30))
    assert high.status is ReadingStatus.FLAGGED
    assert high.verdict.flags == frozenset({Flag.HIGH_CONSUMPTION})


async def test_the_history_is_the_last_year_not_the_meters_whole_life(
    context: ServiceContext,
) -> None:
    # Installed in 2015 and hardly used until 2025 (an empty flat): over its whole life
    # the meter averages under 2 kWh a day, over the last year 10.
    meter = await make_meter_fixture(
        context, installed_on=date(2015, 8, 31), initial={T: Decimal("0")}
    )
    last = await _a_year_at_ten_kwh_a_day(context, meter)
    usual = await submit(context, meter, {T: str(last + 30 * 20)}, taken_on=date(2026, 10, 30))
    assert usual.status is ReadingStatus.ACCEPTED and not usual.verdict.flags


async def test_the_baseline_query_takes_the_readings_the_baseline_rule_takes(
    context: ServiceContext,
) -> None:
    """`reading_store.baseline_sql` is `domain.history.is_baseline` in SQL, on both engines."""
    meter = await make_meter_fixture(context, initial={T: Decimal("1000")})
    kinds = [
        (status, flags)
        for status in ReadingStatus
        for flags in (
            "",
            "high_consumption",
            "unverified_submitter",
            "high_consumption,unverified_submitter",
        )
    ]
    stored = [
        await submit(context, meter, {T: str(1001 + n)}, taken_on=date(2026, 10, 1))
        for n in range(len(kinds))
    ]
    for outcome, (status, flags) in zip(stored, kinds, strict=True):
        await Reading.update({Reading.status: status.value, Reading.flags: flags}).where(
            Reading.id == outcome.reading_id
        )
    rows = await Reading.raw(
        f"SELECT status, flags FROM reading WHERE meter = {{}} AND {baseline_sql()}",
        meter.meter_id,
    )
    taken = sorted((r["status"], r["flags"]) for r in rows)
    expected = sorted((s.value, f) for s, f in kinds if is_baseline(s.value, f.split(",")))
    assert taken == expected
    assert ("flagged", "high_consumption") in taken
    assert ("flagged", "unverified_submitter") not in taken
    assert ("accepted", "unverified_submitter") in taken, "accepted by a reviewer: it counts"


async def test_the_dialogs_facts_check_a_reading_against_the_history_the_submission_uses(
    context: ServiceContext,
) -> None:
    """A confirmation that warned of a consumption far above the usual while the stored
    reading went unflagged (a tester's 3-zone reading: the chat's facts held 200 days of
    summer readings, the submission a year with the winter): both read the same history."""
    meter = await make_meter_fixture(
        context,
        zone_count=2,
        digits=6,
        installed_on=date(2024, 9, 1),
        initial={DAY: Decimal("1000"), NIGHT: Decimal("500")},
    )
    taken, day, night = date(2024, 10, 1), Decimal(1000), Decimal(500)
    while taken < date(2026, 10, 1):
        winter = taken.month in (11, 12, 1, 2, 3)
        day += 600 if winter else 90
        night += 300 if winter else 40
        out = await submit(context, meter, {DAY: str(day), NIGHT: str(night)}, taken_on=taken)
        assert out.stored
        taken += timedelta(days=31)
    placement = place_reading(context.today(), context.window)
    [account] = await identities.account_infos(
        [meter.account_id], today=context.today(), window=context.window
    )
    [facts] = account.meters
    values = {DAY: day + 800, NIGHT: night + 400}  # far above the summer, not the year
    preview = check_reading(
        facts.spec,
        values,
        context.today(),
        context.today(),
        facts.previous,
        facts.history(placement),
        context.limits,
    )
    stored = await submit(context, meter, {z: str(v) for z, v in values.items()})
    assert stored.stored
    assert preview.flags == stored.verdict.flags
    assert stored.status is (ReadingStatus.FLAGGED if preview.flags else ReadingStatus.ACCEPTED)


async def test_the_dialogs_facts_hold_the_readings_the_submission_reads_ties_included(
    context: ServiceContext,
) -> None:
    """The chat's facts and the submission read each meter's latest 17 readings; two taken
    on the day of the 17th (SQLite's facts cut at that day) must not make the sets differ."""
    meter = await make_meter_fixture(context, initial={T: Decimal("1000")})
    taken, value = date(2025, 1, 10), 1000
    for n in range(20):
        value += 50
        await submit(context, meter, {T: str(value)}, taken_on=taken)
        if n not in (2, 3):  # the 3rd, 4th and 5th share a day: the 17th newest among them
            taken += timedelta(days=30)
    [account] = await identities.account_infos(
        [meter.account_id], today=context.today(), window=context.window
    )
    [facts] = account.meters
    found = await readings_and_bills(uuid4(), meter.meter_id, before_period="2026-10")
    read = [(r["taken_on"], r["value_1"]) for r in found.recent]
    held = [(p.taken_on, int(p.values[T] * 10)) for p in facts.recent]
    assert len(held) == 17 and held == read
    assert facts.recent_complete is found.complete is False
