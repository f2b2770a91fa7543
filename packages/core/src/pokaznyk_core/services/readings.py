"""Submitting a reading: the one use case every channel calls to store a reading."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pokaznyk_core.domain.checks import (
    Flag,
    ReadingVerdict,
    check_reading,
)
from pokaznyk_core.domain.estimates import EstimateReconciliation
from pokaznyk_core.domain.history import (
    PastReading,
    corrected_by,
    previous_and_history,
)
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel, ReadingStatus
from pokaznyk_core.domain.window import Period, place_reading
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.audit import audit_values
from pokaznyk_core.services.billing import reconciliation_for
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.reading_store import readings_and_bills, store_reading
from pokaznyk_core.storage.tables import Account, Meter, Reading, RejectedSubmission
from pokaznyk_core.storage.transactions import is_postgres, write_transaction
from pokaznyk_core.storage.values import columns_from_values, spec_of, values_from_row

_UNSET_KEY = secrets.token_bytes(32)
"""The receipts' key where POKAZNYK_SECRET_KEY is not set (the demo, a command): random
to this process, so receipts still cannot be worked out; a stored reading keeps its own."""


@dataclass(frozen=True)
class ReadingSubmission:
    """A reading as a channel hands it over; `reading_id` makes a retry idempotent."""

    reading_id: UUID
    meter_id: int
    values: Mapping[Zone, Decimal]
    channel: Channel
    submitted_by: str
    taken_on: date | None = None
    extra_flags: frozenset[Flag] = frozenset()
    source: str = ""


@dataclass(frozen=True)
class SubmissionOutcome:
    """What happened to a submission: stored (with its receipt) or rejected (with why)."""

    reading_id: UUID
    stored: bool
    duplicate: bool
    verdict: ReadingVerdict
    receipt: str | None = None
    status: ReadingStatus | None = None
    period: Period | None = None
    in_window: bool = False
    superseded: tuple[UUID, ...] = field(default_factory=tuple)
    replaced_receipts: tuple[str, ...] = ()
    """The receipts of the readings this one superseded (a correction in the window)."""
    reconciliation: EstimateReconciliation | None = None
    """Estimates billed since the previous reading against what this one shows."""

    @property
    def flagged(self) -> bool:
        """True when the reading was stored but waits for a reviewer."""
        return self.status is ReadingStatus.FLAGGED


@dataclass(frozen=True)
class MeterFacts:
    """A meter with its account, as the checks need it."""

    meter_id: int
    account_id: int
    spec: MeterSpec
    serial: str
    installed_on: date
    removed_on: date | None
    initial: dict[Zone, Decimal]
    account_active: bool


_METER = (
    "SELECT m.*, mp.account AS account_id, a.status AS account_status FROM meter m"
    " JOIN metering_point mp ON mp.id = m.metering_point JOIN account a ON a.id = mp.account"
    " WHERE m.id = {}"
)


async def load_meter(meter_id: int, *, lock: bool = False) -> MeterFacts:
    """The facts of one meter, or a ServiceError when there is no such meter.

    With `lock`, the meter's row stays locked until the transaction ends (PostgreSQL;
    SQLite's write transaction holds the whole database already).
    """
    rows = await Meter.raw(
        _METER + (" FOR UPDATE OF m" if lock and is_postgres() else ""), meter_id
    )
    if not rows:
        raise ServiceError(Problem(Code.METER_UNKNOWN), f"no meter with id {meter_id}")
    row = rows[0]
    spec = spec_of(row)
    return MeterFacts(
        meter_id=row["id"],
        account_id=row["account_id"],
        spec=spec,
        serial=row["serial"],
        installed_on=row["installed_on"],
        removed_on=row["removed_on"],
        initial=values_from_row(row, spec, prefix="initial_"),
        account_active=row["account_status"] == "active",
    )


def _verdict_of_stored(row: Mapping[str, Any]) -> ReadingVerdict:
    flags = frozenset(Flag(f) for f in row["flags"].split(",") if f)
    return ReadingVerdict(
        accepted=True,
        problems=(),
        flags=flags,
        notices=(),
        rollover_zones=frozenset(),
        consumption={},
    )


def _outcome_of_stored(row: Mapping[str, Any], *, duplicate: bool) -> SubmissionOutcome:
    period = Period.parse(row["period"])
    assert isinstance(period, Period)
    return SubmissionOutcome(
        reading_id=row["id"],
        stored=True,
        duplicate=duplicate,
        verdict=_verdict_of_stored(row),
        receipt=row["receipt"],
        status=ReadingStatus(row["status"]),
        period=period,
        in_window=row["in_window"],
    )


def _past(rows: Sequence[Mapping[str, Any]], spec: MeterSpec) -> list[PastReading]:
    return [
        PastReading(r["taken_on"], values_from_row(r, spec), r["period"], bool(r["in_window"]))
        for r in rows
    ]


def _disagrees(
    a: Mapping[str, Any],
    b_values: Mapping[Zone, Decimal],
    b_taken: date,
    meter: MeterFacts,
    cap_per_day: Decimal,
) -> bool:
    """Two readings of one period differ by more than the household could use between them."""
    a_values = values_from_row(a, meter.spec)
    days = max(1, abs((b_taken - a["taken_on"]).days))
    difference = abs(sum(b_values.values(), Decimal(0)) - sum(a_values.values(), Decimal(0)))
    return bool(difference > cap_per_day * days)


async def submit_reading(
    context: ServiceContext, submission: ReadingSubmission
) -> SubmissionOutcome:
    """Check and store one reading, in one transaction, idempotent by `reading_id`.

    A retry of a stored reading returns the first outcome and stores nothing. A reading the
    checks reject is not stored; it is counted by channel and reason. An accepted in-window
    reading supersedes the earlier in-window readings of its period (the later reading date
    wins); every change is written to the audit trail in the same transaction.
    """
    now = context.now()
    today = context.today()
    taken_on = submission.taken_on or today
    placement = place_reading(taken_on, context.window)
    async with write_transaction():
        # Lock first, then look: a concurrent retry waits here and then sees the first one.
        meter = await load_meter(submission.meter_id, lock=True)
        found = await readings_and_bills(
            submission.reading_id, meter.meter_id, before_period=str(placement.period)
        )
        existing, readings = found.existing, found.recent
        if existing is not None:
            if existing["meter"] != meter.meter_id:  # a client reused an id: not a retry
                raise ServiceError(
                    Problem(Code.READING_ID_REUSED),
                    f"reading id {submission.reading_id} belongs to another meter",
                )
            return _outcome_of_stored(existing, duplicate=True)
        if meter.removed_on is not None and taken_on > meter.removed_on:
            raise ServiceError(Problem(Code.METER_REMOVED), f"meter {meter.serial} was removed")
        if not meter.account_active:
            raise ServiceError(Problem(Code.ACCOUNT_CLOSED), "the account is closed")
        past = _past(readings, meter.spec)
        competitors = [r for r, p in zip(readings, past, strict=True) if corrected_by(p, placement)]
        baseline = [r for r in readings if r not in competitors]
        previous, history = previous_and_history(
            past,
            placement,
            meter=meter.spec,
            installed_on=meter.installed_on,
            initial=meter.initial,
            complete=found.complete,
        )
        verdict = check_reading(
            meter.spec,
            submission.values,
            taken_on,
            today,
            previous,
            history,
            context.limits,
            installed_on=meter.installed_on,
        )
        if not verdict.accepted:
            reason = verdict.problems[0].code.value if verdict.problems else "rejected"
            await RejectedSubmission.insert(
                RejectedSubmission(
                    channel=submission.channel.value,
                    reason=reason,
                    meter=meter.meter_id,
                    received_at=now,
                )
            )
            return SubmissionOutcome(
                reading_id=submission.reading_id,
                stored=False,
                duplicate=False,
                verdict=verdict,
                period=placement.period,
                in_window=placement.in_window,
            )

        flags = set(verdict.flags) | set(submission.extra_flags)
        is_field = submission.channel is Channel.FIELD
        for other in competitors:
            if (other["channel"] == Channel.FIELD.value) != is_field and _disagrees(
                other, submission.values, taken_on, meter, context.limits.household_cap_per_day
            ):
                flags.add(Flag.FIELD_DISAGREEMENT)
        wins = all(other["taken_on"] <= taken_on for other in competitors)
        if not wins:
            status = ReadingStatus.SUPERSEDED
        elif flags:
            status = ReadingStatus.FLAGGED
        else:
            status = ReadingStatus.ACCEPTED
        # A caller the phone line could not verify may not displace the customer's own
        # reading: theirs waits for a reviewer beside it.
        unverified = Flag.UNVERIFIED_SUBMITTER in flags
        superseded = tuple(o["id"] for o in competitors) if wins and not unverified else ()
        consumption_total = sum(verdict.consumption.values(), Decimal(0))
        # Told only of a reading its period's bill will use: one taken in the window.
        label = str(placement.period)
        reconciliation = (
            reconciliation_for(
                found.estimated,
                meter.spec,
                [r for r in reversed(baseline) if r["period"] < label],
                meter.initial,
                submission.values,
            )
            if placement.in_window
            else None
        )
        values = columns_from_values(submission.values, meter.spec)
        receipt = await store_reading(
            submission.reading_id,
            (
                meter.meter_id,
                meter.account_id,
                values["value_1"],
                values["value_2"],
                values["value_3"],
                taken_on,
                now,
                submission.channel.value,
                submission.submitted_by[:80],
                status.value,
                str(placement.period),
                placement.in_window,
                ",".join(sorted(f.value for f in flags)),
                verdict.rollover,
                superseded[0] if superseded else None,
                meter.spec.to_units(consumption_total),
            ),
            superseded=superseded,
            receipt_key=context.settings.secret_key.encode() or _UNSET_KEY,
            audit=audit_values(
                at=now,
                actor=submission.submitted_by,
                action="reading.submitted",
                entity="reading",
                entity_id=str(submission.reading_id),
                details={
                    "channel": submission.channel.value,
                    "meter": meter.serial,
                    "status": status.value,
                    "period": str(placement.period),
                    "superseded": [str(s) for s in superseded],
                    "flags": sorted(f.value for f in flags),
                },
                source=submission.source,
            ),
        )
    return SubmissionOutcome(
        reading_id=submission.reading_id,
        stored=True,
        duplicate=False,
        verdict=verdict,
        receipt=receipt,
        status=status,
        period=placement.period,
        in_window=placement.in_window,
        superseded=superseded,
        replaced_receipts=tuple(o["receipt"] for o in competitors if o["id"] in superseded),
        reconciliation=reconciliation,
    )


async def find_by_receipt(receipt: str) -> dict[str, Any] | None:
    """A stored reading by its receipt number, or None."""
    rows = await Reading.select().where(Reading.receipt == receipt)
    return rows[0] if rows else None


async def account_id_of(number: str) -> int | None:
    """The database id of an account number, or None."""
    rows = await Account.select(Account.id).where(Account.number == number)
    return rows[0]["id"] if rows else None
