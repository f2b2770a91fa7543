"""Receipt numbers: short codes a customer can read out on the phone.

The alphabet has no look-alikes: of each confusable pair only one is kept (no ``0``,
``O``, ``1``, ``I``, ``L``, ``S``, ``B``, ``G``, ``Z``). What a person types is mapped
back: the dropped letters to the digits they look like, and Cyrillic letters typed on a
Ukrainian keyboard to the Latin letters they look like.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

RECEIPT_ALPHABET = "23456789ACDEFHJKMNPQRTUVWXY"
RECEIPT_LENGTH = 9

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
    code = "".join(ch for ch in text.upper() if ch not in _DROPPED).translate(_TYPED)
    if len(code) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in code):
        return None
    return code


def resembles_receipt(text: str) -> bool:
    """Whether ``text`` looks meant as a receipt code though it is not one (a character
    too many or too few, a letter codes do not have): Latin letters with digits, about a
    code's length (a word, or digits alone, are something else)."""
    code = "".join(ch for ch in text.upper() if ch not in _DROPPED)
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
