"""The consumption chart's geometry: bars per month and zone, drawn by a template as SVG.

Only positions and sizes are computed here; words and colours are the template's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import format_day
from pokaznyk_core.services.customer_readings import MeterConsumption

WIDTH = 640
HEIGHT = 240
LEFT = 48
RIGHT = 8
TOP = 12
BOTTOM = 36
GRID_LINES = 4


@dataclass(frozen=True)
class Bar:
    """One zone's bar in one month."""

    x: float
    y: float
    width: float
    height: float
    zone: Zone
    actual: bool
    kwh: Decimal


@dataclass(frozen=True)
class MonthLabel:
    """A month's name under its bars."""

    x: float
    text: str
    year: str
    actual: bool


@dataclass(frozen=True)
class GridLine:
    """A horizontal guide with its kWh value."""

    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws for one meter."""

    serial: str
    zones: tuple[Zone, ...]
    bars: tuple[Bar, ...]
    labels: tuple[MonthLabel, ...]
    grid: tuple[GridLine, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM

    @property
    def has_estimates(self) -> bool:
        """Whether any month is estimated (the legend shows the hatching then)."""
        return any(not bar.actual for bar in self.bars)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return Decimal(10)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= magnitude * step:
            return magnitude * step
    return magnitude * 10


def build_chart(meter: MeterConsumption, locale: str) -> Chart:
    """Lay out the bars of ``meter``'s months: one group per month, a bar per zone."""
    months = meter.months
    top_value = _nice_ceiling(max((v for m in months for v in m.kwh.values()), default=Decimal(0)))
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    group = plot_width / max(1, len(months))
    bar_width = group * 0.8 / max(1, len(meter.zones))
    bars = []
    labels = []
    for index, month in enumerate(months):
        x0 = LEFT + index * group + group * 0.1
        for z_index, zone in enumerate(meter.zones):
            kwh = month.kwh.get(zone, Decimal(0))
            height = float(kwh / top_value) * plot_height
            bars.append(
                Bar(
                    x=round(x0 + z_index * bar_width, 1),
                    y=round(TOP + plot_height - height, 1),
                    width=round(bar_width - 1, 1),
                    height=round(height, 1),
                    zone=zone,
                    actual=month.actual,
                    kwh=kwh,
                )
            )
        text = format_day(month.period.first_day, locale, "LLL")
        year = str(month.period.year) if index == 0 or month.period.month == 1 else ""
        x = round(LEFT + index * group + group / 2, 1)
        labels.append(MonthLabel(x=x, text=text, year=year, actual=month.actual))
    grid = tuple(
        GridLine(
            y=round(TOP + plot_height - plot_height * i / GRID_LINES, 1),
            label=f"{top_value * i / GRID_LINES:.0f}",
        )
        for i in range(GRID_LINES + 1)
    )
    return Chart(meter.serial, meter.zones, tuple(bars), tuple(labels), grid)
