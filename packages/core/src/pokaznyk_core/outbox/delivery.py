"""One outbox message to one platform API call, and the call's answer to an outcome.

The payload of a message is JSON: `{"reply": Reply.to_json(), ...}` for a dialog reply or
a reminder, or `{"method": "answerCallbackQuery", "params": {...}}` for a raw Telegram call.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from pokaznyk_core.channels import messenger, telegram, viber
from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.services.turn_store import REMINDER_KIND
from pokaznyk_core.settings import Settings

SENDING_CHANNELS = ("telegram", "viber", "messenger")

# Viber `status` codes that will not get better by retrying the same message.
_VIBER_PERMANENT = {1, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14}
_VIBER_THROTTLED = 12
# receiverNotRegistered, receiverNotSubscribed: the user left Viber or the bot.
_VIBER_UNREACHABLE = {5, 6}
# "(#551) This person isn't available right now": they blocked or turned off the page.
_MESSENGER_UNREACHABLE = 551


@dataclass(frozen=True)
class Outcome:
    """What a platform said: delivered, retry (after `retry_after` s if it said), or never."""

    delivered: bool
    retry: bool = False
    retry_after: float | None = None
    error: str = ""
    unreachable: bool = False
    """The recipient cannot be written to until they write again (a Telegram user who
    blocked the bot or whose account is deleted, a Viber user who left the bot, a Messenger
    user who blocked the page): no reminders meanwhile."""


DELIVERED = Outcome(delivered=True)


def _retry(error: str, retry_after: float | None = None) -> Outcome:
    return Outcome(delivered=False, retry=True, retry_after=retry_after, error=error[:500])


def _give_up(error: str) -> Outcome:
    return Outcome(delivered=False, retry=False, error=error[:500])


def _unreachable(error: str) -> Outcome:
    return Outcome(delivered=False, retry=False, error=error[:500], unreachable=True)


def configured_channels(settings: Settings) -> tuple[str, ...]:
    """Channels whose API credentials are set, so their messages can be sent."""
    present = {
        "telegram": bool(settings.telegram_bot_token),
        "viber": bool(settings.viber_auth_token),
        "messenger": bool(settings.messenger_page_token),
    }
    return tuple(channel for channel in SENDING_CHANNELS if present[channel])


def load_payload(raw: Any) -> dict[str, Any]:
    """The payload column as a dict (Piccolo returns JSON columns as text)."""
    value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    if not isinstance(value, dict):
        raise ValueError("outbox payload is not a JSON object")
    return value


def build_request(
    settings: Settings, channel: str, recipient: str, payload: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, str], dict[str, str]]:
    """(url, json body, headers, query params) of the API call that delivers one message."""
    if channel == "telegram":
        base = f"{settings.telegram_api_base.rstrip('/')}/bot{settings.telegram_bot_token}"
        if "method" in payload:
            return f"{base}/{payload['method']}", dict(payload.get("params", {})), {}, {}
        body = telegram.render(Reply.from_json(payload["reply"]), recipient)
        return f"{base}/sendMessage", body, {}, {}
    if channel == "viber":
        body = viber.render(
            Reply.from_json(payload["reply"]), recipient, settings.viber_sender_name
        )
        url = f"{settings.viber_api_base.rstrip('/')}/send_message"
        return url, body, {"X-Viber-Auth-Token": settings.viber_auth_token}, {}
    if channel == "messenger":
        messaging_type = "UPDATE" if payload.get("kind") == REMINDER_KIND else "RESPONSE"
        body = messenger.render(
            Reply.from_json(payload["reply"]), recipient, messaging_type=messaging_type
        )
        base = settings.graph_api_base.rstrip("/")
        url = f"{base}/{settings.graph_api_version}/me/messages"
        return url, body, {}, {"access_token": settings.messenger_page_token}
    raise ValueError(f"channel {channel!r} has no platform API")


def json_object(response: httpx.Response) -> dict[str, Any]:
    """A platform's answer as a JSON object ({} when it is not one)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _server_trouble(response: httpx.Response) -> Outcome | None:
    if response.status_code >= 500 or response.status_code in (408, 409):
        return _retry(f"HTTP {response.status_code}")
    return None


def telegram_outcome(response: httpx.Response) -> Outcome:
    """Bot API answer: ok, flood control (429 retry_after), a server error, or a refusal."""
    data = json_object(response)
    if response.is_success and data.get("ok") is True:
        return DELIVERED
    description = str(data.get("description") or f"HTTP {response.status_code}")
    if response.status_code == 429:
        parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        after = parameters.get("retry_after") if parameters else None
        seconds = float(after) if isinstance(after, int | float) else None
        return _retry(f"429 {description}", seconds)
    trouble = _server_trouble(response)
    if trouble is not None:
        return trouble
    if response.status_code in (401, 404):  # a wrong or revoked token: fixable by the operator
        return _retry(f"{response.status_code} {description}")
    if response.status_code == 403 and data.get("error_code") == 403:  # the Bot API's own:
        # "bot was blocked by the user", "user is deactivated" (a proxy's 403 is not)
        return _unreachable(f"403 {description}")
    return _give_up(f"{response.status_code} {description}")


def viber_outcome(response: httpx.Response) -> Outcome:
    """Viber answer: HTTP 200 always; body `status` 0 means sent."""
    trouble = _server_trouble(response)
    if trouble is not None:
        return trouble
    data = json_object(response)
    status = data.get("status")
    message = str(data.get("status_message") or "")
    if status == 0:
        return DELIVERED
    if status in _VIBER_UNREACHABLE:
        return _unreachable(f"viber status {status} {message}")
    if status in _VIBER_PERMANENT:
        return _give_up(f"viber status {status} {message}")
    if status == _VIBER_THROTTLED:
        return _retry(f"viber status {status} {message}")
    return _retry(f"viber status {status} {message} (HTTP {response.status_code})")


def messenger_outcome(response: httpx.Response) -> Outcome:
    """Send API answer: `message_id` on success; OAuth and rate-limit errors are retried."""
    data = json_object(response)
    if response.is_success and "message_id" in data:
        return DELIVERED
    trouble = _server_trouble(response)
    if trouble is not None:
        return trouble
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    code = error.get("code") if error else None
    text = f"HTTP {response.status_code} code {code} {error.get('message', '') if error else ''}"
    if response.status_code == 429 or code in (4, 32, 190, 613):
        return _retry(text.strip())
    if code == _MESSENGER_UNREACHABLE:
        return _unreachable(text.strip())
    return _give_up(text.strip())


def outcome_of(channel: str, response: httpx.Response) -> Outcome:
    """The outcome of one API call for `channel`."""
    if channel == "telegram":
        return telegram_outcome(response)
    if channel == "viber":
        return viber_outcome(response)
    return messenger_outcome(response)


def quiet_http_client_logs() -> None:
    """Keep httpx from logging each request's URL: the Bot API URL holds the bot token and
    the Graph API URL the page token (`/bot<token>/…`, `?access_token=…`)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
