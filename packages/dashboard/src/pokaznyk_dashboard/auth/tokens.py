"""Signed form tokens, carried in hidden fields so forms work without JavaScript or cookies
and any server process can continue them: the account a visitor verified on /submit, and
the reading a receipt page may attach a photo to."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from uuid import UUID

from pokaznyk_core.domain.values import ascii_int

ACCOUNT_TOKEN_LIFETIME = timedelta(minutes=30)
READING_TOKEN_LIFETIME = timedelta(hours=2)
"""How long a receipt page can still take a photo."""


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _sign(secret: str, kind: str, value: str, now: datetime, lifetime: timedelta) -> str:
    expires = int((now + lifetime).timestamp())
    payload = f"{kind}.{value}.{expires}"
    return f"{payload}.{_signature(secret, payload)}"


def _verified(secret: str, kind: str, token: str, now: datetime) -> str | None:
    """The value of a valid, unexpired token of this kind; None for anything else."""
    if not token.isascii():  # compare_digest refuses non-ASCII text: it is no token of ours
        return None
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != kind:
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(secret, payload)):
        return None
    try:
        expires = int(parts[2])
    except ValueError:
        return None
    if now.timestamp() > expires:
        return None
    return parts[1]


def sign_account(secret: str, account_id: int, now: datetime) -> str:
    """A token naming ``account_id`` that expires ``ACCOUNT_TOKEN_LIFETIME`` from ``now``."""
    return _sign(secret, "account", str(account_id), now, ACCOUNT_TOKEN_LIFETIME)


def verified_account(secret: str, token: str, now: datetime) -> int | None:
    """The account id in a valid, unexpired token; None for anything else."""
    value = _verified(secret, "account", token, now)
    return ascii_int(value) if value is not None else None


def sign_reading(secret: str, reading_id: UUID, now: datetime) -> str:
    """A token naming ``reading_id`` that expires ``READING_TOKEN_LIFETIME`` from ``now``."""
    return _sign(secret, "reading", reading_id.hex, now, READING_TOKEN_LIFETIME)


def verified_reading(secret: str, token: str, now: datetime) -> UUID | None:
    """The reading id in a valid, unexpired token; None for anything else."""
    value = _verified(secret, "reading", token, now)
    if value is None:
        return None
    try:
        return UUID(hex=value)
    except ValueError:
        return None
