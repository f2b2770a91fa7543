"""An index of the pending outbox messages by chat, for the sender's order guard.

Each sending round asks, for the chats it claimed, whether an earlier message of the chat
is still pending (`outbox.sender._in_order`). Without an index that is a scan of every
pending row: 33–44 ms a round with 150,000 reminders pending on PostgreSQL. The index is
partial, so it holds only what is pending: a sent message leaves it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pending outbox messages by chat"

STATEMENT = (
    "CREATE INDEX IF NOT EXISTS outbox_pending_chat"
    " ON outbox_message (recipient, channel, id) WHERE status = 'pending'"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(STATEMENT)

    manager.add_raw(create_index)
    return manager
