"""The one Piccolo app of Pokaznyk: its tables and migrations."""

from __future__ import annotations

import os

from piccolo.conf.apps import AppConfig

from pokaznyk_core.storage.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="pokaznyk",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
