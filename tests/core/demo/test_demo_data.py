"""The demo data: deterministic, consistent with the domain's rules, readable by Piccolo."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from argon2 import PasswordHasher

from pokaznyk_core.demo import DEMO_STAFF, DemoSummary, load_demo_data
from pokaznyk_core.demo.generator import DemoGenerator
from pokaznyk_core.domain.eic import validate_eic
from pokaznyk_core.domain.readings import CUSTOMER_CHANNELS, Channel
from pokaznyk_core.domain.receipts import RECEIPT_ALPHABET, RECEIPT_LENGTH
from pokaznyk_core.domain.window import WindowConfig, place_reading
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import (
    Account,
    AccountPhone,
    AuditEntry,
    Meter,
    MeteringPoint,
    Reading,
    Route,
    RouteStop,
    StaffUser,
)

ACCOUNTS = 200
SEED = 7
TODAY = date(2026, 11, 25)

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
async def summary(database: Database) -> DemoSummary:
    return await load_demo_data(database, accounts=ACCOUNTS, seed=SEED, today=TODAY)


@pytest.fixture(scope="module")
async def readings(summary: DemoSummary) -> Rows:
    return await Reading.select().order_by(Reading.taken_on).order_by(Reading.received_at)


@pytest.fixture(scope="module")
async def meters(summary: DemoSummary) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in await Meter.select()}


def reading_digest(rows: list[tuple[Any, ...]]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: str(r[0])):
        digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()


def generated_digest(seed: int) -> str:
    generator = DemoGenerator(accounts=ACCOUNTS, seed=seed, today=TODAY)
    return reading_digest([row for chunk in generator.chunks() for row in chunk.readings])


def test_the_summary_counts_what_was_written(summary: DemoSummary) -> None:
    assert summary.accounts == ACCOUNTS
    assert summary.staff == len(DEMO_STAFF)
    assert summary.metering_points >= ACCOUNTS
    assert summary.meters >= summary.metering_points
    assert summary.readings > ACCOUNTS * 10


async def test_the_database_holds_exactly_what_the_seed_generates(readings: Rows) -> None:
    stored = [tuple(row.values()) for row in readings]
    assert reading_digest(stored) == generated_digest(SEED)


def test_the_same_seed_generates_the_same_data_and_another_seed_other_data() -> None:
    assert generated_digest(SEED) == generated_digest(SEED)
    assert generated_digest(SEED + 1) != generated_digest(SEED)


async def test_piccolo_reads_the_rows_back_with_their_types(summary: DemoSummary) -> None:
    rows = await Reading.select().limit(5)
    assert len(rows) == 5
    for row in rows:
        assert isinstance(row["id"], UUID)
        assert type(row["taken_on"]) is date
        assert isinstance(row["received_at"], datetime)
        assert row["received_at"].utcoffset() is not None
        assert isinstance(row["in_window"], bool)
        assert isinstance(row["value_1"], int)
    account = await Account.objects().first()
    assert account is not None
    assert account.created_at.tzinfo is not None
    meter = await Meter.objects().first()
    assert meter is not None
    assert type(meter.installed_on) is date


async def test_every_eic_is_valid_and_unique(summary: DemoSummary) -> None:
    eics = [row["eic"] for row in await MeteringPoint.select(MeteringPoint.eic)]
    assert len(eics) == summary.metering_points == len(set(eics))
    for eic in eics:
        assert validate_eic(eic, required_prefix="62Z") == eic


async def test_account_numbers_are_ten_unique_digits(summary: DemoSummary) -> None:
    numbers = [row["number"] for row in await Account.select(Account.number)]
    assert len(numbers) == len(set(numbers)) == ACCOUNTS
    assert all(re.fullmatch(r"\d{10}", number) for number in numbers)


async def test_phones_are_ukrainian_numbers_with_their_digits(summary: DemoSummary) -> None:
    phones = await AccountPhone.select()
    assert phones
    for phone in phones:
        assert re.fullmatch(r"\+380\d{9}", phone["phone"])
        assert phone["digits"] == phone["phone"][1:]
    per_account = Counter(phone["account"] for phone in phones)
    assert max(per_account.values()) <= 2
    assert len(per_account) < ACCOUNTS  # some accounts have no phone


def test_every_reading_counts_for_the_period_its_date_places_it_in(readings: Rows) -> None:
    config = WindowConfig()
    for row in readings:
        placed = place_reading(row["taken_on"], config)
        assert (row["period"], row["in_window"]) == (str(placed.period), placed.in_window)
    assert any(row["in_window"] for row in readings)
    assert any(not row["in_window"] for row in readings)


def test_no_reading_is_taken_after_today(readings: Rows) -> None:
    assert max(row["taken_on"] for row in readings) <= TODAY
    assert all(row["received_at"].date() <= TODAY for row in readings)


def test_values_never_decrease_except_on_a_rollover(
    readings: Rows, meters: dict[int, dict[str, Any]]
) -> None:
    last: dict[int, tuple[int | None, ...]] = {}
    rollovers = 0
    for row in readings:
        meter = meters[row["meter"]]
        assert meter["installed_on"] <= row["taken_on"]
        assert meter["removed_on"] is None or row["taken_on"] <= meter["removed_on"]
        values = (row["value_1"], row["value_2"], row["value_3"])
        assert sum(v is not None for v in values) == meter["zone_count"]
        modulus = 10 ** (meter["digits"] + meter["decimals"])
        assert all(v is None or 0 <= v < modulus for v in values)
        previous = last.get(row["meter"])
        if previous is not None and not row["rollover"]:
            assert all(
                v is None or p is None or v >= p for v, p in zip(values, previous, strict=True)
            )
        rollovers += row["rollover"]
        last[row["meter"]] = values
    assert rollovers > 0


def test_consumption_is_the_sum_of_the_zones_since_the_previous_counting_reading(
    readings: Rows, meters: dict[int, dict[str, Any]]
) -> None:
    previous: dict[int, list[int]] = {}
    for row in readings:
        meter = meters[row["meter"]]
        modulus = 10 ** (meter["digits"] + meter["decimals"])
        zones = meter["zone_count"]
        values = [row["value_1"], row["value_2"], row["value_3"]][:zones]
        initial = [meter["initial_1"], meter["initial_2"], meter["initial_3"]][:zones]
        base = previous.get(row["meter"], initial)
        used = sum((v - b) % modulus for v, b in zip(values, base, strict=True))
        assert row["consumption_total"] == used
        if row["status"] != "superseded":
            previous[row["meter"]] = values


def test_the_channel_mix_has_every_customer_channel_and_field_visits(readings: Rows) -> None:
    channels = Counter(row["channel"] for row in readings)
    assert {str(c) for c in CUSTOMER_CHANNELS} <= set(channels)
    assert channels[Channel.FIELD] > 0
    field = [row for row in readings if row["channel"] == Channel.FIELD]
    assert all(row["submitted_by"] in {"staff:field1", "staff:field2"} for row in field)
    ivr = [row for row in readings if row["channel"] == Channel.IVR]
    assert all(re.fullmatch(r"ivr:\+380\d{9}", row["submitted_by"]) for row in ivr)


def test_the_channel_mix_moves_to_messengers_over_two_years(readings: Rows) -> None:
    periods = sorted({row["period"] for row in readings})
    early = Counter(row["channel"] for row in readings if row["period"] in periods[:4])
    late = Counter(row["channel"] for row in readings if row["period"] in periods[-5:-1])
    assert early[Channel.CALL_CENTER] > early[Channel.TELEGRAM]
    assert late[Channel.TELEGRAM] > late[Channel.CALL_CENTER]


def test_some_readings_are_flagged_for_review(readings: Rows) -> None:
    flagged = [row for row in readings if row["status"] == "flagged"]
    assert flagged
    assert {row["flags"] for row in flagged} <= {"high_consumption", "zones_swapped"}
    assert all(row["flags"] == "" for row in readings if row["status"] == "accepted")


def test_corrections_supersede_an_earlier_reading_of_the_same_window(readings: Rows) -> None:
    by_id = {row["id"]: row for row in readings}
    corrections = [row for row in readings if row["supersedes"] is not None]
    assert corrections
    for row in corrections:
        earlier = by_id[row["supersedes"]]
        assert earlier["status"] == "superseded"
        assert (earlier["meter"], earlier["period"]) == (row["meter"], row["period"])
        assert earlier["in_window"] and row["in_window"]
        assert earlier["received_at"] < row["received_at"]
    superseded = {row["id"] for row in readings if row["status"] == "superseded"}
    assert superseded == {row["supersedes"] for row in corrections}


def test_some_customers_were_away_and_repeated_their_reading(readings: Rows) -> None:
    zero = [row for row in readings if row["consumption_total"] == 0]
    assert zero


async def test_closed_accounts_have_no_readings_after_closing(
    readings: Rows, meters: dict[int, dict[str, Any]]
) -> None:
    closed = {
        row["id"] for row in await Account.select(Account.id).where(Account.status == "closed")
    }
    assert closed
    points = await MeteringPoint.select().where(MeteringPoint.account.is_in(list(closed)))
    closed_meters = [m for m in meters.values() if m["metering_point"] in {p["id"] for p in points}]
    assert all(m["removed_on"] is not None for m in closed_meters)
    removed = {m["id"]: m["removed_on"] for m in closed_meters}
    for row in readings:
        if row["meter"] in removed:
            assert row["taken_on"] < removed[row["meter"]]


def test_replaced_meters_close_with_a_final_reading_and_the_new_one_opens_next_day(
    meters: dict[int, dict[str, Any]],
) -> None:
    by_point: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for meter in meters.values():
        by_point[meter["metering_point"]].append(meter)
    replaced = [sorted(m, key=lambda x: x["id"]) for m in by_point.values() if len(m) > 1]
    assert replaced
    for old, new in replaced:
        assert old["removed_on"] is not None
        assert old["final_1"] is not None
        assert (new["installed_on"] - old["removed_on"]).days == 1
        assert new["removed_on"] is None


def test_meters_have_one_to_three_zones_and_four_to_eight_digits(
    meters: dict[int, dict[str, Any]],
) -> None:
    zones = Counter(m["zone_count"] for m in meters.values())
    assert set(zones) == {1, 2, 3}
    assert zones[1] > zones[2] > zones[3]
    assert {m["digits"] for m in meters.values()} <= {4, 5, 6, 7, 8}
    for meter in meters.values():
        initial = [meter["initial_1"], meter["initial_2"], meter["initial_3"]]
        assert sum(v is not None for v in initial) == meter["zone_count"]


def test_receipts_are_unique_codes_of_the_receipt_alphabet(readings: Rows) -> None:
    receipts = [row["receipt"] for row in readings]
    assert len(set(receipts)) == len(receipts)
    for receipt in receipts:
        assert len(receipt) == RECEIPT_LENGTH
        assert set(receipt) <= set(RECEIPT_ALPHABET)


async def test_the_demo_staff_sign_in_with_their_printed_passwords(summary: DemoSummary) -> None:
    staff = {row["username"]: row for row in await StaffUser.select()}
    assert {s.username for s in DEMO_STAFF} == set(staff)
    assert {s.role for s in DEMO_STAFF} == {"admin", "manager", "field"}
    admin = next(s for s in DEMO_STAFF if s.role == "admin")
    assert PasswordHasher().verify(staff[admin.username]["password_hash"], admin.password)


async def test_each_field_inspector_has_a_route_for_today_in_walk_order(
    summary: DemoSummary,
) -> None:
    routes = await Route.select().where(Route.day == TODAY)
    inspectors = {row["id"] for row in await StaffUser.select().where(StaffUser.role == "field")}
    assert {route["staff_user"] for route in routes} == inspectors
    point_account = {p["id"]: p["account"] for p in await MeteringPoint.select()}
    addresses = {a["id"]: (a["street"], a["building"]) for a in await Account.select()}
    for route in routes:
        stops = (
            await RouteStop.select()
            .where(RouteStop.route == route["id"])
            .order_by(RouteStop.position)
        )
        assert [s["position"] for s in stops] == list(range(1, 26))
        walk = [addresses[point_account[s["metering_point"]]] for s in stops]
        first_street = [building for street, building in walk if street == walk[0][0]]
        numbers = [int(re.sub(r"\D", "", building)) for building in first_street]
        assert len(first_street) > 1
        assert numbers == sorted(numbers)


async def test_the_load_is_recorded_in_the_audit_log(summary: DemoSummary) -> None:
    entries = await AuditEntry.select()
    assert [(e["action"], e["actor"]) for e in entries] == [("demo.loaded", "demo-data")]
    assert entries[0]["at"] == datetime(2026, 11, 25, 5, tzinfo=UTC)


async def test_a_failed_load_leaves_nothing_behind(
    database: Database, summary: DemoSummary
) -> None:
    before = (await Account.count(), await Reading.count(), await StaffUser.count())
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        await load_demo_data(database, accounts=ACCOUNTS + 5, seed=SEED + 1, today=TODAY)
    assert (await Account.count(), await Reading.count(), await StaffUser.count()) == before
