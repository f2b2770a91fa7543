"""The Piccolo configuration module (`PICCOLO_CONF=pokaznyk_core.storage.piccolo_conf`).

Piccolo looks the engine up here by name. The service replaces `DB` at start-up through
`pokaznyk_core.storage.engine.connect`; the value below only serves Piccolo's own CLI
(`piccolo migrations new pokaznyk --auto`) during development.
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from pokaznyk_core.storage.urls import engine_from_url


def _development_engine() -> Engine[Any]:
    try:
        return engine_from_url(os.environ.get("POKAZNYK_DATABASE_URL", ""), pool=False)
    except ValueError:  # unset or invalid: Settings reports it properly when the service starts
        return engine_from_url("sqlite:///pokaznyk.sqlite", pool=False)


DB: Engine[Any] = _development_engine()

APP_REGISTRY = AppRegistry(apps=["pokaznyk_core.storage.piccolo_app"])
