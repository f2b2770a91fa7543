"""Platform webhooks: Telegram, Viber and Messenger; `routes()` lists them for the app factory."""

from __future__ import annotations

from typing import Any

from pokaznyk_dashboard.webhooks.common import platform_lifespan
from pokaznyk_dashboard.webhooks.handlers import (
    messenger_challenge,
    messenger_webhook,
    telegram_webhook,
    viber_webhook,
)

__all__ = ["platform_lifespan", "routes"]


def routes() -> list[Any]:
    """The route handlers of this area."""
    return [telegram_webhook, viber_webhook, messenger_challenge, messenger_webhook]
