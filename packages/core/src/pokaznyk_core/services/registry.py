"""Keeping customer accounts, metering points and meters right (admin use cases)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

import phonenumbers

from pokaznyk_core.domain.accounts import normalize_phone_digits, validate_account_number
from pokaznyk_core.domain.eic import validate_eic
from pokaznyk_core.domain.meters import MeterSpec, make_meter_spec, plan_replacement
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.reading_store import baseline_sql
from pokaznyk_core.services.readings import load_meter
from pokaznyk_core.storage.tables import Account, AccountPhone, Meter, MeteringPoint, Reading
from pokaznyk_core.storage.transactions import lock_for_update, write_transaction
from pokaznyk_core.storage.values import columns_from_values, values_from_row

T = TypeVar("T")


@dataclass(frozen=True)
class NewAccount:
    """What an admin types to open an account."""

    number: str
    surname: str
    name: str
    settlement: str
    street: str
    building: str
    apartment: str = ""
    patronymic: str = ""
    phones: Sequence[str] = ()


def normalize_phone(text: str) -> str | Problem:
    """A phone number in E.164 (+380…), parsed with the Ukrainian plan as the default."""
    try:
        number = phonenumbers.parse(text, "UA")
    except phonenumbers.NumberParseException:
        return Problem(Code.PHONE_FORMAT, {"phone": text})
    if not phonenumbers.is_valid_number(number):
        return Problem(Code.PHONE_FORMAT, {"phone": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _require(value: T | Problem, detail: str) -> T:
    if isinstance(value, Problem):
        raise ServiceError(value, detail)
    return value


async def create_account(context: ServiceContext, new: NewAccount, *, actor: str) -> int:
    """Open an account with its phones; ServiceError when a value cannot be used."""
    number = _require(
        validate_account_number(new.number, context.settings.account_number_length),
        f"{new.number!r} is not an account number",
    )
    phones = [_require(normalize_phone(p), f"{p!r} is not a phone number") for p in new.phones]
    now = context.now()
    async with write_transaction():
        if await Account.exists().where(Account.number == number):
            raise ServiceError(Problem(Code.ACCOUNT_EXISTS), f"account {number} already exists")
        rows = await Account.insert(
            Account(
                number=number,
                surname=new.surname.strip(),
                name=new.name.strip(),
                patronymic=new.patronymic.strip(),
                settlement=new.settlement.strip(),
                street=new.street.strip(),
                building=new.building.strip(),
                apartment=new.apartment.strip(),
                status="active",
                created_at=now,
            )
        )
        account_id = int(rows[0]["id"])
        for phone in phones:
            await AccountPhone.insert(
                AccountPhone(account=account_id, phone=phone, digits=normalize_phone_digits(phone))
            )
        await record_audit(
            at=now,
            actor=actor,
            action="account.created",
            entity="account",
            entity_id=number,
            details={"phones": phones},
        )
    return account_id


async def add_metering_point(
    context: ServiceContext, account_id: int, eic: str, *, actor: str
) -> int:
    """Add a metering point (by its EIC) to an account."""
    code = _require(validate_eic(eic), f"{eic!r} is not a valid EIC")
    now = context.now()
    async with write_transaction():
        if await MeteringPoint.exists().where(MeteringPoint.eic == code):
            raise ServiceError(Problem(Code.EIC_TAKEN), f"metering point {code} already exists")
        rows = await MeteringPoint.insert(
            MeteringPoint(account=account_id, eic=code, created_at=now)
        )
        point_id = int(rows[0]["id"])
        await record_audit(
            at=now,
            actor=actor,
            action="metering_point.added",
            entity="metering_point",
            entity_id=code,
            details={"account_id": account_id},
        )
    return point_id


async def install_meter(
    context: ServiceContext,
    metering_point_id: int,
    *,
    serial: str,
    digits: int,
    decimals: int,
    zone_count: int,
    installed_on: date,
    initial_values: Mapping[Zone, Decimal] | None = None,
    actor: str,
) -> int:
    """Install a meter at a metering point that has none in service."""
    spec = _require(make_meter_spec(digits, decimals, zone_count), "meter spec out of range")
    initial = dict(initial_values or {zone: Decimal(0) for zone in spec.zones})
    now = context.now()
    async with write_transaction():
        await lock_for_update("metering_point", metering_point_id)
        in_service = await Meter.exists().where(
            (Meter.metering_point == metering_point_id) & Meter.removed_on.is_null()
        )
        if in_service:
            raise ServiceError(
                Problem(Code.METER_IN_SERVICE),
                "the metering point already has a meter in service: replace it instead",
            )
        meter_id = await _insert_meter(metering_point_id, serial, spec, installed_on, initial)
        await record_audit(
            at=now,
            actor=actor,
            action="meter.installed",
            entity="meter",
            entity_id=str(meter_id),
            details={"serial": serial, "installed_on": installed_on},
        )
    return meter_id


async def _insert_meter(
    metering_point_id: int,
    serial: str,
    spec: MeterSpec,
    installed_on: date,
    initial: Mapping[Zone, Decimal],
) -> int:
    rows = await Meter.insert(
        Meter(
            metering_point=metering_point_id,
            serial=serial.strip(),
            digits=spec.digits,
            decimals=spec.decimals,
            zone_count=spec.zone_count,
            installed_on=installed_on,
            **columns_from_values(initial, spec, "initial_"),
        )
    )
    return int(rows[0]["id"])


async def replace_meter(
    context: ServiceContext,
    old_meter_id: int,
    *,
    final_values: Mapping[Zone, Decimal],
    removed_on: date,
    serial: str,
    digits: int,
    decimals: int,
    zone_count: int,
    initial_values: Mapping[Zone, Decimal],
    installed_on: date,
    actor: str,
) -> int:
    """Close the old meter with its final reading and open the new one with its initial one."""
    new_spec = _require(make_meter_spec(digits, decimals, zone_count), "meter spec out of range")
    now = context.now()
    async with write_transaction():
        old = await load_meter(old_meter_id)
        await lock_for_update("meter", old.meter_id)
        if old.removed_on is not None:
            raise ServiceError(Problem(Code.METER_REMOVED), "the meter was already removed")
        last = await Reading.raw(
            f"SELECT * FROM reading WHERE meter = {{}} AND {baseline_sql()}"
            " ORDER BY taken_on DESC, received_at DESC LIMIT 1",
            old.meter_id,
        )
        last_values = values_from_row(last[0], old.spec) if last else old.initial
        last_taken_on = last[0]["taken_on"] if last else old.installed_on
        plan = _require(
            plan_replacement(
                old.spec,
                last_values,
                last_taken_on,
                final_values,
                removed_on,
                new_spec,
                initial_values,
                installed_on,
                household_cap_per_day=context.limits.household_cap_per_day,
            ),
            "the replacement does not check out",
        )
        await Meter.update(
            {
                Meter.removed_on: plan.removed_on,
                **{
                    getattr(Meter, k): v
                    for k, v in columns_from_values(plan.final_values, old.spec, "final_").items()
                },
            }
        ).where(Meter.id == old.meter_id)
        point = await Meter.select(Meter.metering_point).where(Meter.id == old.meter_id).first()
        assert point is not None
        new_id = await _insert_meter(
            point["metering_point"], serial, new_spec, plan.installed_on, plan.initial_values
        )
        await record_audit(
            at=now,
            actor=actor,
            action="meter.replaced",
            entity="meter",
            entity_id=str(old.meter_id),
            details={
                "old_serial": old.serial,
                "new_serial": serial,
                "new_meter_id": new_id,
                "removed_on": removed_on,
                "installed_on": installed_on,
                "final": {z.value: str(v) for z, v in plan.final_values.items()},
            },
        )
    return new_id
