"""Writing the append-only audit trail, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pokaznyk_core.storage.tables import AuditEntry


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
    await AuditEntry.raw(
        "INSERT INTO audit_entry (at, actor, action, entity, entity_id, details, source)"
        " VALUES ({}, {}, {}, {}, {}, {}, {})",
        at,
        actor[:120],
        action,
        entity,
        entity_id[:60],
        json.dumps(dict(details or {}), ensure_ascii=False, default=str),
        source[:120],
    )
