"""Composite unique indexes that keep retries and concurrent messages from storing twice."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T02:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS messenger_identity_channel_user"
    " ON messenger_identity (channel, platform_user_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS linked_account_identity_account"
    " ON linked_account (identity, account)",
    "CREATE UNIQUE INDEX IF NOT EXISTS dialog_state_channel_user"
    " ON dialog_state (channel, platform_user_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS processed_update_channel_key"
    " ON processed_update (channel, update_key)",
    "CREATE UNIQUE INDEX IF NOT EXISTS route_staff_day ON route (staff_user, day)",
    "CREATE UNIQUE INDEX IF NOT EXISTS bill_line_period_meter ON bill_line (period, meter)",
    "CREATE INDEX IF NOT EXISTS reading_meter_taken ON reading (meter, taken_on)",
    "CREATE INDEX IF NOT EXISTS reading_account_received ON reading (account, received_at)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox_message (status, next_attempt_at)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
