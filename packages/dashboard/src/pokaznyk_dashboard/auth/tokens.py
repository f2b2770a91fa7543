"""Signed form tokens: the account a visitor verified on /submit, carried in a hidden
field between the steps, so the form works without JavaScript or cookies and any server
process can continue it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

ACCOUNT_TOKEN_LIFETIME = timedelta(minutes=30)


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign_account(secret: str, account_id: int, now: datetime) -> str:
    """A token naming ``account_id`` that expires ``ACCOUNT_TOKEN_LIFETIME`` from ``now``."""
    expires = int((now + ACCOUNT_TOKEN_LIFETIME).timestamp())
    payload = f"account.{account_id}.{expires}"
    return f"{payload}.{_signature(secret, payload)}"


def verified_account(secret: str, token: str, now: datetime) -> int | None:
    """The account id in a valid, unexpired token; None for anything else."""
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != "account":
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(secret, payload)):
        return None
    try:
        account_id, expires = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    if now.timestamp() > expires:
        return None
    return account_id
