"""Writing the append-only audit trail, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from pokaznyk_core.storage.tables import AuditEntry

AUDIT_INSERT = "INSERT INTO audit_entry (at, actor, action, entity, entity_id, details, source)"
"""The columns of an audit entry, in the order `audit_values` gives them."""


class AuditFields(TypedDict):
    """One audit entry: who (`actor`) did what (`action`) to which entity, when and from
    where (`source`)."""

    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    details: NotRequired[Mapping[str, Any] | None]
    source: NotRequired[str]


def audit_values(**entry: Unpack[AuditFields]) -> tuple[Any, ...]:
    """One audit entry's values for `AUDIT_INSERT` (for a statement that writes it with
    other rows)."""
    return (
        entry["at"],
        entry["actor"][:120],
        entry["action"],
        entry["entity"],
        entry["entity_id"][:60],
        json.dumps(dict(entry.get("details") or {}), ensure_ascii=False, default=str),
        entry.get("source", "")[:120],
    )


async def write_audit(values: tuple[Any, ...]) -> None:
    """Append the audit entry whose `audit_values` these are."""
    await AuditEntry.raw(AUDIT_INSERT + " VALUES ({}, {}, {}, {}, {}, {}, {})", *values)


async def record_audit(**entry: Unpack[AuditFields]) -> None:
    """Append one audit entry: who did what to which entity, when and from where."""
    await write_audit(audit_values(**entry))
