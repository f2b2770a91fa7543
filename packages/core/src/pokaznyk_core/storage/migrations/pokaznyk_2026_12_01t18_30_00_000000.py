"""Which sender holds a claimed outbox message: the token of its sender's lease.

A sender claims messages by moving their `next_attempt_at` a lease ahead; a sender killed
mid-send (`kill -9`, a host gone) left them, and every later message of their chats,
waiting out that lease, about two minutes, after another process had taken the sender's
lease over within a second. With the claiming lease's token on each claim, the new holder
makes the claims of a former one due again at once (`outbox.claims.free_former_claims`).
NULL when no sender holds the message. Additive only: existing rows get NULL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox claims carry the sender's lease token"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)
    manager.add_column(
        table_class_name="OutboxMessage",
        tablename="outbox_message",
        column_name="claimed_by",
        db_column_name="claimed_by",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
