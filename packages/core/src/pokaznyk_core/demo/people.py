"""Demo customers: a name that agrees in gender, an address in a real settlement, phones."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random

from pokaznyk_core.demo.names import (
    ADJECTIVAL_SURNAMES,
    CITY_STREETS,
    FEMALE_NAMES,
    MALE_NAMES,
    NEUTRAL_SURNAMES,
    PATRONYMICS,
    SETTLEMENTS,
    STREETS,
    Settlement,
)
from pokaznyk_core.demo.rows import Row

MOBILE_CODES = ("50", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
_SETTLEMENT_CUM = tuple(itertools.accumulate(s.weight for s in SETTLEMENTS))
_OPENED_FROM = date(1995, 1, 1)


@dataclass(frozen=True)
class Customer:
    """What the rest of the generator needs to know about an account's holder."""

    account_row: Row
    phones: tuple[str, ...]
    settlement: Settlement
    street: str
    building_number: int
    building: str
    apartment: str
    opened_on: date


def make_customer(rng: Random, account_id: int, history_start: date) -> Customer:
    """A customer with account id ``account_id`` (its number is unique by the id)."""
    female = rng.random() < 0.5
    if rng.random() < 0.8:
        surname = NEUTRAL_SURNAMES[rng.randrange(len(NEUTRAL_SURNAMES))]
    else:
        surname = ADJECTIVAL_SURNAMES[rng.randrange(len(ADJECTIVAL_SURNAMES))][female]
    names = FEMALE_NAMES if female else MALE_NAMES
    name = names[rng.randrange(len(names))]
    patronymic = PATRONYMICS[rng.randrange(len(PATRONYMICS))][female]
    settlement = SETTLEMENTS[
        bisect.bisect_right(_SETTLEMENT_CUM, rng.random() * _SETTLEMENT_CUM[-1])
    ]
    if rng.random() < settlement.flats_share:
        streets = CITY_STREETS + STREETS[:8] if settlement.is_town else STREETS[:4]
        street = streets[int(len(streets) * rng.random() ** 1.4)]
        number = rng.randint(1, 90)
        building = str(number)
        apartment = str(rng.randint(1, 120))
    else:
        streets = STREETS[: settlement.street_count]
        street = streets[int(len(streets) * rng.random() ** 1.6)]
        number = rng.randint(1, 160)
        suffix = rng.random()
        building = f"{number}А" if suffix < 0.06 else f"{number}Б" if suffix < 0.08 else str(number)
        apartment = ""
    phones = tuple(_phone(rng) for _ in range(_phone_count(rng.random())))
    opened_on = _OPENED_FROM + timedelta(
        days=rng.randrange((history_start - _OPENED_FROM).days - 400)
    )
    created_at = datetime(opened_on.year, opened_on.month, opened_on.day, 7, tzinfo=UTC)
    created_at += timedelta(seconds=rng.randrange(9 * 3600))
    number_text = f"{settlement.district:03d}{account_id:07d}"
    row = (
        account_id, number_text, surname, name, patronymic, settlement.name, street,
        building, apartment, "active", created_at,
    )  # fmt: skip
    return Customer(row, phones, settlement, street, number, building, apartment, opened_on)


def _phone_count(roll: float) -> int:
    if roll < 0.15:
        return 0
    return 1 if roll < 0.75 else 2


def _phone(rng: Random) -> str:
    return f"+380{MOBILE_CODES[rng.randrange(len(MOBILE_CODES))]}{rng.randrange(10**7):07d}"
