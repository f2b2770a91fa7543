"""Typed meter values: from what a person typed to an exact ``Decimal``, and back."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem

_NUMBER = re.compile(r"(-?)([0-9]*)(?:[.,]([0-9]*))?")

_UNIT_AFTER = re.compile(r"(?<=\d)\s*(?:kwh|квт\s*[·*.]?\s*год|квт|kw)\.?\s*$", re.IGNORECASE)
"""The unit a value may be written with ("8000 kWh", "8 900,5 кВт·год"): no part of it."""

_WIDE_SEPARATORS = {"，": ",", "．": ".", "٫": ",", "٬": " ", "－": "-"}
"""Full-width and Arabic separators, as their ASCII forms."""


def plain_text(text: str) -> str:
    """Text as typed, without what a keyboard or a copy adds that is no character of its
    own: format characters (zero-width joiners, direction marks, a soft hyphen from a PDF
    bill) dropped, and digits and separators of other scripts and widths (full-width
    １２３, Arabic-Indic ٣, the Arabic decimal point) in their ASCII forms."""
    if text.isascii():
        return text
    kept = []
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            continue
        digit = unicodedata.decimal(ch, None)
        kept.append(str(digit) if digit is not None else _WIDE_SEPARATORS.get(ch, ch))
    return "".join(kept)


def ascii_int(text: str, *, max_digits: int = 18) -> int | None:
    """The whole number `text` is, written in ASCII digits only, or None: `str.isdigit`
    also takes "²", "①" and other scripts' digits, which `int` refuses or reads as other
    numbers. At most `max_digits` digits (a database's bigint holds 18)."""
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None


def without_trailing_zeros(value: Decimal) -> Decimal:
    """The same quantity without trailing zeros: ``212`` rather than ``212.0``, ``40.5``
    rather than ``40.50`` (an amount of kWh as a person says it)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def value_lines(text: str) -> list[str]:
    """The lines of `text` that hold something: a value each, when several were sent in
    one message (``"4070\n8510"``: two zones' values, not 40708510)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def separate_values(text: str) -> list[str]:
    """The values a message holds where several may come at once (a chat, at a meter of
    several zones): one a line, or numbers on one line whose spaces do not group thousands
    (``"4070 8510"``). Spaces that group thousands (``"12 345,6"``), space out the display's
    digits (``"0 4 0 7 0"``) or follow a decimal point (``"4070, 5"``) are one value."""
    return _apart(text, thousands=True)


def spaced_apart(text: str) -> list[str]:
    """The numbers of `text` taken apart at every space (``"150 100"``: two), as
    `separate_values` would where no thousands are grouped; the caller chooses which
    reading fits (a decimal point typed apart, and digits spaced out, still join)."""
    return _apart(text, thousands=False)


def _apart(text: str, *, thousands: bool) -> list[str]:
    """The values of `text`, a line each, a line's numbers apart unless they are digits
    spaced out (or, with `thousands`, thousands grouped)."""
    values: list[str] = []
    for line in value_lines(text):
        groups = _joined_decimals(line.split())
        numbers = len(groups) > 1 and all(map(_NUMBER_GROUP.fullmatch, groups))
        if numbers and not _one(groups, thousands=thousands):
            values.extend(groups)
        else:
            values.append(line)
    return values


_NUMBER_GROUP = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


def _joined_decimals(groups: list[str]) -> list[str]:
    """Groups with a decimal point typed apart (``4070,`` ``5``, or ``4070`` ``,5``) joined."""
    joined: list[str] = []
    for group in groups:
        if joined and (joined[-1][-1] in ".," or group[0] in ".,"):
            joined[-1] += group
        else:
            joined.append(group)
    return joined


def _one(groups: list[str], *, thousands: bool) -> bool:
    """Whether numbers a line has, split by spaces, are the parts of one number: digits
    spaced out, or (with `thousands`) thousands grouped."""
    if all(len(group) == 1 for group in groups):
        return True  # digits spaced out
    if not thousands:
        return False
    integers = [_DECIMAL_POINT.split(group)[0] for group in groups]
    if any(_DECIMAL_POINT.search(group) for group in groups[:-1]):
        return False  # decimals before the last group: two numbers
    return len(integers[0]) <= 3 and all(len(integer) == 3 for integer in integers[1:])


_DECIMAL_POINT = re.compile(r"[.,]")


def parse_value(
    text: str, meter: MeterSpec, *, truncate_extra_decimals: bool = False
) -> Decimal | Problem:
    """Read a register value typed by a person (or sent by a smart meter).

    Spaces are ignored (``"12 345,6"``), and so is a unit after the value (``"8000 kWh"``),
    but numbers on lines of their own are several values, never one; one ``,`` or ``.``
    separates the decimals; anything else (apostrophes, signs, letters, a second
    separator) is not a number. Leading zeros do not count towards the meter's digits.
    Decimals beyond the meter's are refused, unless they are all zeros or
    ``truncate_extra_decimals`` is set, when they are cut off (truncated, never rounded).
    The result has exactly ``meter.decimals`` places.
    """
    text = _UNIT_AFTER.sub("", plain_text(text))
    if len(value_lines(text)) > 1:
        return Problem(Code.VALUE_SEVERAL)
    compact = "".join(ch for ch in text if not ch.isspace())
    if not compact:
        return Problem(Code.VALUE_EMPTY)
    match = _NUMBER.fullmatch(compact)
    if match is None:
        return Problem(Code.VALUE_NOT_A_NUMBER)
    sign, integer, fraction = match.group(1), match.group(2), match.group(3) or ""
    if not integer and not fraction:
        return Problem(Code.VALUE_NOT_A_NUMBER)
    if sign:
        return Problem(Code.VALUE_NEGATIVE)
    if len(integer.lstrip("0")) > meter.digits:
        return Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": meter.digits})
    extra = fraction[meter.decimals :]
    if extra.strip("0") and not truncate_extra_decimals:
        return Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": meter.decimals})
    kept = fraction[: meter.decimals]
    return meter.quantize(Decimal(f"{integer or '0'}.{kept or '0'}"))


def format_value(value: Decimal, meter: MeterSpec) -> str:
    """The storage and JSON form of a value: ``meter.decimals`` places, ``.`` separator,
    e.g. ``"1234.5"``; extra decimals are truncated."""
    return meter.format(value)
