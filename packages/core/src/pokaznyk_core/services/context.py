"""What every use case needs to know: the settings, the clock and the rule parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from pokaznyk_core.clock import Clock, SystemClock
from pokaznyk_core.domain.checks import PlausibilityLimits
from pokaznyk_core.domain.receipts import ReceiptLookupLimits
from pokaznyk_core.domain.verification import VerificationLimits
from pokaznyk_core.domain.window import WindowConfig
from pokaznyk_core.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    """The facts a service call depends on besides the database."""

    settings: Settings = field(default_factory=Settings)
    clock: Clock = field(default_factory=SystemClock)
    limits: PlausibilityLimits = field(default_factory=PlausibilityLimits)
    verification: VerificationLimits = field(default_factory=VerificationLimits)
    receipt_lookups: ReceiptLookupLimits = field(default_factory=ReceiptLookupLimits)

    @cached_property
    def window(self) -> WindowConfig:
        """The submission window as configured (built once: every message asks for it)."""
        return WindowConfig(
            days_before_month_end=self.settings.window_days_before_month_end,
            days_after_month_start=self.settings.window_days_after_month_start,
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        """The company's time zone."""
        return self.settings.zone

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return self.clock.now()

    def today(self) -> date:
        """Today's date in the company's time zone."""
        return self.clock.now().astimezone(self.zone).date()
