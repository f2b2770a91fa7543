"""The demo data generator: accounts in chunks, each with its metering points, meters
and two years of readings, deterministic for a seed and a ``today``."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random

from pokaznyk_core.demo.calendar import DemoCalendar
from pokaznyk_core.demo.history import (
    CORRECTED,
    HIGH,
    NORMAL,
    SWAPPED,
    Event,
    MeterHistory,
    MeterModel,
    consumption_curve,
)
from pokaznyk_core.demo.people import Customer, make_customer
from pokaznyk_core.demo.rows import Chunk
from pokaznyk_core.domain.eic import make_eic
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.receipts import RECEIPT_ALPHABET, RECEIPT_LENGTH

FIELD_INSPECTORS = ("field1", "field2")

_MODELS: tuple[tuple[MeterModel, float], ...] = (
    (MeterModel(5, 1, 1, "SO-505-", 6), 10),
    (MeterModel(6, 1, 1, "NIK2102-", 6), 20),
    (MeterModel(6, 0, 1, "GAMA-100-", 6), 10),
    (MeterModel(7, 1, 1, "EM-", 7), 12),
    (MeterModel(7, 2, 1, "NIK2104-", 6), 4),
    (MeterModel(8, 2, 1, "EM-", 7), 2.5),
    (MeterModel(4, 1, 1, "SO-I446-", 6), 1.5),
    (MeterModel(6, 1, 2, "NIK2303-", 6), 15),
    (MeterModel(7, 1, 2, "GAMA-300-", 6), 10),
    (MeterModel(6, 2, 2, "EM-", 7), 8),
    (MeterModel(7, 2, 3, "NIK2303-", 6), 4),
    (MeterModel(8, 1, 3, "GAMA-300-", 6), 3),
)
_MODEL_CUM = tuple(itertools.accumulate(w for _, w in _MODELS))
_MODERN = tuple(m for m, _ in _MODELS if m.digits >= 6 and m.serial_prefix != "SO-505-")

# Customer behaviour, with cumulative shares.
PUNCTUAL, LATE, IRREGULAR, NEVER, OCCASIONAL, SMART = range(6)
_BEHAVIOUR_CUM = (0.55, 0.75, 0.85, 0.90, 0.99, 1.0)
_WINDOW_WEIGHTS = (0.15, 0.4, 0.65, 0.85, 1.0)  # cumulative, over the window's 5 days

_RECEIPT_SPACE = len(RECEIPT_ALPHABET) ** RECEIPT_LENGTH
_RECEIPT_A = 4_712_722_222_223  # about 0.618 of the space; coprime with it (not a multiple of 3)
_RECEIPT_B = 1_234_567_891
_EIC_SPACE = 10**11
_EIC_A = 7_919_000_003  # coprime with 10**11


def receipt_code(sequence: int) -> str:
    """The receipt of the ``sequence``-th demo reading: a permutation, so never repeated."""
    number = (sequence * _RECEIPT_A + _RECEIPT_B) % _RECEIPT_SPACE
    base = len(RECEIPT_ALPHABET)
    chars = []
    for _ in range(RECEIPT_LENGTH):
        number, index = divmod(number, base)
        chars.append(RECEIPT_ALPHABET[index])
    return "".join(chars)


def eic_code(point_id: int) -> str:
    """The EIC of the ``point_id``-th demo metering point: unique by its first 11 digits."""
    body = f"{(point_id * _EIC_A + 31_337) % _EIC_SPACE:011d}"
    for last in "0123456789":
        try:
            return make_eic(body + last)
        except ValueError:
            continue
    raise AssertionError("unreachable: at most one last digit gives the unissued check")


@dataclass(frozen=True)
class RouteCandidate:
    """A metering point an inspector may visit, with where it is."""

    settlement: str
    street: str
    building_number: int
    building: str
    apartment: str
    point_id: int


@dataclass
class GeneratorCounts:
    """How many rows have been generated so far."""

    accounts: int = 0
    metering_points: int = 0
    meters: int = 0
    readings: int = 0
    phones: int = 0


class DemoGenerator:
    """Yields the demo data chunk by chunk; see :meth:`chunks`."""

    def __init__(self, *, accounts: int, seed: int, today: date, chunk_size: int = 5000) -> None:
        self.total_accounts = accounts
        self.rng = Random(seed)
        self.today = today
        self.chunk_size = chunk_size
        self.cal = DemoCalendar(today)
        self.counts = GeneratorCounts()
        self.route_candidates: list[RouteCandidate] = []
        self._receipts = 0

    def _new_meter_id(self) -> int:
        self.counts.meters += 1
        return self.counts.meters

    def _new_receipt(self) -> str:
        self._receipts += 1
        return receipt_code(self._receipts)

    def chunks(self) -> Iterator[Chunk]:
        """The data in chunks of ``chunk_size`` accounts, ids counting from 1."""
        done = 0
        while done < self.total_accounts:
            size = min(self.chunk_size, self.total_accounts - done)
            chunk = Chunk()
            history = MeterHistory(
                self.rng, self.cal, self._new_meter_id, self._new_receipt,
                chunk.meters, chunk.readings,
            )  # fmt: skip
            for _ in range(size):
                self._account(chunk, history, keep_route=done == 0)
            done += size
            self.counts.readings += len(chunk.readings)
            yield chunk

    def _account(self, chunk: Chunk, history: MeterHistory, *, keep_route: bool) -> None:
        rng = self.rng
        cal = self.cal
        self.counts.accounts += 1
        account_id = self.counts.accounts
        customer = make_customer(rng, account_id, cal.start)
        closed_on = None
        if rng.random() < 0.01:
            period = cal.periods[rng.randrange(2, cal.count - 1)]
            closed_on = date(period.year, period.month, rng.randint(10, 20))
        row = customer.account_row
        if closed_on is not None:
            row = (*row[:9], "closed", row[10])
        chunk.accounts.append(row)
        for phone in customer.phones:
            self.counts.phones += 1
            chunk.phones.append((self.counts.phones, account_id, phone, phone[1:]))
        events = self._events(customer, closed_on)
        points = 2 if rng.random() < 0.02 else 1
        for index in range(points):
            self.counts.metering_points += 1
            point_id = self.counts.metering_points
            chunk.metering_points.append((point_id, account_id, eic_code(point_id), row[10]))
            model = _MODELS[bisect.bisect_right(_MODEL_CUM, rng.random() * _MODEL_CUM[-1])][0]
            replacement = None
            if closed_on is None and (
                rng.random() < 0.03 or (model.digits == 4 and rng.random() < 0.3)
            ):
                period = cal.periods[rng.randrange(1, cal.count - 1)]
                new = _MODERN[rng.randrange(len(_MODERN))]
                replacement = (date(period.year, period.month, rng.randint(5, 24)), new)
            cum = consumption_curve(rng, cal, 1.0 if index == 0 else 0.25)
            history.run(
                account_id, point_id, customer.opened_on, cum, events, model, replacement,
                closed_on,
            )  # fmt: skip
            if keep_route and closed_on is None:
                self.route_candidates.append(
                    RouteCandidate(
                        customer.settlement.name, customer.street, customer.building_number,
                        customer.building, customer.apartment, point_id,
                    )
                )  # fmt: skip

    def _events(self, customer: Customer, closed_on: date | None) -> list[Event]:
        rng = self.rng
        cal = self.cal
        roll = rng.random()
        behaviour = bisect.bisect_right(_BEHAVIOUR_CUM, roll)
        number = customer.account_row[1]
        ids = {
            Channel.TELEGRAM: f"telegram:{rng.randrange(10**8, 8 * 10**9)}",
            Channel.VIBER: f"viber:{rng.getrandbits(96):024x}",
            Channel.MESSENGER: f"messenger:{rng.randrange(10**15, 10**16)}",
            Channel.IVR: f"ivr:{customer.phones[0]}" if customer.phones else "",
            Channel.WEB_FORM: "web_form",
            Channel.CABINET: f"cabinet:{number}",
            Channel.CALL_CENTER: "call_center",
        }
        inspector = f"staff:{FIELD_INSPECTORS[rng.randrange(len(FIELD_INSPECTORS))]}"
        channel = cal.draw_channel(0, rng.random())
        events: list[Event] = []
        next_field = rng.randrange(6)
        for index in range(cal.count):
            period = cal.periods[index]
            if rng.random() < 0.4:
                channel = cal.draw_channel(index, rng.random())
            if channel is Channel.IVR and not customer.phones:
                channel = Channel.CALL_CENTER
            taken_on: date | None = None
            seconds = rng.randrange(7 * 3600, 22 * 3600)
            if behaviour == NEVER or (behaviour != SMART and rng.random() < 0.01):
                if behaviour != NEVER or index == next_field:
                    next_field = index + rng.randint(5, 7)
                    day = _weekday(period.next().first_day + timedelta(days=rng.randint(4, 24)))
                    events.append(
                        (day, rng.randrange(9 * 3600, 17 * 3600), "field", inspector, NORMAL)
                    )
                continue
            if behaviour == SMART:
                events.append(
                    (
                        cal.window_days[index][1],
                        rng.randrange(900, 3600),
                        "import",
                        "import",
                        NORMAL,
                    )
                )
                continue
            if behaviour == IRREGULAR:
                if rng.random() < 0.7:
                    continue
                if rng.random() < 0.5:
                    taken_on = period.next().first_day + timedelta(days=rng.randint(3, 24))
            elif (behaviour == OCCASIONAL and rng.random() < 0.2) or rng.random() < 0.03:
                continue
            if behaviour == LATE and rng.random() < 0.35:
                taken_on = period.next().first_day + timedelta(days=rng.randint(3, 13))
            mode = NORMAL
            if taken_on is None:
                window = cal.window_days[index]
                taken_on = window[bisect.bisect_right(_WINDOW_WEIGHTS, rng.random())]
                mode_roll = rng.random()
                if mode_roll < 0.012:
                    mode = CORRECTED
                    seconds = max(seconds, 9 * 3600)
                elif mode_roll < 0.016:
                    mode = HIGH
                elif mode_roll < 0.019:
                    mode = SWAPPED
            events.append((taken_on, seconds, str(channel), ids[channel], mode))
        limit = self.today if closed_on is None else min(self.today, closed_on - timedelta(days=1))
        events = [e for e in events if e[0] <= limit]
        events.sort()
        return events


def _weekday(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    weekday = day.weekday()
    return day + timedelta(days=7 - weekday) if weekday >= 5 else day


def staff_timestamp(today: date, days_before: int, hour: int) -> datetime:
    """An aware UTC timestamp ``days_before`` days before ``today`` at ``hour`` UTC."""
    day = today - timedelta(days=days_before)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
