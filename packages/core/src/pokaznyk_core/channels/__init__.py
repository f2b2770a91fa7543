"""Pure translation between each platform's payloads and the dialog's `Incoming`/`Reply`.

One module per platform (`telegram`, `viber`, `messenger`, `ivr`), each with
`verify(...)` (the platform's signature or secret, constant-time), `parse(payload)` (a
decoded update to `InboundMessage`s, or `IGNORED`; `InvalidUpdateError` for a body that is not
an update) and `render(reply, recipient)` (the platform's request JSON or TwiML). No I/O.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Final, Literal

from pokaznyk_core.dialog.messages import Incoming

__all__ = [
    "BUTTON_PREFIX",
    "IGNORED",
    "InboundMessage",
    "InvalidUpdateError",
    "ParseResult",
    "SubscriptionChange",
    "digits_of",
    "secrets_match",
]

IGNORED: Final = "ignored"
"""`parse` result for a well-formed update the service does not handle."""

BUTTON_PREFIX: Final = "btn:"
"""Marks a button's payload where the platform sends it back as ordinary text (Viber,
Messenger quick replies), so a pressed button is never mistaken for typed text."""


class InvalidUpdateError(ValueError):
    """The body is not an update of the platform (answered 400)."""


@dataclass(frozen=True)
class InboundMessage:
    """One customer message found in a platform update."""

    platform_user_id: str
    incoming: Incoming
    update_key: str | None
    display_name: str = ""
    callback_id: str | None = None
    """Telegram callback query to acknowledge with answerCallbackQuery."""
    follows: bool = False
    """Another photo of the message the item before came in (several picked at once):
    handled only while the ones before it were attached, so a refusal is said once."""


@dataclass(frozen=True)
class SubscriptionChange:
    """A user subscribed to or unsubscribed from the bot (Viber)."""

    platform_user_id: str
    subscribed: bool


ParseResult = list[InboundMessage | SubscriptionChange] | Literal["ignored"]


def secrets_match(given: str | bytes | None, expected: str | bytes) -> bool:
    """Constant-time comparison; an empty expected secret never matches."""
    if not expected or given is None:
        return False
    given_bytes = given.encode() if isinstance(given, str) else given
    expected_bytes = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(given_bytes, expected_bytes)


def digits_of(phone: str) -> str:
    """Only the digits of a phone number (`+380 50 123-45-67` -> `380501234567`)."""
    return re.sub(r"\D", "", phone)


def button_payload(text: str) -> str | None:
    """The payload of a pressed button sent back as text, or None for typed text."""
    if text.startswith(BUTTON_PREFIX):
        return text.removeprefix(BUTTON_PREFIX)
    return None
