"""The state of one conversation: small, JSON-serialisable and versioned.

The service keeps it in the `dialog_state` table between messages, so any server process
can answer the next one. A state written by an older version that cannot be read is
replaced by a fresh one (the customer lands on the menu), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

STATE_VERSION = 1
"""The shape of the stored state; bump it when a field changes meaning."""


class Stage(StrEnum):
    """Where the conversation stands: what the next message answers."""

    NEW = "new"  # never talked, or reset: the next message gets the greeting
    MENU = "menu"
    ASK_ACCOUNT = "ask_account"  # verification: account number or EIC (or a contact)
    ASK_SURNAME = "ask_surname"  # verification: the holder's surname
    CHOOSE_ACCOUNT = "choose_account"
    CHOOSE_METER = "choose_meter"
    ENTER_ZONE = "enter_zone"
    CONFIRM = "confirm"
    AWAIT_PHOTO = "await_photo"  # a flagged reading was stored: a photo may follow
    ASK_RECEIPT = "ask_receipt"  # status: a receipt code, or the latest reading
    LANGUAGE = "language"


class Purpose(StrEnum):
    """Why the customer is verifying: what follows a success."""

    SUBMIT = "submit"
    LINK = "link"
    STATUS = "status"


@dataclass(frozen=True)
class DialogState:
    """One conversation's state.

    ``values`` holds the zone values typed so far, as canonical decimal strings in the
    meter's zone order ("" for a zone not yet entered). ``nonce`` counts the readings
    started; with the user it names the reading id, so a repeated confirmation stores
    one reading. ``guest_account_id`` is the account a phone caller named in this call:
    ``caller_verified`` when the caller's number is on it (they hear its data), otherwise
    they submit as a guest and hear none. A call's account is never linked: the next call
    names its account again. ``locked_until`` is when a chat user's verification cooldown
    ends, as the last refused attempt told it: until then they are told so before typing
    an account number and a surname in vain.
    """

    stage: Stage = Stage.NEW
    locale: str = ""
    last_seen: str = ""
    purpose: Purpose = Purpose.SUBMIT
    pending_account: str = ""
    account_id: int | None = None
    meter_id: int | None = None
    zone_index: int = 0
    values: tuple[str, ...] = ()
    nonce: int = 0
    reading_id: str = ""
    guest_account_id: int | None = None
    caller_verified: bool = False
    locked_until: str = ""
    version: int = field(default=STATE_VERSION)

    def seen_at(self) -> datetime | None:
        """When the customer last wrote, or None for a new state."""
        return datetime.fromisoformat(self.last_seen) if self.last_seen else None

    def locked_at(self, now: datetime) -> timedelta | None:
        """How long the verification cooldown told last still runs at ``now`` (None when
        there is none)."""
        if not self.locked_until:
            return None
        left = datetime.fromisoformat(self.locked_until) - now
        return left if left > timedelta(0) else None

    def at(self, stage: Stage, **changes: Any) -> DialogState:
        """A copy at ``stage`` with ``changes``."""
        return replace(self, stage=stage, **changes)

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {  # field by field: `asdict` deep-copies, and this runs on every message
            "stage": self.stage.value,
            "locale": self.locale,
            "last_seen": self.last_seen,
            "purpose": self.purpose.value,
            "pending_account": self.pending_account,
            "account_id": self.account_id,
            "meter_id": self.meter_id,
            "zone_index": self.zone_index,
            "values": list(self.values),
            "nonce": self.nonce,
            "reading_id": self.reading_id,
            "guest_account_id": self.guest_account_id,
            "caller_verified": self.caller_verified,
            "locked_until": self.locked_until,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogState:
        """Back from `to_json`; anything unreadable (or of another version) is a new state."""
        if not data or data.get("version") != STATE_VERSION:
            return cls()
        try:
            return cls(
                stage=Stage(data.get("stage", Stage.NEW.value)),
                locale=str(data.get("locale", "")),
                last_seen=str(data.get("last_seen", "")),
                purpose=Purpose(data.get("purpose", Purpose.SUBMIT.value)),
                pending_account=str(data.get("pending_account", "")),
                account_id=_opt_int(data.get("account_id")),
                meter_id=_opt_int(data.get("meter_id")),
                zone_index=int(data.get("zone_index", 0)),
                values=tuple(str(v) for v in data.get("values", ())),
                nonce=int(data.get("nonce", 0)),
                reading_id=str(data.get("reading_id", "")),
                guest_account_id=_opt_int(data.get("guest_account_id")),
                caller_verified=bool(data.get("caller_verified", False)),
                locked_until=str(data.get("locked_until", "")),
            )
        except (ValueError, TypeError):
            return cls()


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
