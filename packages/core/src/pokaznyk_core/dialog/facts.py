"""What the engine knows about the customer: facts the service loads from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pokaznyk_core.domain.checks import ConsumptionHistory, PlausibilityLimits, PreviousReading
from pokaznyk_core.domain.history import PastReading, previous_and_history
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.window import Placement, WindowConfig
from pokaznyk_core.domain.zones import Zone, ZoneValues


@dataclass(frozen=True)
class MeterInfo:
    """A meter in service, with its last reading (the hint) and the checks' baseline.

    ``last_values``/``last_taken_on`` are the latest counting reading (or the initial
    reading when there is none, ``last_is_initial``). ``baseline`` is what a new reading
    is checked against: the same, except that in the window a correction is checked
    against the reading before this window's. ``recent`` are the counting readings the
    facts read, newest first (``recent_complete`` when they are all the meter has): the
    confirmation's warning of a consumption far above the usual is computed from them.
    """

    meter_id: int
    serial: str
    eic: str
    spec: MeterSpec
    installed_on: date
    last_values: dict[Zone, Decimal]
    last_taken_on: date
    last_is_initial: bool = False
    baseline: PreviousReading | None = None
    recent: tuple[PastReading, ...] = ()
    recent_complete: bool = False
    initial_values: ZoneValues = field(default_factory=dict)

    @property
    def previous(self) -> PreviousReading:
        """The reading a new one is checked against."""
        return self.baseline or PreviousReading(self.last_taken_on, self.last_values)

    @property
    def previous_is_initial(self) -> bool:
        """Whether `previous` is the reading the meter was installed with."""
        if self.baseline is None:
            return self.last_is_initial
        return (
            self.baseline.taken_on == self.installed_on
            and self.baseline.values == self.initial_values
        )

    @property
    def corrects(self) -> bool:
        """Whether a new reading replaces one sent in this window (the last reading is
        this window's own, and the checks go from the one before it)."""
        return self.baseline is not None and (
            self.baseline.taken_on != self.last_taken_on or self.baseline.values != self.last_values
        )

    def history(self, placement: Placement) -> ConsumptionHistory | None:
        """The daily consumption a new reading at ``placement`` is compared with, from the
        recent readings (None when they are too few)."""
        _, history = previous_and_history(
            self.recent,
            placement,
            meter=self.spec,
            installed_on=self.installed_on,
            initial=self.initial_values or self.last_values,
            complete=self.recent_complete,
        )
        return history


@dataclass(frozen=True)
class AccountInfo:
    """An account the customer may act on, with its meters in service."""

    account_id: int
    number: str
    address: str
    meters: tuple[MeterInfo, ...]
    verified: bool = True
    """False for an unverified phone caller: nothing of the account may be shown."""

    def meter(self, meter_id: int | None) -> MeterInfo | None:
        """The meter with this id, if it is one of the account's."""
        return next((m for m in self.meters if m.meter_id == meter_id), None)


@dataclass(frozen=True)
class Facts:
    """Everything the engine may consult for one step.

    ``user_key`` ("telegram:12345") names the user; with the state's nonce it derives a
    reading id. ``caller_phone`` is set (possibly empty) on the phone line: verification
    there is by account number and the caller's number, and a caller whose number is not
    on the account submits as a guest.
    """

    user_key: str
    today: date
    language: str = "uk"
    reminders: bool = True
    accounts: tuple[AccountInfo, ...] = ()
    guest: AccountInfo | None = None
    window: WindowConfig = field(default_factory=WindowConfig)
    limits: PlausibilityLimits = field(default_factory=PlausibilityLimits)
    account_number_length: int = 10
    voice: bool = False
    caller_phone: str | None = None
    phone_sharing: bool = True
    """Whether the channel can prove a shared phone is the user's own (Telegram, Messenger);
    Viber cannot, so it is not offered there."""

    def account(self, account_id: int | None) -> AccountInfo | None:
        """A linked account (or the guest account) by id."""
        if self.guest is not None and self.guest.account_id == account_id:
            return self.guest
        return next((a for a in self.accounts if a.account_id == account_id), None)
