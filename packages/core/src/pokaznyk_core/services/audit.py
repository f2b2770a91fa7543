"""Writing the append-only audit trail, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pokaznyk_core.storage.tables import AuditEntry

AUDIT_INSERT = "INSERT INTO audit_entry (at, actor, action, entity, entity_id, details, source)"
"""The columns of an audit entry, in the order `audit_values` gives them."""


def audit_values(
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    details: Mapping[str, Any] | None = None,
    source: str = "",
) -> tuple[Any, ...]:
    """One audit entry's values for `AUDIT_INSERT` (for a statement that writes it with
    other rows)."""
    return (
        at,
        actor[:120],
        action,
        entity,
        entity_id[:60],
        json.dumps(dict(details or {}), ensure_ascii=False, default=str),
        source[:120],
    )


async def record_audit(
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    details: Mapping[str, Any] | None = None,
    source: str = "",
) -> None:
    """Append one audit entry: who did what to which entity, when and from where."""
    values = audit_values(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=details,
        source=source,
    )
    await AuditEntry.raw(AUDIT_INSERT + " VALUES ({}, {}, {}, {}, {}, {}, {})", *values)
