"""Users of the conversational channels: who they are, their language, reminders, and the
accounts they verified (with what the dialog needs to know about each)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pokaznyk_core.dialog.facts import AccountInfo, MeterInfo
from pokaznyk_core.domain.checks import PreviousReading
from pokaznyk_core.domain.readings import COUNTING_STATUSES, Channel
from pokaznyk_core.domain.window import WindowConfig, place_reading
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.services.listings import format_address
from pokaznyk_core.storage.tables import (
    Account,
    LinkedAccount,
    MessengerIdentity,
    Meter,
    MeteringPoint,
    Reading,
)
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
    query = MessengerIdentity.select().where(
        (MessengerIdentity.channel == channel.value)
        & (MessengerIdentity.platform_user_id == platform_user_id)
    )
    row = await query.first()
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
    row = await query.first()
    assert row is not None, "the identity was just created"
    return row


async def link_account(identity_id: int, account_id: int, method: str, now: datetime) -> bool:
    """Let the identity act on the account; False when it already could."""
    inserted = (
        await LinkedAccount.insert(
            LinkedAccount(identity=identity_id, account=account_id, method=method, linked_at=now)
        )
        .on_conflict(action="DO NOTHING")
        .returning(LinkedAccount.id)
    )
    return bool(inserted)


async def linked_account_ids(identity_id: int) -> list[int]:
    """The ids of the active accounts linked to the identity, oldest link first."""
    rows = await (
        LinkedAccount.select(LinkedAccount.account)
        .where(LinkedAccount.identity == identity_id)
        .where(LinkedAccount.account.status == "active")
        .order_by(LinkedAccount.id)
    )
    return [int(r["account"]) for r in rows]


async def linked_accounts(
    identity_id: int, *, today: date | None = None, window: WindowConfig | None = None
) -> list[AccountInfo]:
    """The identity's active accounts with their meters in service and each meter's last
    counting reading: what the dialog's facts need. With ``today`` in the window, each
    meter's check baseline skips this window's readings (a correction is checked against
    the reading before them, as the submission service does)."""
    return await account_infos(await linked_account_ids(identity_id), today=today, window=window)


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
    accounts = {
        r["id"]: r for r in await Account.select().where(Account.id.is_in(list(account_ids)))
    }
    points = await (
        MeteringPoint.select(MeteringPoint.id, MeteringPoint.account, MeteringPoint.eic)
        .where(MeteringPoint.account.is_in(list(account_ids)))
        .order_by(MeteringPoint.id)
    )
    eic_of = {p["id"]: (p["account"], p["eic"]) for p in points}
    meters = (
        await Meter.select()
        .where(Meter.metering_point.is_in(list(eic_of)))
        .where(Meter.removed_on.is_null())
        .order_by(Meter.id)
        if eic_of
        else []
    )
    readings = await _counting_readings([m["id"] for m in meters])
    by_account: dict[int, list[MeterInfo]] = defaultdict(list)
    for row in meters:
        account_id, eic = eic_of[row["metering_point"]]
        info = _meter_info(row, eic, readings.get(row["id"], []), today, window)
        by_account[account_id].append(info)
    return [
        AccountInfo(
            account_id=account_id,
            number=accounts[account_id]["number"],
            address=format_address(accounts[account_id]) if verified else "",
            meters=tuple(by_account.get(account_id, [])),
            verified=verified,
        )
        for account_id in account_ids
        if account_id in accounts and accounts[account_id]["status"] == "active"
    ]


async def _counting_readings(meter_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not meter_ids:
        return {}
    rows = await (
        Reading.select(
            Reading.meter,
            Reading.taken_on,
            Reading.received_at,
            Reading.value_1,
            Reading.value_2,
            Reading.value_3,
            Reading.period,
            Reading.in_window,
        )
        .where(Reading.meter.is_in(meter_ids))
        .where(Reading.status.is_in([s.value for s in COUNTING_STATUSES]))
        .order_by(Reading.taken_on, ascending=False)
        .order_by(Reading.received_at, ascending=False)
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[int(row["meter"])].append(row)
    return found


def _meter_info(
    row: Mapping[str, Any],
    eic: str,
    readings: list[dict[str, Any]],
    today: date | None,
    window: WindowConfig | None,
) -> MeterInfo:
    spec = spec_of(row)
    initial = values_from_row(row, spec, prefix="initial_")
    baseline: PreviousReading | None = None
    if today is not None and window is not None:
        placement = place_reading(today, window)
        if placement.in_window:
            earlier = [
                r for r in readings if not (r["in_window"] and r["period"] == str(placement.period))
            ]
            baseline = (
                PreviousReading(earlier[0]["taken_on"], values_from_row(earlier[0], spec))
                if earlier
                else PreviousReading(row["installed_on"], initial)
            )
    last = readings[0] if readings else None
    return MeterInfo(
        meter_id=row["id"],
        serial=row["serial"],
        eic=eic,
        spec=spec,
        installed_on=row["installed_on"],
        last_values=values_from_row(last, spec) if last else initial,
        last_taken_on=last["taken_on"] if last else row["installed_on"],
        last_is_initial=last is None,
        baseline=baseline,
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
