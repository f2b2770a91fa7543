"""Users of the conversational channels: who they are, their language, reminders, and the
accounts they verified (with what the dialog needs to know about each)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pokaznyk_core.dialog.facts import AccountInfo, MeterInfo
from pokaznyk_core.domain.checks import PreviousReading
from pokaznyk_core.domain.history import PastReading, corrected_by, previous_reading
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Placement, WindowConfig, place_reading
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.services.listings import format_address
from pokaznyk_core.services.reading_store import RECENT_READINGS, baseline_sql
from pokaznyk_core.storage.tables import (
    Account,
    LinkedAccount,
    MessengerIdentity,
    Reading,
)
from pokaznyk_core.storage.transactions import is_postgres
from pokaznyk_core.storage.values import spec_of, values_from_row


async def identity_for(
    channel: Channel,
    platform_user_id: str,
    *,
    display_name: str = "",
    language_hint: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The identity row of a platform user, created on first contact.

    Two first messages arriving at once create one row (the unique index on
    channel and user decides; the loser reads the winner's row).
    """
    row = await _identity_row(channel, platform_user_id)
    if row is not None:
        return row
    await MessengerIdentity.insert(
        MessengerIdentity(
            channel=channel.value,
            platform_user_id=platform_user_id[:80],
            language=normalize_locale(language_hint),
            display_name=display_name[:150],
            phone_digits="",
            reminders=True,
            subscribed=True,
            created_at=now or datetime.now(UTC),
        )
    ).on_conflict(action="DO NOTHING")
    row = await _identity_row(channel, platform_user_id)
    assert row is not None, "the identity was just created"
    return row


async def language_of(channel: Channel, platform_user_id: str) -> str | None:
    """The language a platform user chose (or was given at first contact), if known."""
    row = await _identity_row(channel, platform_user_id)
    return str(row["language"]) if row is not None else None


async def _identity_row(channel: Channel, platform_user_id: str) -> dict[str, Any] | None:
    rows = await MessengerIdentity.raw(
        "SELECT * FROM messenger_identity WHERE channel = {} AND platform_user_id = {}",
        channel.value,
        platform_user_id[:80],
    )
    return dict(rows[0]) if rows else None


async def link_account(identity_id: int, account_id: int, method: str, now: datetime) -> bool:
    """Let the identity act on the account; False when it already could."""
    inserted = await LinkedAccount.raw(
        "INSERT INTO linked_account (identity, account, method, linked_at)"
        " VALUES ({}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        identity_id,
        account_id,
        method,
        now,
    )
    return bool(inserted)


async def mark_reachable(identity_id: int) -> None:
    """The user wrote again after being marked unreachable (they had blocked the bot)."""
    await MessengerIdentity.raw(
        "UPDATE messenger_identity SET subscribed = {} WHERE id = {}", True, identity_id
    )


async def linked_account_ids(identity_id: int) -> list[int]:
    """The ids of the active accounts linked to the identity, oldest link first."""
    rows = await (
        LinkedAccount.select(LinkedAccount.account)
        .where(LinkedAccount.identity == identity_id)
        .where(LinkedAccount.account.status == "active")
        .order_by(LinkedAccount.id)
    )
    return [int(r["account"]) for r in rows]


_READING_KEYS = ("taken_on", "received_at", "value_1", "value_2", "value_3", "period", "in_window")

# One query for the accounts, their metering points, meters in service and recent
# readings that are a baseline (`domain.history.is_baseline`): the dialog loads these
# facts on every message, so round trips count.
# Each meter's latest `RECENT_READINGS`, as the submission service reads them, so that the
# confirmation's warnings and the stored reading's flags come from the same history.
# PostgreSQL takes them with a lateral join (the meter's index, once a meter); SQLite, which
# has none, takes the readings since the date of the meter's `RECENT_READINGS`th (one
# lookup a meter; a tie on that date may add a reading, which `_account_infos_from` drops).
# `{accounts}` is where the accounts come from (ending in the alias `a`), `{where}` holds
# the placeholders of the caller's driver or Piccolo's `{}`.
_FACTS = """
SELECT {link} AS link_id, a.id AS account_id, a.number, a.status, a.settlement, a.street,
       a.building, a.apartment, mp.id AS point_id, mp.eic, m.id AS meter_id, m.serial,
       m.digits, m.decimals, m.zone_count, m.installed_on, m.initial_1, m.initial_2,
       m.initial_3, r.taken_on AS r_taken_on, r.received_at AS r_received_at,
       r.value_1 AS r_value_1, r.value_2 AS r_value_2, r.value_3 AS r_value_3,
       r.period AS r_period, r.in_window AS r_in_window
FROM {accounts}
LEFT JOIN metering_point mp ON mp.account = a.id
LEFT JOIN meter m ON m.metering_point = mp.id AND m.removed_on IS NULL
{readings}
WHERE {where} AND a.status = 'active'
"""
_LATEST = "ORDER BY {b}taken_on DESC, {b}received_at DESC"
_PG_READINGS = f"""LEFT JOIN LATERAL (
    SELECT * FROM reading b WHERE b.meter = m.id AND {baseline_sql("b.")}
    {_LATEST.format(b="b.")} LIMIT {RECENT_READINGS}) r ON true"""
_SQLITE_READINGS = f"""LEFT JOIN reading r ON r.meter = m.id AND {baseline_sql("r.")}
    AND r.taken_on >= COALESCE((SELECT b.taken_on FROM reading b
        WHERE b.meter = m.id AND {baseline_sql("b.")} {_LATEST.format(b="b.")}
        LIMIT 1 OFFSET {RECENT_READINGS - 1}), '0001-01-01')"""
FACTS_ORDER = "link_id, point_id, meter_id, r_taken_on DESC, r_received_at DESC"
"""The order `_account_infos_from` reads the facts' rows in: linked accounts oldest link
first, then each meter's readings newest first."""


def linked_facts_sql(*, identity: str, postgres: bool) -> str:
    """The facts' rows of an identity's linked accounts (unordered: see `FACTS_ORDER`)."""
    return _FACTS.format(
        link="la.id",
        accounts="linked_account la JOIN account a ON a.id = la.account",
        readings=_PG_READINGS if postgres else _SQLITE_READINGS,
        where=f"la.identity = {identity}",
    )


def _account_facts_sql(where: str) -> str:
    readings = _PG_READINGS if is_postgres() else _SQLITE_READINGS
    facts = _FACTS.format(link="a.id", accounts="account a", readings=readings, where=where)
    return facts + " ORDER BY " + FACTS_ORDER


async def linked_accounts(
    identity_id: int, *, today: date | None = None, window: WindowConfig | None = None
) -> list[AccountInfo]:
    """The identity's active accounts with their meters in service and each meter's last
    counting reading: what the dialog's facts need. With ``today`` in the window, each
    meter's check baseline skips this window's readings (a correction is checked against
    the reading before them, as the submission service does)."""
    sql = linked_facts_sql(identity="{}", postgres=is_postgres()) + " ORDER BY " + FACTS_ORDER
    rows = await Account.raw(sql, identity_id)
    return await _account_infos_from(rows, None, verified=True, today=today, window=window)


async def account_infos(
    account_ids: Sequence[int],
    *,
    verified: bool = True,
    today: date | None = None,
    window: WindowConfig | None = None,
) -> list[AccountInfo]:
    """Accounts (in the given order) with their meters in service and last readings."""
    if not account_ids:
        return []
    ids = [int(i) for i in account_ids]
    if len(ids) == 1:  # a verification's new account: a plan PostgreSQL can keep
        rows = await Account.raw(_account_facts_sql("a.id = {}"), ids[0])
    elif is_postgres():  # one statement text for any accounts: PostgreSQL prepares it once
        rows = await Account.raw(_account_facts_sql("a.id = ANY({})"), ids)
    else:
        where = f"a.id IN ({', '.join(str(i) for i in ids)})"
        rows = await Account.raw(_account_facts_sql(where))
    return await _account_infos_from(rows, ids, verified=verified, today=today, window=window)


async def accounts_from_rows(
    rows: Sequence[Mapping[str, Any]], *, today: date, window: WindowConfig
) -> list[AccountInfo]:
    """What `linked_accounts` returns, from its rows read by the caller (the dialog's
    turn snapshot reads them with the state, in the same round trip)."""
    return await _account_infos_from(rows, None, verified=True, today=today, window=window)


async def _account_infos_from(
    rows: Sequence[Mapping[str, Any]],
    order: Sequence[int] | None,
    *,
    verified: bool,
    today: date | None,
    window: WindowConfig | None,
) -> list[AccountInfo]:
    accounts: dict[int, Mapping[str, Any]] = {}
    meters: dict[int, Mapping[str, Any]] = {}
    readings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        accounts.setdefault(int(row["account_id"]), row)
        if row["meter_id"] is None:
            continue
        meter_id = int(row["meter_id"])
        meters.setdefault(meter_id, row)
        if row["r_taken_on"] is not None and len(readings[meter_id]) < RECENT_READINGS:
            readings[meter_id].append(
                {key: row[f"r_{key}"] for key in _READING_KEYS} | {"meter": meter_id}
            )
    # A meter whose latest readings are all this window's own (corrections, more of them
    # than are read) needs an older one, its baseline: then all its readings are read.
    placement = place_reading(today, window) if today is not None and window is not None else None
    specs = {m: spec_of(row) for m, row in meters.items()}
    past = {m: _past(readings.get(m, []), specs[m]) for m in meters}
    quiet = [
        m
        for m in meters
        if placement is not None
        and len(past[m]) >= RECENT_READINGS
        and all(corrected_by(p, placement) for p in past[m])
    ]
    if quiet:
        for meter_id in quiet:
            readings.pop(meter_id, None)
        for reading in await _all_readings(quiet):
            readings[int(reading["meter"])].append(reading)
        for meter_id in quiet:
            past[meter_id] = _past(readings.get(meter_id, []), specs[meter_id])
    by_account: dict[int, list[MeterInfo]] = defaultdict(list)
    for meter_id, row in meters.items():
        complete = meter_id in quiet or len(past[meter_id]) < RECENT_READINGS
        info = _meter_info(row, specs[meter_id], past[meter_id], placement, complete=complete)
        by_account[int(row["account_id"])].append(info)
    return [
        AccountInfo(
            account_id=account_id,
            number=accounts[account_id]["number"],
            address=format_address(accounts[account_id]) if verified else "",
            meters=tuple(by_account.get(account_id, [])),
            verified=verified,
        )
        for account_id in (order if order is not None else list(accounts))
        if account_id in accounts
    ]


async def _all_readings(meter_ids: list[int]) -> list[dict[str, Any]]:
    args: list[Any] = []
    if is_postgres():  # one statement text for any meters: PostgreSQL prepares it once
        meters = "meter = ANY({})"
        args.append([int(m) for m in meter_ids])
    else:
        meters = f"meter IN ({', '.join(str(int(m)) for m in meter_ids)})"
    rows: list[dict[str, Any]] = await Reading.raw(
        "SELECT meter, taken_on, received_at, value_1, value_2, value_3, period, in_window"
        f" FROM reading WHERE {meters} AND {baseline_sql()}"
        " ORDER BY taken_on DESC, received_at DESC",
        *args,
    )
    return rows


def _past(rows: Sequence[Mapping[str, Any]], spec: MeterSpec) -> list[PastReading]:
    return [
        PastReading(r["taken_on"], values_from_row(r, spec), r["period"], bool(r["in_window"]))
        for r in rows
    ]


def _meter_info(
    row: Mapping[str, Any],
    spec: MeterSpec,
    past: list[PastReading],
    placement: Placement | None,
    *,
    complete: bool,
) -> MeterInfo:
    """A meter's facts from its joined row and its counting readings, newest first
    (`complete` when they are all the meter has)."""
    initial = values_from_row(row, spec, prefix="initial_")
    baseline: PreviousReading | None = None
    if placement is not None and placement.in_window:
        baseline = previous_reading(
            past, placement, installed_on=row["installed_on"], initial=initial
        )
    last = past[0] if past else None
    return MeterInfo(
        meter_id=row["meter_id"],
        serial=row["serial"],
        eic=row["eic"],
        spec=spec,
        installed_on=row["installed_on"],
        last_values=last.values if last else initial,
        last_taken_on=last.taken_on if last else row["installed_on"],
        last_is_initial=last is None,
        baseline=baseline,
        recent=tuple(past),
        recent_complete=complete,
        initial_values=initial,
    )


async def set_language(identity_id: int, locale: str) -> str:
    """Remember the identity's language; returns the supported locale stored."""
    chosen = normalize_locale(locale)
    await MessengerIdentity.update({MessengerIdentity.language: chosen}).where(
        MessengerIdentity.id == identity_id
    )
    return chosen


async def set_reminders(identity_id: int, enabled: bool) -> None:
    """Switch the identity's reminders on or off."""
    await MessengerIdentity.update({MessengerIdentity.reminders: enabled}).where(
        MessengerIdentity.id == identity_id
    )


async def set_phone(identity_id: int, phone_digits: str) -> None:
    """Remember the phone the identity shared (digits only)."""
    await MessengerIdentity.update({MessengerIdentity.phone_digits: phone_digits[:20]}).where(
        MessengerIdentity.id == identity_id
    )


async def opted_in_identities(
    channels: Iterable[Channel] = (Channel.TELEGRAM, Channel.VIBER, Channel.MESSENGER),
) -> list[dict[str, Any]]:
    """Subscribed identities with reminders on and at least one active linked account:
    each row with ``id``, ``channel``, ``platform_user_id``, ``language`` and
    ``account_ids``."""
    rows = await LinkedAccount.select(
        LinkedAccount.identity.id.as_alias("id"),
        LinkedAccount.identity.channel.as_alias("channel"),
        LinkedAccount.identity.platform_user_id.as_alias("platform_user_id"),
        LinkedAccount.identity.language.as_alias("language"),
        LinkedAccount.account.as_alias("account_id"),
    ).where(
        (LinkedAccount.identity.reminders == True)  # noqa: E712 (a column expression)
        & (LinkedAccount.identity.subscribed == True)  # noqa: E712
        & (LinkedAccount.identity.channel.is_in([c.value for c in channels]))
        & (LinkedAccount.account.status == "active")
    )
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(
            row["id"],
            {
                "id": row["id"],
                "channel": row["channel"],
                "platform_user_id": row["platform_user_id"],
                "language": row["language"],
                "account_ids": [],
            },
        )
        entry["account_ids"].append(int(row["account_id"]))
    return sorted(found.values(), key=lambda r: r["id"])
