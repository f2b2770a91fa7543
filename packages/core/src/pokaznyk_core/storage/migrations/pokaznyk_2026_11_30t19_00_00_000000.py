"""Drop the single-column indexes that a composite or unique index already covers.

Every reading and every outbox row (each chatbot reply) paid for them on insert, and no
query needs them: `reading_receipt` repeats the unique constraint's own index,
`reading_meter` and `reading_account` are the leading columns of `reading_meter_taken`
and `reading_account_received`, and the outbox is only ever searched by status and due
time (`outbox_due`), by id or by dedupe key.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop indexes that others cover"

COVERED = (
    ("Reading", "reading", "receipt"),
    ("Reading", "reading", "meter"),
    ("Reading", "reading", "account"),
    ("OutboxMessage", "outbox_message", "channel"),
    ("OutboxMessage", "outbox_message", "status"),
    ("OutboxMessage", "outbox_message", "next_attempt_at"),
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)
    for table_class_name, tablename, column_name in COVERED:
        manager.alter_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name=column_name,
            db_column_name=column_name,
            params={"index": False},
            old_params={"index": True},
            schema=None,
        )
    return manager
