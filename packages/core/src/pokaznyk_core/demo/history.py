"""Two years of a metering point's life: its meters and every reading, consistent.

Consumption follows a cumulative curve per metering point (in Wh, seasonal, flat in the
months the customer was away); each reading's values are the previous values plus the
curve's increase since the previous reading, split over the zones and wrapped past the
register's modulus (a rollover). Values are integers in the meter's smallest unit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from pokaznyk_core.demo.calendar import DemoCalendar
from pokaznyk_core.demo.rows import Row
from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.readings import ReadingStatus

# How each event's reading is made.
NORMAL, HIGH, SWAPPED, CORRECTED = 0, 1, 2, 3

Event = tuple[date, int, str, str, int]
"""(taken on, seconds after local midnight received, channel, submitted by, mode)."""

# How wintry each month is: 1 in January, 0 in June.
_WINTER = (0.0, 1.0, 0.9, 0.6, 0.3, 0.1, 0.0, 0.05, 0.05, 0.1, 0.35, 0.7, 0.95)

_ACCEPTED = str(ReadingStatus.ACCEPTED)
_FLAGGED = str(ReadingStatus.FLAGGED)
_SUPERSEDED = str(ReadingStatus.SUPERSEDED)
_HIGH = str(Flag.HIGH_CONSUMPTION)
_SWAPPED = str(Flag.ZONES_SWAPPED)


@dataclass(frozen=True)
class MeterModel:
    """A meter type: serial prefix, digits, decimals and zones."""

    digits: int
    decimals: int
    zone_count: int
    serial_prefix: str
    serial_digits: int


def consumption_curve(rng: Random, cal: DemoCalendar, scale: float) -> list[int]:
    """Cumulative Wh at the start of each month from the first period (one extra month)."""
    kind = rng.random()
    if kind < 0.15:  # electric heating
        summer, winter = rng.uniform(130, 200), rng.uniform(450, 850)
    elif kind < 0.85:
        summer, winter = rng.uniform(120, 200), rng.uniform(170, 300)
    else:  # a pensioner alone, a small flat
        summer, winter = rng.uniform(50, 90), rng.uniform(80, 140)
    away_from, away_to = -1, -1
    if rng.random() < 0.05:
        away_from = rng.randrange(cal.count)
        away_to = away_from + rng.randint(1, 3)
    cum = [0]
    month = cal.periods[0].month
    for index in range(cal.count + 1):
        if away_from <= index < away_to:
            kwh = 0.0
        else:
            kwh = (summer + (winter - summer) * _WINTER[month]) * rng.uniform(0.88, 1.12) * scale
        cum.append(cum[-1] + int(kwh * 1000))
        month = month % 12 + 1
    return cum


class MeterHistory:
    """Simulates one metering point and appends its meter and reading rows."""

    def __init__(
        self,
        rng: Random,
        cal: DemoCalendar,
        new_meter_id: Callable[[], int],
        new_receipt: Callable[[], str],
        meters: list[Row],
        readings: list[Row],
    ) -> None:
        self.rng = rng
        self.cal = cal
        self.new_meter_id = new_meter_id
        self.new_receipt = new_receipt
        self.meters = meters
        self.readings = readings

    def _wh(self, cum: list[int], day: date) -> int:
        index = self.cal.month_index(day)
        return cum[index] + (cum[index + 1] - cum[index]) * (day.day - 1) // self.cal.days[index]

    def run(
        self,
        account_id: int,
        point_id: int,
        opened_on: date,
        cum: list[int],
        events: list[Event],
        model: MeterModel,
        replacement: tuple[date, MeterModel] | None,
        closed_on: date | None,
    ) -> None:
        """Write the point's meters and the readings of ``events`` (sorted by time)."""
        rng = self.rng
        installed_on = opened_on + timedelta(
            days=rng.randrange(max(1, (self.cal.start - opened_on).days - 30))
        )
        mod = 10 ** (model.digits + model.decimals)
        unit = 10 ** (3 - model.decimals)  # Wh per smallest unit
        shares = _zone_shares(rng, model.zone_count)
        if model.digits == 4 or (model.digits == 5 and rng.random() < 0.15):
            start_kwh = 10**model.digits - rng.uniform(60, 1500)  # an old meter about to wrap
        else:
            start_kwh = rng.uniform(800, min(60000.0, 0.9 * 10**model.digits))
        state = [int(start_kwh * s * 10**model.decimals) % mod for s in shares]
        initial = [int(v * rng.uniform(0.0, 0.4)) for v in state]
        meter_id = self.new_meter_id()
        last_units = 0  # the curve at the history's start, in this meter's units
        since_initial = True  # the first reading counts from the initial values
        switch_on = replacement[0] if replacement is not None else None
        for taken_on, seconds, channel, submitted_by, mode in events:
            if switch_on is not None and taken_on > switch_on and replacement is not None:
                used = self._wh(cum, switch_on) // unit - last_units
                removed_values = _advance(state, used, shares, mod)[0]
                self._meter_row(
                    meter_id, point_id, model, installed_on, switch_on, initial, removed_values
                )
                model = replacement[1]
                installed_on = switch_on + timedelta(days=1)
                mod = 10 ** (model.digits + model.decimals)
                unit = 10 ** (3 - model.decimals)
                shares = _zone_shares(rng, model.zone_count)
                state = [rng.randrange(0, 3 * 10**model.decimals) for _ in shares]
                initial = list(state)
                meter_id = self.new_meter_id()
                last_units = self._wh(cum, installed_on) // unit
                switch_on = None
                since_initial = False
            units = self._wh(cum, taken_on) // unit
            used = units - last_units
            last_units = units
            zone_shares = shares
            if mode == HIGH:
                used = used * 5 + 400 * 10**model.decimals
            elif mode == SWAPPED and len(shares) > 1:
                zone_shares = shares[::-1]
            supersedes = None
            if mode == CORRECTED:
                part = used * rng.randint(40, 95) // 100
                values, rollover = _advance(state, part, zone_shares, mod)
                base = initial if since_initial else state
                part = sum((v - b) % mod for v, b in zip(values, base, strict=True))
                early_on, early_seconds = self._earlier(taken_on, seconds)
                supersedes = self._reading(
                    meter_id, account_id, values, early_on, early_seconds, channel,
                    submitted_by, _SUPERSEDED, "", rollover, None, part,
                )  # fmt: skip
            values, rollover = _advance(state, used, zone_shares, mod)
            base = initial if since_initial else state
            used = sum((v - b) % mod for v, b in zip(values, base, strict=True))
            since_initial = False
            state = values
            if mode == HIGH:
                status, flags = _FLAGGED, _HIGH
            elif mode == SWAPPED and len(shares) > 1:
                status, flags = _FLAGGED, _SWAPPED
            else:
                status, flags = _ACCEPTED, ""
            self._reading(
                meter_id, account_id, values, taken_on, seconds, channel, submitted_by,
                status, flags, rollover, supersedes, used,
            )  # fmt: skip
        removed_on: date | None = None
        final: list[int] | None = None
        if closed_on is not None:
            used = self._wh(cum, closed_on) // unit - last_units
            removed_on, final = closed_on, _advance(state, used, shares, mod)[0]
        self._meter_row(meter_id, point_id, model, installed_on, removed_on, initial, final)

    def _earlier(self, taken_on: date, seconds: int) -> tuple[date, int]:
        """A moment earlier in the same window, for a reading corrected later."""
        period = self.cal.placement(taken_on)[0]
        back = taken_on - timedelta(days=self.rng.randint(0, 2))
        if back != taken_on and self.cal.placement(back) == (period, True):
            return back, self.rng.randrange(8 * 3600, 21 * 3600)
        return taken_on, seconds - self.rng.randrange(600, seconds - 7 * 3600)

    def _reading(
        self,
        meter_id: int,
        account_id: int,
        values: list[int],
        taken_on: date,
        seconds: int,
        channel: str,
        submitted_by: str,
        status: str,
        flags: str,
        rollover: bool,
        supersedes: uuid.UUID | None,
        used: int,
    ) -> uuid.UUID:
        reading_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        period, in_window = self.cal.placement(taken_on)
        count = len(values)
        self.readings.append(
            (
                reading_id, self.new_receipt(), meter_id, account_id, values[0],
                values[1] if count > 1 else None, values[2] if count > 2 else None,
                taken_on, self.cal.received_at(taken_on, seconds), channel, submitted_by,
                status, period, in_window, flags, rollover, supersedes, used,
            )
        )  # fmt: skip
        return reading_id

    def _meter_row(
        self,
        meter_id: int,
        point_id: int,
        model: MeterModel,
        installed_on: date,
        removed_on: date | None,
        initial: list[int],
        final: list[int] | None,
    ) -> None:
        rng = self.rng
        serial = (
            f"{model.serial_prefix}{rng.randrange(10**model.serial_digits):0{model.serial_digits}d}"
        )
        padded_initial = [*initial, None, None][:3]
        padded_final = [*final, None, None][:3] if final is not None else [None, None, None]
        self.meters.append(
            (
                meter_id, point_id, serial, model.digits, model.decimals, model.zone_count,
                installed_on, removed_on, *padded_initial, *padded_final,
            )
        )  # fmt: skip


def _zone_shares(rng: Random, zone_count: int) -> tuple[float, ...]:
    if zone_count == 1:
        return (1.0,)
    if zone_count == 2:
        night = rng.uniform(0.30, 0.45)
        return (1 - night, night)
    peak, night = rng.uniform(0.17, 0.23), rng.uniform(0.31, 0.39)
    return (peak, 1 - peak - night, night)


def _advance(
    state: list[int], used: int, shares: tuple[float, ...], mod: int
) -> tuple[list[int], bool]:
    """``state`` plus ``used`` split over the zones (the last zone takes the rest)."""
    values = []
    rest = used
    rollover = False
    last = len(state) - 1
    for index, value in enumerate(state):
        part = rest if index == last else int(used * shares[index])
        rest -= part
        total = value + part
        if total >= mod:
            total %= mod
            rollover = True
        values.append(total)
    return values, rollover
