"""The demo's calendar: the periods it covers, window days, placements, Kyiv day times
and the channel mix of each period. Computed once per run from ``today``."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period, WindowConfig, place_reading, window_of

HISTORY_PERIODS = 24
KYIV = ZoneInfo("Europe/Kyiv")

EARLY_MIX: dict[Channel, float] = {
    Channel.CABINET: 0.30,
    Channel.CALL_CENTER: 0.25,
    Channel.IVR: 0.20,
    Channel.WEB_FORM: 0.15,
    Channel.VIBER: 0.05,
    Channel.TELEGRAM: 0.05,
    Channel.MESSENGER: 0.0,
}
"""How customers submitted two years ago."""

LATE_MIX: dict[Channel, float] = {
    Channel.TELEGRAM: 0.30,
    Channel.VIBER: 0.20,
    Channel.CABINET: 0.20,
    Channel.WEB_FORM: 0.10,
    Channel.IVR: 0.10,
    Channel.MESSENGER: 0.05,
    Channel.CALL_CENTER: 0.05,
}
"""How customers submit in the latest months."""

CUSTOMER_CHANNEL_ORDER: tuple[Channel, ...] = tuple(EARLY_MIX)


class DemoCalendar:
    """Everything about dates the generator asks for, cached."""

    def __init__(self, today: date, config: WindowConfig | None = None) -> None:
        self.today = today
        self.config = config or WindowConfig()
        last_full = Period.of(today).previous()
        periods = [last_full]
        for _ in range(HISTORY_PERIODS - 1):
            periods.append(periods[-1].previous())
        periods.reverse()
        current = place_reading(today, self.config)
        if current.in_window and current.period > last_full:
            periods.append(current.period)
        self.periods: tuple[Period, ...] = tuple(periods)
        self.count = len(periods)
        self.start: date = periods[0].first_day
        self._base_month = periods[0].year * 12 + periods[0].month - 1
        # one extra month: readings of the last period may be taken in the next one
        months = [*periods, periods[-1].next()]
        self.days: tuple[int, ...] = tuple(p.days for p in months)
        self.window_days: tuple[tuple[date, ...], ...] = tuple(
            _days_between(*window_of(p, self.config)) for p in periods
        )
        self._placements: dict[date, tuple[str, bool]] = {}
        self._midnights: dict[date, datetime] = {}
        span = max(self.count - 1, 1)
        self._channel_cum: list[list[float]] = []
        for index in range(self.count):
            t = index / span
            total = 0.0
            cum = []
            for channel in CUSTOMER_CHANNEL_ORDER:
                total += EARLY_MIX[channel] * (1 - t) + LATE_MIX[channel] * t
                cum.append(total)
            self._channel_cum.append([c / total for c in cum])

    def month_index(self, day: date) -> int:
        """The index of ``day``'s month counted from the first period (0)."""
        return day.year * 12 + day.month - 1 - self._base_month

    def placement(self, day: date) -> tuple[str, bool]:
        """``place_reading`` of ``day`` as (period text, in window), cached."""
        found = self._placements.get(day)
        if found is None:
            placed = place_reading(day, self.config)
            found = (str(placed.period), placed.in_window)
            self._placements[day] = found
        return found

    def received_at(self, day: date, seconds: int) -> datetime:
        """The aware UTC instant ``seconds`` after midnight of ``day`` in Kyiv."""
        midnight = self._midnights.get(day)
        if midnight is None:
            local = datetime(day.year, day.month, day.day, 12, tzinfo=KYIV)
            offset = local.utcoffset() or timedelta(0)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
            self._midnights[day] = midnight
        return midnight + timedelta(seconds=seconds)

    def draw_channel(self, period_index: int, roll: float) -> Channel:
        """The customer channel at ``roll`` (0–1) of the period's channel mix."""
        cum = self._channel_cum[period_index]
        return CUSTOMER_CHANNEL_ORDER[min(bisect.bisect_right(cum, roll), len(cum) - 1)]


def _days_between(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
