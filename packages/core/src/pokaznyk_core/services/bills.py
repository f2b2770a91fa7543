"""What an account was billed: the bill lines of closed periods, as the customer sees them.

The chat ("my readings and bills") and the cabinet's account page both show these; the
reconciliation of an actual period that followed estimated ones is the domain's
(:func:`~pokaznyk_core.domain.estimates.reconcile`), worked out from the lines themselves:
a period billed on a reading pays what the meter counted less what the estimates before
it billed, so the meter counted the line's consumption plus those estimates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import groupby
from typing import Any

from pokaznyk_core.domain.billing import Basis
from pokaznyk_core.domain.estimates import EstimateReconciliation, reconcile
from pokaznyk_core.domain.values import without_trailing_zeros
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.storage.tables import BillLine
from pokaznyk_core.storage.values import spec_of, values_from_row


@dataclass(frozen=True)
class BillSummary:
    """One meter's bill for one closed period.

    ``kwh`` is the billed consumption per zone, in the meter's zone order; a negative
    value is a credit (the estimates before a reading were too high). ``reconciliation``
    is set for a period billed on a reading that followed estimated periods.
    """

    period: Period
    meter_id: int
    meter_serial: str
    basis: Basis
    kwh: Mapping[Zone, Decimal]
    reconciliation: EstimateReconciliation | None = None

    @property
    def total(self) -> Decimal:
        """The billed consumption over all zones (negative for a credit)."""
        return sum(self.kwh.values(), Decimal(0))

    @property
    def estimated(self) -> bool:
        """True when the period was billed on an estimate, without a reading."""
        return self.basis is Basis.ESTIMATED

    @property
    def credit(self) -> bool:
        """True when the period credits the customer."""
        return self.total < 0


_BILLS = (
    "SELECT b.period, b.meter, b.basis, b.consumption_1, b.consumption_2, b.consumption_3,"
    " m.serial, m.digits, m.decimals, m.zone_count"
    " FROM bill_line b"
    " JOIN meter m ON m.id = b.meter"
    " JOIN metering_point p ON p.id = m.metering_point"
    " JOIN period_close c ON c.period = b.period"
    " WHERE p.account = {}"
    " ORDER BY b.meter, b.period"
)


async def account_bills(account_id: int, *, limit: int = 12) -> list[BillSummary]:
    """The account's bills of closed periods: the latest ``limit`` periods of each meter
    (removed meters included), newest period first, then by meter. One query."""
    if limit <= 0:
        return []
    rows = await BillLine.raw(_BILLS, account_id)
    bills: list[BillSummary] = []
    for _, lines in groupby(rows, key=lambda row: int(row["meter"])):
        bills += _meter_bills(list(lines))[-limit:]
    bills.sort(key=lambda bill: (bill.period, -bill.meter_id), reverse=True)
    return bills


def _meter_bills(rows: Sequence[Mapping[str, Any]]) -> list[BillSummary]:
    """One meter's lines, oldest first, each actual one reconciled with the estimated
    lines just before it."""
    bills = []
    estimates = Decimal(0)
    estimated_periods: list[str] = []
    for row in rows:
        period = Period.parse(str(row["period"]))
        if not isinstance(period, Period):  # close_period writes only valid periods
            continue
        spec = spec_of(row)
        kwh = {
            zone: without_trailing_zeros(value)
            for zone, value in values_from_row(row, spec, prefix="consumption_").items()
        }
        basis = Basis(row["basis"])
        bill = BillSummary(
            period=period,
            meter_id=int(row["meter"]),
            meter_serial=str(row["serial"]),
            basis=basis,
            kwh=kwh,
        )
        if basis is Basis.ESTIMATED:
            estimates += bill.total
            estimated_periods.append(str(period))
        else:
            if estimated_periods:
                settled = reconcile(estimates, estimates + bill.total, estimated_periods)
                bill = replace(bill, reconciliation=settled)
            estimates = Decimal(0)
            estimated_periods = []
        bills.append(bill)
    return bills


__all__ = ["BillSummary", "account_bills"]
