"""What the engine asks the service to do, and what the service answers.

A :class:`Step` carries at most one action; the service carries it out and calls
``resume`` with the matching result. Results are transient (never stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from pokaznyk_core.domain.checks import Flag
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.zones import Zone


@dataclass(frozen=True)
class VerifyHolder:
    """Check an account number (or EIC) and the holder's surname; link it on success."""

    account_or_eic: str
    surname: str


@dataclass(frozen=True)
class VerifyPhone:
    """Link the accounts that have this phone (the sender's own shared contact)."""

    phone: str


@dataclass(frozen=True)
class VerifyCaller:
    """Phone line: find the account; link it when the caller's number is on it."""

    account_or_eic: str
    caller_phone: str


@dataclass(frozen=True)
class SubmitReading:
    """Store a reading (idempotent by ``reading_id``)."""

    meter_id: int
    values: dict[Zone, Decimal]
    reading_id: UUID
    unverified: bool = False


@dataclass(frozen=True)
class AttachPhoto:
    """Attach a photo of the meter to a stored reading."""

    reading_id: UUID
    photo_ref: str


@dataclass(frozen=True)
class LookupReceipt:
    """The status of a reading by its receipt code."""

    code: str


@dataclass(frozen=True)
class LatestReadings:
    """The latest reading of each meter of these (linked) accounts, and their bills."""

    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class SetLanguage:
    """Remember the customer's language."""

    locale: str


@dataclass(frozen=True)
class SetReminders:
    """Switch reminders on or off."""

    enabled: bool


Action = (
    VerifyHolder
    | VerifyPhone
    | VerifyCaller
    | SubmitReading
    | AttachPhoto
    | LookupReceipt
    | LatestReadings
    | SetLanguage
    | SetReminders
)


@dataclass(frozen=True)
class Verified:
    """The answer to VerifyHolder, VerifyPhone or VerifyCaller.

    ``account_ids`` are the accounts now linked (empty when it failed); ``problem`` is
    the verification outcome code to tell (failed, cooldown, held). For a phone caller
    the account found is ``guest_account_id``, for this call only: ``caller_verified``
    when the caller's number is on it.
    """

    account_ids: tuple[int, ...] = ()
    problem: Problem | None = None
    attempts_left: int | None = None
    guest_account_id: int | None = None
    caller_verified: bool = False
    already_linked: bool = False
    """The account verified was linked to this chat before (nothing new was linked)."""
    retry_after: timedelta | None = None
    """How long the cooldown in ``problem`` still runs, when it is one."""


@dataclass(frozen=True)
class Submitted:
    """The answer to SubmitReading.

    ``stored`` with its receipt, status and period; or ``problems`` from the checks
    (not stored); or ``error`` when the service refused (meter removed, account closed).
    """

    stored: bool
    receipt: str = ""
    status: str = ""
    period: str = ""
    in_window: bool = False
    flags: frozenset[Flag] = frozenset()
    problems: tuple[Problem, ...] = ()
    notices: tuple[Problem, ...] = ()
    error: Problem | None = None
    attempts_left: int | None = None
    """For a caller whose number is not on the account: refusals left before the cooldown."""
    replaced: tuple[str, ...] = ()
    """The receipts of the readings this one replaced (a correction in the window)."""


@dataclass(frozen=True)
class ReceiptStatus:
    """One reading's status, as told to the customer."""

    receipt: str
    status: str
    period: str
    taken_on: str
    in_window: bool
    meter_serial: str = ""
    values: dict[Zone, str] = field(default_factory=dict)
    account_id: int | None = None
    """The account the reading is on (told when the customer has several)."""
    channel: str = ""
    """The channel the reading came by (``Channel`` value)."""


@dataclass(frozen=True)
class BillStatus:
    """One meter's bill for one closed period, as told to the customer.

    ``basis`` is ``"actual"`` or ``"estimated"``; ``kwh`` is the billed total, negative
    for a credit; ``notice`` the estimated-vs-actual reconciliation, when there is one.
    """

    period: str
    meter_serial: str
    basis: str
    kwh: Decimal
    notice: Problem | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class Found:
    """The answer to LookupReceipt or LatestReadings (empty when nothing was found).

    ``bills`` answers LatestReadings only: the latest closed periods of each meter,
    newest first (empty when nothing was billed yet); ``None`` for a receipt lookup.
    """

    readings: tuple[ReceiptStatus, ...] = ()
    bills: tuple[BillStatus, ...] | None = None


@dataclass(frozen=True)
class Done:
    """The answer to an action that only changes something (language, reminders, photo).

    ``reason`` names why it was not done, where the customer is told more than "failed"
    (``"too_many"``: the reading already carries as many photos as it may)."""

    ok: bool = True
    reason: str = ""


TOO_MANY_PHOTOS = "too_many"
"""`Done.reason` of a photo refused because the reading has as many as it may carry."""
NOT_FLAGGED = "not_flagged"
"""`Done.reason` of a photo refused because its reading no longer waits for review."""


ActionResult = Verified | Submitted | Found | Done
