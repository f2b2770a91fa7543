"""The rows the demo generator produces, one tuple per row in the tables' column order.

Values are plain Python objects (``date``, aware UTC ``datetime``, ``UUID``, ``bool``,
``int``, ``str``); each bulk writer turns them into what its driver wants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]

ACCOUNT_COLUMNS = (
    "id", "number", "surname", "name", "patronymic", "settlement", "street", "building",
    "apartment", "status", "created_at",
)  # fmt: skip
ACCOUNT_PHONE_COLUMNS = ("id", "account", "phone", "digits")
METERING_POINT_COLUMNS = ("id", "account", "eic", "created_at")
METER_COLUMNS = (
    "id", "metering_point", "serial", "digits", "decimals", "zone_count", "installed_on",
    "removed_on", "initial_1", "initial_2", "initial_3", "final_1", "final_2", "final_3",
)  # fmt: skip
READING_COLUMNS = (
    "id", "receipt", "meter", "account", "value_1", "value_2", "value_3", "taken_on",
    "received_at", "channel", "submitted_by", "status", "period", "in_window", "flags",
    "rollover", "supersedes", "consumption_total",
)  # fmt: skip
STAFF_USER_COLUMNS = (
    "id", "username", "full_name", "role", "password_hash", "active", "language", "created_at",
)  # fmt: skip
ROUTE_COLUMNS = ("id", "staff_user", "day", "created_at")
ROUTE_STOP_COLUMNS = ("id", "route", "position", "metering_point", "skip_code")
AUDIT_ENTRY_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "details", "source")

SERIAL_TABLES = (
    "account", "account_phone", "metering_point", "meter", "staff_user", "route",
    "route_stop", "audit_entry",
)  # fmt: skip
"""Tables whose integer ids the demo assigns itself (their sequences are reset after)."""


@dataclass
class Chunk:
    """The rows of a batch of accounts, written together."""

    accounts: list[Row] = field(default_factory=list)
    phones: list[Row] = field(default_factory=list)
    metering_points: list[Row] = field(default_factory=list)
    meters: list[Row] = field(default_factory=list)
    readings: list[Row] = field(default_factory=list)

    def tables(self) -> tuple[tuple[str, tuple[str, ...], list[Row]], ...]:
        """(table, columns, rows) in an order that satisfies the foreign keys."""
        return (
            ("account", ACCOUNT_COLUMNS, self.accounts),
            ("account_phone", ACCOUNT_PHONE_COLUMNS, self.phones),
            ("metering_point", METERING_POINT_COLUMNS, self.metering_points),
            ("meter", METER_COLUMNS, self.meters),
            ("reading", READING_COLUMNS, self.readings),
        )
