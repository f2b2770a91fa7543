"""Outcome codes: every answer a rule can give, as a machine code the catalogue words.

A rule never builds a sentence. It returns a :class:`Problem` carrying a :class:`Code`
and the parameters the message needs; ``pokaznyk_core.i18n`` turns it into words in the
customer's language, the same text on every channel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

ParamValue = str | int


class Code(StrEnum):
    """Machine codes of every outcome; the value is the catalogue key."""

    ACCOUNT_NUMBER_FORMAT = "account.number_format"
    ACCOUNT_ENTRY_TOO_LONG = "account.entry_too_long"
    SURNAME_TOO_LONG = "surname.too_long"

    EIC_LENGTH = "eic.length"
    EIC_CHARACTER = "eic.character"
    EIC_CHECK_CHARACTER = "eic.check_character"
    EIC_PREFIX = "eic.prefix"

    METER_DIGITS_RANGE = "meter.digits_range"
    METER_DECIMALS_RANGE = "meter.decimals_range"
    METER_ZONES_RANGE = "meter.zones_range"

    VALUE_EMPTY = "value.empty"
    VALUE_NOT_A_NUMBER = "value.not_a_number"
    VALUE_TOO_MANY_DIGITS = "value.too_many_digits"
    VALUE_TOO_MANY_DECIMALS = "value.too_many_decimals"
    VALUE_NEGATIVE = "value.negative"
    VALUE_SEVERAL = "value.several"

    READING_ZONE_COUNT = "reading.zone_count"
    READING_TOO_LOW = "reading.too_low"
    READING_IN_FUTURE = "reading.in_future"
    READING_BEFORE_PREVIOUS = "reading.before_previous"
    READING_BEFORE_INSTALLATION = "reading.before_installation"
    READING_HIGH_CONSUMPTION = "reading.high_consumption"
    READING_ABOVE_HOUSEHOLD_CAP = "reading.above_household_cap"
    READING_ZONES_SWAPPED = "reading.zones_swapped"
    READING_ROLLOVER = "reading.rollover"
    READING_ACCEPTED = "reading.accepted"

    PERIOD_FORMAT = "period.format"
    RECEIPT_FORMAT = "receipt.format"
    RECEIPT_LOOKUPS_PAUSED = "receipt.lookups_paused"

    VERIFICATION_FAILED = "verification.failed"
    VERIFICATION_ATTEMPTS_LEFT = "verification.attempts_left"
    VERIFICATION_COOLDOWN = "verification.cooldown"
    VERIFICATION_ACCOUNT_HELD = "verification.account_held"
    VERIFICATION_CALLER_READINGS_USED = "verification.caller_readings_used"

    REPLACEMENT_FINAL_TOO_LOW = "replacement.final_too_low"
    REPLACEMENT_DATES = "replacement.dates"
    REPLACEMENT_REMOVED_BEFORE_LAST_READING = "replacement.removed_before_last_reading"

    ESTIMATE_CREDIT = "estimate.credit"
    ESTIMATE_CHARGE = "estimate.charge"
    ESTIMATE_MATCHED = "estimate.matched"

    METER_UNKNOWN = "meter.unknown"
    METER_REMOVED = "meter.removed"
    METER_IN_SERVICE = "meter.in_service"
    ACCOUNT_UNKNOWN = "account.unknown"
    ACCOUNT_CLOSED = "account.closed"
    ACCOUNT_EXISTS = "account.exists"
    EIC_TAKEN = "eic.taken"
    PHONE_FORMAT = "phone.format"
    STAFF_USERNAME_FORMAT = "staff.username_format"
    STAFF_ROLE_UNKNOWN = "staff.role_unknown"
    STAFF_PASSWORD_TOO_SHORT = "staff.password_too_short"
    STAFF_USERNAME_TAKEN = "staff.username_taken"
    READING_ID_REUSED = "reading.id_reused"
    PERIOD_ALREADY_CLOSED = "period.already_closed"
    PERIOD_NOT_OVER = "period.not_over"
    IMPORT_ROW = "import.row"


# The parameters each code carries. The catalogue test checks that every message uses
# only these, so a message can never ask for a value the rule does not give.
CODE_PARAMS: Mapping[Code, frozenset[str]] = MappingProxyType(
    {
        Code.ACCOUNT_NUMBER_FORMAT: frozenset({"length"}),
        Code.ACCOUNT_ENTRY_TOO_LONG: frozenset({"max"}),
        Code.SURNAME_TOO_LONG: frozenset({"max"}),
        Code.EIC_LENGTH: frozenset({"length"}),
        Code.EIC_CHARACTER: frozenset({"character", "position"}),
        Code.EIC_CHECK_CHARACTER: frozenset(),
        Code.EIC_PREFIX: frozenset({"prefix"}),
        Code.METER_DIGITS_RANGE: frozenset({"min", "max"}),
        Code.METER_DECIMALS_RANGE: frozenset({"min", "max"}),
        Code.METER_ZONES_RANGE: frozenset({"min", "max"}),
        Code.VALUE_EMPTY: frozenset(),
        Code.VALUE_NOT_A_NUMBER: frozenset(),
        Code.VALUE_TOO_MANY_DIGITS: frozenset({"max_digits"}),
        Code.VALUE_TOO_MANY_DECIMALS: frozenset({"max_decimals"}),
        Code.VALUE_NEGATIVE: frozenset(),
        Code.VALUE_SEVERAL: frozenset(),
        Code.READING_ZONE_COUNT: frozenset({"expected"}),
        Code.READING_TOO_LOW: frozenset({"zone", "previous"}),
        Code.READING_IN_FUTURE: frozenset({"today"}),
        Code.READING_BEFORE_PREVIOUS: frozenset({"previous_date"}),
        Code.READING_BEFORE_INSTALLATION: frozenset({"installed_on"}),
        Code.READING_HIGH_CONSUMPTION: frozenset({"consumption", "days"}),
        Code.READING_ABOVE_HOUSEHOLD_CAP: frozenset({"consumption", "days"}),
        Code.READING_ZONES_SWAPPED: frozenset({"zone", "other_zone"}),
        Code.READING_ROLLOVER: frozenset({"zone"}),
        Code.READING_ACCEPTED: frozenset({"receipt", "period"}),
        Code.PERIOD_FORMAT: frozenset(),
        Code.RECEIPT_FORMAT: frozenset({"length"}),
        Code.RECEIPT_LOOKUPS_PAUSED: frozenset({"minutes"}),
        Code.VERIFICATION_FAILED: frozenset(),
        Code.VERIFICATION_ATTEMPTS_LEFT: frozenset({"attempts_left"}),
        Code.VERIFICATION_COOLDOWN: frozenset({"minutes"}),
        Code.VERIFICATION_ACCOUNT_HELD: frozenset(),
        Code.VERIFICATION_CALLER_READINGS_USED: frozenset(),
        Code.REPLACEMENT_FINAL_TOO_LOW: frozenset({"zone", "previous"}),
        Code.REPLACEMENT_DATES: frozenset({"removed_on", "installed_on"}),
        Code.REPLACEMENT_REMOVED_BEFORE_LAST_READING: frozenset({"previous_date"}),
        Code.ESTIMATE_CREDIT: frozenset({"estimated", "actual", "difference", "periods"}),
        Code.ESTIMATE_CHARGE: frozenset({"estimated", "actual", "difference", "periods"}),
        Code.ESTIMATE_MATCHED: frozenset({"estimated", "actual", "periods"}),
        Code.METER_UNKNOWN: frozenset(),
        Code.METER_REMOVED: frozenset(),
        Code.METER_IN_SERVICE: frozenset(),
        Code.ACCOUNT_UNKNOWN: frozenset(),
        Code.ACCOUNT_CLOSED: frozenset(),
        Code.ACCOUNT_EXISTS: frozenset(),
        Code.EIC_TAKEN: frozenset(),
        Code.PHONE_FORMAT: frozenset({"phone"}),
        Code.STAFF_USERNAME_FORMAT: frozenset(),
        Code.STAFF_ROLE_UNKNOWN: frozenset(),
        Code.STAFF_PASSWORD_TOO_SHORT: frozenset({"min"}),
        Code.STAFF_USERNAME_TAKEN: frozenset(),
        Code.READING_ID_REUSED: frozenset(),
        Code.PERIOD_ALREADY_CLOSED: frozenset({"period"}),
        Code.PERIOD_NOT_OVER: frozenset({"period", "closes_on"}),
        Code.IMPORT_ROW: frozenset({"row", "reason"}),
    }
)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One outcome of a rule: a code, the values its message needs, and where it belongs.

    ``field`` names the zone or form field the problem is about (``None`` for the whole
    submission). ``params`` is copied into a read-only mapping; problems compare by value
    and can be hashed, so they can live in sets and frozen verdicts.
    """

    code: Code
    params: Mapping[str, ParamValue] = dataclasses.field(default_factory=dict)
    field: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items())), self.field))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.code, dict(self.params), self.field) == (
            other.code,
            dict(other.params),
            other.field,
        )

    def __repr__(self) -> str:
        return f"Problem(code={self.code!r}, params={dict(self.params)!r}, field={self.field!r})"
