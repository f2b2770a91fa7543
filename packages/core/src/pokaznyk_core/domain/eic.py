"""ENTSO-E Energy Identification Codes (EIC) of metering points.

16 characters: a 2-character issuing office (``62`` for Ukrainian electricity), an
object type (``Z`` for a metering point), 12 characters of ``0-9 A-Z -`` and a check
character computed by the EIC algorithm.
"""

from __future__ import annotations

from pokaznyk_core.domain.outcomes import Code, Problem

EIC_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
EIC_LENGTH = 16
EIC_BODY_LENGTH = 12
METERING_POINT_PREFIX = "62Z"

_VALUE = {ch: i for i, ch in enumerate(EIC_ALPHABET)}
_UNISSUED_CHECK = "-"


def eic_check_character(first15: str) -> str:
    """The check character of an EIC whose first 15 characters are ``first15``.

    Weights 16…2 multiply the character values; ``check = 36 - ((sum - 1) mod 37)``.
    A result of ``-`` means no code with these 15 characters is ever issued. Raises
    ``ValueError`` when ``first15`` is not 15 characters of the EIC alphabet.
    """
    if len(first15) != EIC_LENGTH - 1 or any(ch not in _VALUE for ch in first15):
        raise ValueError(f"not the first 15 characters of an EIC: {first15!r}")
    total = sum(_VALUE[ch] * weight for ch, weight in zip(first15, range(16, 1, -1), strict=True))
    return EIC_ALPHABET[36 - ((total - 1) % 37)]


# Cyrillic capitals that look like Latin ones, typed with the wrong keyboard layout.
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНІКМОРТХУ", "ABCEHIKMOPTXY")


def validate_eic(text: str, *, required_prefix: str | None = None) -> str | Problem:
    """Return the EIC in ``text`` in its canonical form, or what is wrong with it.

    Whitespace is ignored and letters are uppercased. With ``required_prefix`` (e.g.
    ``"62Z"`` where a metering point is asked for) another prefix is refused.
    """
    code = "".join(text.split()).upper().translate(_CYRILLIC_LOOKALIKES)
    if len(code) != EIC_LENGTH:
        return Problem(Code.EIC_LENGTH, {"length": EIC_LENGTH})
    for position, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            return Problem(Code.EIC_CHARACTER, {"character": ch, "position": position})
    if code[-1] == _UNISSUED_CHECK or eic_check_character(code[:-1]) != code[-1]:
        return Problem(Code.EIC_CHECK_CHARACTER)
    if required_prefix is not None and not code.startswith(required_prefix):
        return Problem(Code.EIC_PREFIX, {"prefix": required_prefix})
    return code


def make_eic(body: str, prefix: str = METERING_POINT_PREFIX) -> str:
    """Build a valid EIC: ``prefix`` + the 12-character ``body`` + the check character.

    Raises ``ValueError`` for a body that is not 12 characters of the alphabet, a prefix
    that is not 3, or a body whose check value would be ``-`` (such codes are never
    issued).
    """
    body = body.upper()
    prefix = prefix.upper()
    if len(body) != EIC_BODY_LENGTH or len(prefix) != EIC_LENGTH - 1 - EIC_BODY_LENGTH:
        raise ValueError(f"an EIC is a 3-character prefix and a 12-character body: {body!r}")
    check = eic_check_character(prefix + body)
    if check == _UNISSUED_CHECK:
        raise ValueError(f"no EIC is issued with the body {body!r}")
    return prefix + body + check
