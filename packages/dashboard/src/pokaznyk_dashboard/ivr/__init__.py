"""Route handlers of this area; `routes()` lists them for the app factory."""

from __future__ import annotations

from typing import Any


def routes() -> list[Any]:
    """The route handlers of this area."""
    return []
