"""Facebook Messenger Platform: the verification challenge, signed events, the Send API."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pokaznyk_core.channels import (
    BUTTON_PREFIX,
    IGNORED,
    InboundMessage,
    InvalidUpdateError,
    ParseResult,
    button_payload,
    digits_of,
    secrets_match,
)
from pokaznyk_core.channels.lengths import TEXT_LIMITS
from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.messages import Button, Incoming, IncomingKind, Reply
from pokaznyk_core.domain.readings import MAX_PHOTOS_PER_READING
from pokaznyk_core.i18n import translate

SIGNATURE_HEADER = "x-hub-signature-256"
GET_STARTED = "GET_STARTED"
"""The Get Started button's postback payload (set with `profile_request`)."""
PROFILE_LOCALES = {"default": "uk", "en_US": "en", "en_GB": "en"}
"""Messenger's locales of the welcome screen and the persistent menu, and ours for each:
Ukrainian for everyone, English for English clients."""
MENU = (
    (x.MENU_SUBMIT, "dialog.button.submit"),
    (x.MENU_STATUS, "dialog.button.status"),
    (x.MENU_WINDOW, "dialog.button.window"),
    (x.MENU_LANGUAGE, "dialog.button.language"),
)
"""The persistent menu: the dialog's menu button each entry presses, and its label's key."""
MENU_TITLE_LIMIT = 30
QUICK_REPLY_LIMIT = 13
TITLE_LIMIT = 20
GET_STARTED_PAYLOADS = frozenset({"GET_STARTED", "get_started", "START", "start"})
STANDARD_MESSAGING_WINDOW = timedelta(hours=24)
"""How long after a person's last message Meta delivers a message the page starts (a
reminder); later the Send API refuses it (error 10, subcode 2018278), and a page that
keeps trying risks restrictions."""


def may_start_message(
    last_message_at: datetime | None, now: datetime, *, margin: timedelta = timedelta(0)
) -> bool:
    """True when a message the page starts may go to a person whose last message came at
    `last_message_at` (None: never), and still may `margin` later (it waits in a queue)."""
    if last_message_at is None:
        return False
    return now + margin - last_message_at < STANDARD_MESSAGING_WINDOW


def challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a webhook verification request, or None to refuse it."""
    if params.get("hub.mode") != "subscribe":
        return None
    if not secrets_match(params.get("hub.verify_token"), verify_token):
        return None
    return params.get("hub.challenge", "")


def signature(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, app_secret: str) -> bool:
    """True when X-Hub-Signature-256 signs this exact body with the app secret."""
    if not app_secret:
        return False
    given = headers.get(SIGNATURE_HEADER, "").strip().lower()  # hex in either case
    return secrets_match(given, signature(body, app_secret))


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidUpdateError(f"{what} is not an object")
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _message_incoming(message: dict[str, Any]) -> list[Incoming]:
    """What one message says to the dialog: one thing, or each of the photos picked at once
    from the gallery (one more than a reading takes, so the limit is told once)."""
    if message.get("is_echo"):
        return []  # our own message coming back
    quick = message.get("quick_reply")
    if isinstance(quick, dict):
        payload = _str(quick.get("payload"))
        pressed = button_payload(payload)
        if pressed is not None:
            return [Incoming(kind=IncomingKind.BUTTON, payload=pressed)]
        if digits_of(payload):  # the user_phone_number quick reply: the user's own number
            return [Incoming(kind=IncomingKind.CONTACT, phone="+" + digits_of(payload))]
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    photos = []
    for attachment in attachments:
        content = attachment.get("payload")
        content = content if isinstance(content, dict) else {}
        if attachment.get("type") == "image" and "sticker_id" not in content:  # not a 👍
            url = _str(content.get("url"))
            if url:
                photos.append(Incoming(kind=IncomingKind.PHOTO, photo_ref=url))
    if photos:
        return photos[: MAX_PHOTOS_PER_READING + 1]
    text = message.get("text")
    if isinstance(text, str):
        return [Incoming(kind=IncomingKind.TEXT, text=text)]
    if attachments:  # a sticker, audio, video, file or location
        return [Incoming(kind=IncomingKind.UNREADABLE)]
    return []


def _event(event: dict[str, Any]) -> list[InboundMessage]:
    if "message" not in event and "postback" not in event:
        # delivery, read, reaction, optin (whose sender may be a user_ref, not an id) …
        return []
    sender = _object(event.get("sender"), "sender")
    psid = _str(sender.get("id"))
    if not psid:
        raise InvalidUpdateError("sender.id is missing")
    timestamp = event.get("timestamp", "")
    if "message" in event:
        message = _object(event["message"], "message")
        mid = _str(message.get("mid")) or None
        return [  # the second photo of a message on, each under a key of its own
            InboundMessage(psid, incoming, f"{mid}#{n}" if mid and n else mid, follows=n > 0)
            for n, incoming in enumerate(_message_incoming(message))
        ]
    if "postback" in event:
        postback = _object(event["postback"], "postback")
        payload = _str(postback.get("payload"))
        mid = _str(postback.get("mid")) or f"postback:{psid}:{timestamp}"
        if payload in GET_STARTED_PAYLOADS:
            return [InboundMessage(psid, Incoming(kind=IncomingKind.START), mid)]
        pressed = button_payload(payload)
        incoming = Incoming(
            kind=IncomingKind.BUTTON, payload=payload if pressed is None else pressed
        )
        return [InboundMessage(psid, incoming, mid)]
    return []


def parse(payload: Any) -> ParseResult:
    """The customer messages in a Messenger webhook event, or IGNORED."""
    body = _object(payload, "the event")
    entries = body.get("entry")
    if body.get("object") != "page" or not isinstance(entries, list):
        raise InvalidUpdateError("not a page event")
    found: list[Any] = []
    for entry in entries:
        events = _object(entry, "entry").get("messaging") or []
        if not isinstance(events, list):
            raise InvalidUpdateError("entry.messaging is not a list")
        for event in events:
            found += _event(_object(event, "messaging event"))
    return found or IGNORED


def _title(button: Button) -> str:
    """A quick reply's title within Meta's 20 characters: the label, else its short form,
    else the label cut after a whole word with an ellipsis (an account's address, say)."""
    for text in (button.label, button.short):
        if text and len(text) <= TITLE_LIMIT:
            return text
    cut = button.label[: TITLE_LIMIT - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.:;—-") + "…"


def render(reply: Reply, psid: str, *, messaging_type: str = "RESPONSE") -> dict[str, Any]:
    """The Send API request for `reply`, with quick replies. `messaging_type` is RESPONSE
    for an answer to the customer's message and UPDATE for a message the service starts
    (a reminder); Meta delivers either only within 24 hours of the customer's last message."""
    text = reply.text or "…"
    quick: list[dict[str, Any]] = []
    if reply.request_contact:
        quick.append({"content_type": "user_phone_number"})
    buttons = [button for row in reply.buttons for button in row]
    room = QUICK_REPLY_LIMIT - len(quick)
    if len(buttons) > room:
        # More choices than Meta shows (a customer with many accounts): the last row
        # (back, cancel) stays a button, the ones that do not fit are named in the text,
        # where typing one (an account number, a serial) chooses it.
        last_row = list(reply.buttons[-1])
        kept = buttons[: room - len(last_row)]
        left_out = buttons[len(kept) : len(buttons) - len(last_row)]
        names = ", ".join(button.label for button in left_out)
        more = translate("dialog.more_choices", reply.locale, choices=names)
        room_left = TEXT_LIMITS["messenger"] - len(more) - 2
        if len(text) > room_left:  # the question stays whole, its list gives way
            text = text[: max(room_left - 1, 0)].rstrip() + "…"
        text = f"{text}\n\n{more}"
        buttons = [*kept, *last_row]
    for button in buttons:
        quick.append(
            {
                "content_type": "text",
                "title": _title(button),
                "payload": BUTTON_PREFIX + button.payload,
            }
        )
    message: dict[str, Any] = {"text": text}
    if quick:
        message["quick_replies"] = quick
    return {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": message}


def profile_request() -> dict[str, Any]:
    """The Messenger Profile of the page (`POST /me/messenger_profile`): the Get Started
    button (its postback starts the dialog), the welcome screen's text and a persistent menu
    whose entries press the dialog's menu buttons, in Ukrainian and for English clients."""
    return {
        "get_started": {"payload": GET_STARTED},
        "greeting": [
            {"locale": locale, "text": translate("dialog.messenger_welcome", ours)}
            for locale, ours in PROFILE_LOCALES.items()
        ],
        "persistent_menu": [
            {
                "locale": locale,
                "composer_input_disabled": False,
                "call_to_actions": [
                    {
                        "type": "postback",
                        "title": translate(key, ours)[:MENU_TITLE_LIMIT],
                        "payload": payload,
                    }
                    for payload, key in MENU
                ],
            }
            for locale, ours in PROFILE_LOCALES.items()
        ],
    }
