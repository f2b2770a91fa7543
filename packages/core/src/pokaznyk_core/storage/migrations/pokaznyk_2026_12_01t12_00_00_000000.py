"""Chat photos are downloaded by the worker: the state of each download on its evidence row.

A photo sent in a chat is stored first as the platform's reference (a Telegram file_id, a
Viber or Messenger media URL); `outbox.evidence_fetch` downloads it and stores the image
instead. These columns say how often it was tried, when it is tried next (or until when a
worker holds it), why the last try failed and when it was given up. Additive only: the
existing rows get 0, NULL and '' (a reference already stored is fetched like a new one).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "chat photo downloads: attempts, next try, last error, given up"


def _params(**params: object) -> dict[str, object]:
    return {
        **params,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


COLUMNS = (
    ("fetch_attempts", Integer, _params(default=0, null=False)),
    ("fetch_next_at", Timestamptz, _params(default=None, null=True)),
    ("fetch_error", Text, _params(default="", null=False)),
    ("fetch_failed_at", Timestamptz, _params(default=None, null=True)),
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pokaznyk", description=DESCRIPTION)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="ReadingEvidence",
            tablename="reading_evidence",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
