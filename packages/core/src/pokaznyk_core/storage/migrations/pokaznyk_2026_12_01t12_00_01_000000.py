"""A partial index of the chat photos still to download, for the worker's every round.

The worker looks for them each round (`outbox.evidence_fetch`); without an index that is
a scan of every photo ever attached. The index holds only the references not yet
downloaded nor given up, so it stays a handful of rows. Its condition is repeated word for
word in the worker's query (`TO_FETCH`), which both engines need to use a partial index.
A migration of its own: a migration's raw statements run before its new columns exist.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T12:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "chat photos still to download"

STATEMENT = (
    "CREATE INDEX IF NOT EXISTS reading_evidence_to_fetch ON reading_evidence (fetch_next_at)"
    " WHERE content_type LIKE '%/file-ref' AND fetch_failed_at IS NULL"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(STATEMENT)

    manager.add_raw(create_index)
    return manager
