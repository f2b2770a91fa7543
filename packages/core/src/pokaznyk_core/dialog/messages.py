"""What a conversation exchanges, independent of the platform.

Channel adapters turn a platform payload into an `Incoming` and render each `Reply` into
the platform's message (Telegram inline keyboard, Viber keyboard, Messenger quick replies,
TwiML <Say>/<Gather>). The dialog engine speaks only these values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class IncomingKind(StrEnum):
    """What the customer did."""

    START = "start"  # /start, Viber conversation_started, Messenger Get Started, a new call
    TEXT = "text"  # typed text (or IVR digits)
    BUTTON = "button"  # pressed a button: `payload` is the button's payload
    CONTACT = "contact"  # shared their own phone contact: `phone`
    PHOTO = "photo"  # sent a picture: `photo_ref` (platform file id or URL)
    PHOTO_TOO_LARGE = "photo_too_large"  # a picture the platform says is over the limit
    FOREIGN_CONTACT = "foreign_contact"  # shared a contact that is not their own
    UNREADABLE = "unreadable"  # a sticker, voice, location, file: nothing the dialog reads
    EDITED = "edited"  # a message sent earlier, edited: the dialog has moved on from it


@dataclass(frozen=True)
class Incoming:
    """One message from a customer, as the dialog sees it."""

    kind: IncomingKind
    text: str = ""
    payload: str = ""
    phone: str = ""
    photo_ref: str = ""
    language_hint: str | None = None
    language_chosen: bool = False
    """The customer chose `language_hint` just now (the phone line's first question): it
    replaces the dialog's language. Otherwise the hint (a messenger client's language) only
    sets the language of a new dialog."""


@dataclass(frozen=True)
class Button:
    """A button; `payload` comes back in `Incoming.payload` (at most 64 bytes). `short`, when
    set, is a shorter label for a platform that limits a button's length (Messenger's quick
    replies take 20 characters)."""

    label: str
    payload: str
    short: str = ""


@dataclass(frozen=True)
class Reply:
    """One message to a customer.

    `buttons` are rows of buttons; `request_contact` asks the platform for a button that
    shares the user's phone; `hide_keyboard` takes that button away again where the
    platform keeps it on screen (Telegram's reply keyboard); `input_hint` tells a voice
    channel what to gather ("digits", "digits_decimal", "choice", "none").
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: bool = False
    input_hint: str = "none"
    locale: str = "uk"
    speech: tuple[str, ...] = field(default_factory=tuple)
    hide_keyboard: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, for the outbox."""
        return {
            "text": self.text,
            "buttons": [
                [
                    {"label": b.label, "payload": b.payload}
                    | ({"short": b.short} if b.short else {})
                    for b in row
                ]
                for row in self.buttons
            ],
            "request_contact": self.request_contact,
            "input_hint": self.input_hint,
            "locale": self.locale,
            "speech": list(self.speech),
        } | ({"hide_keyboard": True} if self.hide_keyboard else {})

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Reply:
        """Back from `to_json`."""
        raw = json.loads(data) if isinstance(data, str) else data
        return cls(
            text=raw["text"],
            buttons=tuple(
                tuple(Button(b["label"], b["payload"], b.get("short", "")) for b in row)
                for row in raw.get("buttons", [])
            ),
            request_contact=bool(raw.get("request_contact", False)),
            input_hint=raw.get("input_hint", "none"),
            locale=raw.get("locale", "uk"),
            speech=tuple(raw.get("speech", ())),
            hide_keyboard=bool(raw.get("hide_keyboard", False)),
        )
