"""The phone line (Twilio TwiML); `routes()` lists its handlers for the app factory."""

from __future__ import annotations

from typing import Any

from pokaznyk_dashboard.ivr.handlers import ivr_gather, ivr_language, ivr_voice


def routes() -> list[Any]:
    """The route handlers of this area."""
    return [ivr_voice, ivr_language, ivr_gather]
