"""Viber REST Bot API: signed callbacks in, send_message JSON out."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pokaznyk_core.channels import (
    BUTTON_PREFIX,
    IGNORED,
    InboundMessage,
    InvalidUpdateError,
    ParseResult,
    SubscriptionChange,
    button_payload,
    secrets_match,
)
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply

SIGNATURE_HEADER = "x-viber-content-signature"
SENDER_NAME_LIMIT = 28
EVENT_TYPES = ["conversation_started", "subscribed", "unsubscribed", "delivered", "failed"]
"""Callbacks asked for with set_webhook (`message` and `webhook` always come)."""


def signature(body: bytes, auth_token: str) -> str:
    """Hex HMAC-SHA256 of the raw body keyed with the auth token."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, auth_token: str) -> bool:
    """True when X-Viber-Content-Signature signs this exact body with our token."""
    if not auth_token:
        return False
    given = headers.get(SIGNATURE_HEADER, "").strip().lower()
    return secrets_match(given, signature(body, auth_token))


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidUpdateError(f"{what} is not an object")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _user(container: dict[str, Any], field: str) -> tuple[str, str, str | None]:
    user = _object(container.get(field), field)
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise InvalidUpdateError(f"{field}.id is missing")
    language = _text(user.get("language")) or None
    return user_id, _text(user.get("name")), language


def _message(update: dict[str, Any], key: str | None) -> ParseResult:
    user_id, name, hint = _user(update, "sender")
    message = _object(update.get("message"), "message")
    kind = message.get("type")
    incoming: Incoming
    if kind == "text":
        text = _text(message.get("text"))
        payload = button_payload(text)
        if payload is not None:
            incoming = Incoming(kind=IncomingKind.BUTTON, payload=payload, language_hint=hint)
        else:
            incoming = Incoming(kind=IncomingKind.TEXT, text=text, language_hint=hint)
    elif kind == "contact":
        _object(message.get("contact"), "message.contact")
        # A Viber contact carries no user id: a card from the address book, saved under the
        # sender's own name, cannot be told from their own number, so it proves nothing and
        # its number is not passed on. The dialog says so and asks for the account number.
        incoming = Incoming(kind=IncomingKind.CONTACT, phone="", language_hint=hint)
    elif kind == "picture" and _text(message.get("media")):
        incoming = Incoming(
            kind=IncomingKind.PHOTO, photo_ref=_text(message.get("media")), language_hint=hint
        )
    elif kind in _UNREADABLE:
        incoming = Incoming(kind=IncomingKind.UNREADABLE, language_hint=hint)
    else:
        return IGNORED
    return [InboundMessage(user_id, incoming, key, name)]


_UNREADABLE = frozenset({"file", "sticker", "location", "video", "url"})
"""A customer's messages the dialog cannot read: answered with what it can."""


def parse(payload: Any) -> ParseResult:
    """The customer message or subscription change in a Viber callback, or IGNORED."""
    update = _object(payload, "the callback")
    event = update.get("event")
    if not isinstance(event, str):
        raise InvalidUpdateError("event is missing")
    token = update.get("message_token")
    key = str(token) if isinstance(token, int | str) and not isinstance(token, bool) else None
    if event == "message":
        return _message(update, key)
    if event == "conversation_started":
        user_id, name, hint = _user(update, "user")
        start = Incoming(kind=IncomingKind.START, language_hint=hint)
        return [InboundMessage(user_id, start, key, name)]
    if event == "subscribed":
        user_id, _name, _hint = _user(update, "user")
        return [SubscriptionChange(user_id, subscribed=True)]
    if event == "unsubscribed":
        gone = update.get("user_id")
        if not isinstance(gone, str) or not gone:
            raise InvalidUpdateError("user_id is missing")
        return [SubscriptionChange(gone, subscribed=False)]
    return IGNORED  # webhook, delivered, seen, failed, client_status …


KEYBOARD_MIN_API_VERSION = 6
"""The API version a message with buttons asks for: the first whose clients hide a
Silent button's body (Viber clients of 2018 and later)."""


def _keyboard(reply: Reply) -> dict[str, Any] | None:
    buttons: list[dict[str, Any]] = []  # no share-phone: see `_message`
    for row in reply.buttons:
        columns = max(1, 6 // max(1, len(row)))
        for button in row:
            buttons.append(
                {
                    "ActionType": "reply",
                    "ActionBody": BUTTON_PREFIX + button.payload,
                    "Text": button.label,
                    "Columns": columns,
                    "Rows": 1,
                    "Silent": True,
                }
            )
    if not buttons:
        return None
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}


def render_message(reply: Reply, sender_name: str) -> dict[str, Any]:
    """The message part of a send_message request (also the welcome-message response)."""
    request: dict[str, Any] = {
        "type": "text",
        "text": reply.text or "…",
        "sender": {"name": sender_name[:SENDER_NAME_LIMIT]},
    }
    keyboard = _keyboard(reply)
    if keyboard is not None:
        request["keyboard"] = keyboard
        # Clients honour a button's Silent (the pressed button's "btn:…" body is not shown
        # as the customer's message) only for messages that ask for API version 6 or later.
        request["min_api_version"] = KEYBOARD_MIN_API_VERSION
    return request


def render(reply: Reply, receiver: str, sender_name: str) -> dict[str, Any]:
    """The send_message request for `reply` to one Viber user."""
    return {"receiver": receiver, **render_message(reply, sender_name)}


def set_webhook_request(url: str) -> dict[str, Any]:
    """The set_webhook request: our URL and the events we want."""
    return {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": False}
