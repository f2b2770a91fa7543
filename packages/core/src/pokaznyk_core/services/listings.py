"""Accounts and readings as the CLI and support staff see them (the JSON contracts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pokaznyk_core.domain.history import is_baseline
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import COUNTING_STATUSES
from pokaznyk_core.domain.values import format_value
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.storage.tables import Account, AccountPhone, Meter, MeteringPoint, Reading
from pokaznyk_core.storage.values import spec_of, values_from_row

BATCH = 500


def format_address(row: Mapping[str, Any]) -> str:
    """One line of address: settlement, street, building, apartment."""
    parts = [row["settlement"], row["street"], f"буд. {row['building']}"]
    if row["apartment"]:
        parts.append(f"кв. {row['apartment']}")
    return ", ".join(parts)


def _zone_values(values: Mapping[Zone, Any], spec: Any) -> dict[str, str]:
    return {zone.value: format_value(value, spec) for zone, value in values.items()}


async def _accounts_batch(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    phones: dict[int, list[str]] = defaultdict(list)
    for p in (
        await AccountPhone.select().where(AccountPhone.account.is_in(ids)).order_by(AccountPhone.id)
    ):
        phones[p["account"]].append(p["phone"])
    points = (
        await MeteringPoint.select()
        .where(MeteringPoint.account.is_in(ids))
        .order_by(MeteringPoint.id)
    )
    point_ids = [p["id"] for p in points]
    meters = (
        await Meter.select().where(Meter.metering_point.is_in(point_ids)).order_by(Meter.id)
        if point_ids
        else []
    )
    meter_ids = [m["id"] for m in meters]
    latest: dict[int, dict[str, Any]] = {}
    if meter_ids:
        readings = await (
            Reading.select(
                Reading.meter,
                Reading.taken_on,
                Reading.received_at,
                Reading.value_1,
                Reading.value_2,
                Reading.value_3,
                Reading.status,
                Reading.flags,
            )
            .where(Reading.meter.is_in(meter_ids))
            .where(Reading.status.is_in([s.value for s in COUNTING_STATUSES]))
        )
        for r in readings:
            if not is_baseline(r["status"], r["flags"].split(",")):
                continue  # a phone caller's value no reviewer accepted: not the customer's
            best = latest.get(r["meter"])
            if best is None or (r["taken_on"], r["received_at"]) > (
                best["taken_on"],
                best["received_at"],
            ):
                latest[r["meter"]] = r
    meters_by_point: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in meters:
        spec = spec_of(m)
        last = latest.get(m["id"])
        meters_by_point[m["metering_point"]].append(
            {
                "serial": m["serial"],
                "digits": spec.digits,
                "decimals": spec.decimals,
                "zones": [z.value for z in spec.zones],
                "last_reading": None
                if last is None
                else {
                    "taken_on": last["taken_on"].isoformat(),
                    "values": _zone_values(values_from_row(last, spec), spec),
                },
            }
        )
    points_by_account: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in points:
        points_by_account[p["account"]].append(
            {"eic": p["eic"], "meters": meters_by_point.get(p["id"], [])}
        )
    return [
        {
            "account": r["number"],
            "holder": {"surname": r["surname"], "name": r["name"]},
            "address": format_address(r),
            "phones": phones.get(r["id"], []),
            "status": r["status"],
            "metering_points": points_by_account.get(r["id"], []),
        }
        for r in rows
    ]


async def iter_accounts(limit: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """Accounts in number order, each in the shape of `accounts list --json`."""
    after = ""
    remaining = limit
    while remaining is None or remaining > 0:
        size = BATCH if remaining is None else min(BATCH, remaining)
        rows = await (
            Account.select().where(Account.number > after).order_by(Account.number).limit(size)
        )
        if not rows:
            return
        for item in await _accounts_batch(rows):
            yield item
        after = rows[-1]["number"]
        if remaining is not None:
            remaining -= len(rows)


async def account_readings(number: str) -> list[dict[str, Any]]:
    """Every stored reading of an account, oldest first, in the shape of `readings list --json`.

    Raises ServiceError when there is no such account.
    """
    accounts = await Account.select(Account.id).where(Account.number == number)
    if not accounts:
        raise ServiceError(Problem(Code.ACCOUNT_UNKNOWN), f"no account {number}")
    rows = await (
        Reading.select(
            Reading.all_columns(),
            Reading.meter.serial.as_alias("meter_serial"),
            Reading.meter.digits.as_alias("m_digits"),
            Reading.meter.decimals.as_alias("m_decimals"),
            Reading.meter.zone_count.as_alias("m_zone_count"),
            Reading.meter.metering_point.eic.as_alias("eic"),
        )
        .where(Reading.account == accounts[0]["id"])
        .order_by(Reading.taken_on)
        .order_by(Reading.received_at)
    )
    result = []
    for r in rows:
        spec = spec_of(r, prefix="m_")
        result.append(
            {
                "id": str(r["id"]),
                "receipt": r["receipt"],
                "eic": r["eic"],
                "meter": r["meter_serial"],
                "values": _zone_values(values_from_row(r, spec), spec),
                "taken_on": r["taken_on"].isoformat(),
                "received_at": r["received_at"].isoformat(),
                "channel": r["channel"],
                "status": r["status"],
                "in_window": bool(r["in_window"]),
                "period": r["period"],
                "rollover": bool(r["rollover"]),
            }
        )
    return result
