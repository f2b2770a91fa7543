"""Receipt numbers: short codes a customer can read out on the phone.

The alphabet has no look-alikes: of each confusable pair only one is kept (no ``0``,
``O``, ``1``, ``I``, ``L``, ``S``, ``B``, ``G``, ``Z``). What a person types is mapped
back: the dropped letters to the digits they look like, and Cyrillic letters typed on a
Ukrainian keyboard to the Latin letters they look like.
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import plain_text
from pokaznyk_core.domain.verification import (
    VerificationGate,
    VerificationLimits,
    verification_gate,
    wait_minutes,
)

RECEIPT_ALPHABET = "23456789ACDEFHJKMNPQRTUVWXY"
RECEIPT_LENGTH = 9
MAX_RECEIPT_ENTRY_LENGTH = 40
"""The longest text a receipt number field takes (spaces and dashes between the groups
included); anything longer is no receipt number and is not looked at further."""

_TYPED = str.maketrans(
    {
        "S": "5",
        "B": "8",
        "G": "6",
        "Z": "2",
        "А": "A",
        "С": "C",
        "Е": "E",
        "Н": "H",
        "К": "K",
        "М": "M",
        "Р": "P",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "В": "8",
        "З": "3",
    }
)
_DROPPED = frozenset(" -‐‑–—_.\t\n\r\u00a0\u2009\u202f")


def _plain(text: str) -> str:
    """A code as typed, full-width letters and digits as ASCII, invisible marks dropped."""
    return plain_text(unicodedata.normalize("NFKC", text))


def receipt_from_uuid(reading_id: UUID, salt: int = 0, key: bytes = b"") -> str:
    """The receipt code of a reading: a deterministic hash of its id, keyed with the
    service's secret ``key`` (a chat's reading ids follow from the user's platform id, so
    without a key anyone could work out someone's receipt codes).

    A different ``salt`` gives an unrelated code, for the rare collision with a code
    already in use.
    """
    digest = hashlib.blake2b(
        reading_id.bytes + salt.to_bytes(8, "big", signed=True),
        digest_size=8,
        key=hashlib.sha256(key).digest() if key else b"",
        person=b"pokaznyk-receipt",
    ).digest()
    number = int.from_bytes(digest, "big")
    base = len(RECEIPT_ALPHABET)
    chars = []
    for _ in range(RECEIPT_LENGTH):
        number, index = divmod(number, base)
        chars.append(RECEIPT_ALPHABET[index])
    return "".join(chars)


def normalize_receipt(text: str) -> str | None:
    """The receipt code in ``text`` in canonical form, or ``None`` if it is not one.

    Case, spaces and dashes do not matter; look-alike letters are mapped back.
    """
    code = "".join(ch for ch in _plain(text).upper() if ch not in _DROPPED).translate(_TYPED)
    if len(code) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in code):
        return None
    return code


def resembles_receipt(text: str) -> bool:
    """Whether ``text`` looks meant as a receipt code though it is not one (a character
    too many or too few, a letter codes do not have): Latin letters with digits, about a
    code's length (a word, or digits alone, are something else)."""
    code = "".join(ch for ch in _plain(text).upper() if ch not in _DROPPED)
    return (
        RECEIPT_LENGTH - 2 <= len(code) <= RECEIPT_LENGTH + 2
        and code.isascii()
        and code.isalnum()
        and any(ch.isdigit() for ch in code)
        and any(ch.isalpha() for ch in code)
    )


def spoken_receipt(code: str) -> list[str]:
    """The characters of a receipt in the order to read them out, one per item.

    Raises ``ValueError`` when ``code`` is not a receipt.
    """
    normalized = normalize_receipt(code)
    if normalized is None:
        raise ValueError(f"not a receipt code: {code!r}")
    return list(normalized)


def receipt_entry_problem(text: str) -> Problem | None:
    """What makes ``text``, typed where a receipt number is asked for, no receipt number
    (told what one looks like; nothing is looked up). None when it is one."""
    if len(text) > MAX_RECEIPT_ENTRY_LENGTH or normalize_receipt(text) is None:
        return Problem(Code.RECEIPT_FORMAT, {"length": RECEIPT_LENGTH})
    return None


@dataclass(frozen=True)
class ReceiptLookupLimits:
    """How many receipt numbers that find no reading one client (a web address) may try
    before its lookups pause. A receipt number is no proof of identity, and the status of
    a reading is little to tell, but numbers tried one after another must not find the
    readings there are: with about 7.6 * 10^12 possible numbers and a few million
    readings, ten misses an hour make a hit out of reach, and a customer mistyping a
    number (look-alike letters and spacing are read back already) is hardly held up."""

    misses: int = 10
    """Numbers not found within ``window`` that start a pause."""
    window: timedelta = timedelta(hours=1)
    """The span in which a client's misses are counted."""
    pause: timedelta = timedelta(hours=1)
    """How long lookups wait, from the miss that reached the limit."""

    @property
    def remembered_for(self) -> timedelta:
        """How long a miss counts for anything: an older one is never read again."""
        return self.window + self.pause

    def as_attempts(self) -> VerificationLimits:
        """The same limit in the terms of a user's failed attempts."""
        return VerificationLimits(
            user_failures=self.misses, user_window=self.window, user_cooldown=self.pause
        )


def receipt_lookup_gate(
    misses: Sequence[datetime], now: datetime, limits: ReceiptLookupLimits
) -> VerificationGate:
    """Whether a client whose earlier receipt numbers found nothing at ``misses`` may look
    one up at ``now``: counted and paused the way a user's failed verifications are.
    While paused no number is looked up, found or not (answering the numbers that exist
    would tell them apart); the pause says how many minutes are left."""
    gate = verification_gate(misses, [], now, limits.as_attempts())
    if gate.allowed or gate.retry_after is None:
        return gate
    paused = Problem(Code.RECEIPT_LOOKUPS_PAUSED, {"minutes": wait_minutes(gate.retry_after)})
    return dataclasses.replace(gate, problem=paused)
