"""Tariff zones of a meter: one register per zone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum


class Zone(StrEnum):
    """A tariff zone; the value is the name used in storage, JSON and the catalogue."""

    TOTAL = "total"
    DAY = "day"
    NIGHT = "night"
    PEAK = "peak"
    HALF_PEAK = "half_peak"


ZoneValues = Mapping[Zone, Decimal]

_ZONES_BY_COUNT: dict[int, tuple[Zone, ...]] = {
    1: (Zone.TOTAL,),
    2: (Zone.DAY, Zone.NIGHT),
    3: (Zone.PEAK, Zone.HALF_PEAK, Zone.NIGHT),
}

MIN_ZONE_COUNT = 1
MAX_ZONE_COUNT = 3


def zones_for(zone_count: int) -> tuple[Zone, ...]:
    """Return the zones of a meter with ``zone_count`` registers, in display order.

    Raises ``ValueError`` for a count other than 1, 2 or 3.
    """
    try:
        return _ZONES_BY_COUNT[zone_count]
    except KeyError:
        raise ValueError(f"a meter has 1 to 3 zones, not {zone_count}") from None


_ZONE_WORDS: Mapping[str, Zone] = {
    **dict.fromkeys(("загальна", "загальний", "total"), Zone.TOTAL),
    **dict.fromkeys(("день", "денна", "денний", "вдень", "day"), Zone.DAY),
    **dict.fromkeys(("ніч", "нічна", "нічний", "вночі", "night"), Zone.NIGHT),
    **dict.fromkeys(("пік", "пікова", "піковий", "peak"), Zone.PEAK),
    **dict.fromkeys(("напівпік", "напівпікова", "напівпіковий", "halfpeak"), Zone.HALF_PEAK),
}
"""The words people write a zone's value after ("день 12500 ніч 9200", "day 12500")."""
_UNIT_WORDS = frozenset(("kwh", "квт", "год", "квт·год", "kw"))
_BETWEEN = " \t\r\n,;:=."
"""What may stand between the words and the values besides them."""
_HALF_PEAK = re.compile(r"\b(half|напів)[\s-]+(peak|пік)")
_PARTS = re.compile(r"(\d[\d\s.,]*\d|\d)|([^\W\d_][^\W\d_·*]*(?:[·*][^\W\d_]+)?)")


def _folded(text: str) -> str:
    """The text as the zone words are looked up in: lower case, "half peak" one word."""
    return _HALF_PEAK.sub(lambda m: m.group(1) + m.group(2), text.casefold()).replace("*", "·")


def labelled_values(text: str, zones: tuple[Zone, ...]) -> list[tuple[Zone, str]] | None:
    """The values of a message that names their zones ("день 12500 ніч 9200", "night: 9200")
    or their unit ("8 900,5 kWh" at a one-zone meter), each after its zone's word, units
    left out; None when the text is no such message: no word at all, a word that is neither
    a unit nor a zone of this meter, a zone named twice or without a value, or a value
    without a zone where the meter has several."""
    found: list[tuple[Zone, str]] = []
    named: Zone | None = None
    worded = False
    folded = _folded(text)
    if _PARTS.sub("", folded).strip(_BETWEEN):  # a sign or a symbol: "-1100 kWh", "≈8900"
        return None
    for number, word in _PARTS.findall(folded):
        if word:
            worded = True
            if word in _UNIT_WORDS:
                continue
            zone = _ZONE_WORDS.get(word)
            if zone not in zones or named is not None or any(z is zone for z, _ in found):
                return None
            named = zone
        elif named is not None:
            found.append((named, number.strip()))
            named = None
        elif len(zones) == 1 and not found:
            found.append((zones[0], number.strip()))
        else:
            return None
    if not worded or named is not None or not found:
        return None
    return found


def names_zones(text: str) -> bool:
    """Whether `text` has a zone's word in it (of any meter), as `labelled_values` reads."""
    folded = _folded(text)
    return any(word in _ZONE_WORDS for _, word in _PARTS.findall(folded) if word)
