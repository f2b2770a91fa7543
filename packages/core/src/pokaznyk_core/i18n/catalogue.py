"""Message catalogues: the words for every outcome code, in Ukrainian and English.

The gettext ``.po`` files under ``locales/`` are the single source: a key (an outcome
code such as ``reading.too_low``, a zone name such as ``zone.day``, or any UI string)
and its text with ``%(name)s`` parameters. They are read with Babel at first use and
cached; there is no compile step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

from babel.dates import format_date
from babel.messages.pofile import read_po

from pokaznyk_core.domain.outcomes import Problem

SUPPORTED_LOCALES = ("uk", "en")
DEFAULT_LOCALE = "uk"

_LOCALES_DIR = Path(__file__).parent / "locales"
_ALIASES = {"ua": "uk"}
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Locales that write a decimal comma (``1234,5``).
_DECIMAL_COMMA = frozenset({"uk"})


def normalize_locale(tag: str | None) -> str:
    """The supported locale for a language tag: ``"en-US"`` gives ``"en"``; an unknown
    or missing tag gives the default, Ukrainian."""
    if tag in SUPPORTED_LOCALES:  # the usual case: a dialog's own locale, many times a turn
        return tag
    if not tag:
        return DEFAULT_LOCALE
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    language = _ALIASES.get(language, language)
    return language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE


def catalogue_path(locale: str) -> Path:
    """Where the ``.po`` file of a supported locale lives."""
    return _LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """Every key and its text in ``locale`` (read once, then cached)."""
    with catalogue_path(normalize_locale(locale)).open("rb") as po_file:
        parsed = read_po(po_file, locale=locale)
    messages = {
        message.id: message.string
        for message in parsed
        if isinstance(message.id, str)
        and message.id
        and isinstance(message.string, str)
        and message.string
    }
    return MappingProxyType(messages)


class _Params(dict[str, object]):
    """Parameters for ``%`` formatting; a missing one shows as ``…`` instead of failing."""

    def __missing__(self, key: str) -> object:
        return "…"


def translate(key: str, locale: str, **params: object) -> str:
    """The text of ``key`` in ``locale`` with ``params`` filled in.

    Falls back to the default locale, then to the key itself, so a missing text is
    visible but never an error.
    """
    chosen = normalize_locale(locale)
    zone = params.get("zone")
    if zone is not None and zone in ("total", catalogue(chosen).get("zone.total")):
        # A one-zone meter: its own wording, which names no zone, where there is one.
        key = f"{key}.total" if f"{key}.total" in catalogue(DEFAULT_LOCALE) else key
    if any(params.get(name) in (1, "1") for name in _COUNTS) and f"{key}.one" in catalogue(chosen):
        key = f"{key}.one"  # "in 1 day", where the language says it otherwise than "days"
    text = catalogue(chosen).get(key) or catalogue(DEFAULT_LOCALE).get(key) or key
    if "%" not in text:
        return text
    # A parameter that ends in an abbreviation's full stop ("2026 р.") ends the sentence.
    return _DOUBLE_STOP.sub(".", text % _Params(params))


_COUNTS = ("days", "decimals")
"""Parameters that count something: a text may have a `.one` variant for a count of 1."""
_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


@lru_cache(maxsize=8192)
def format_day(day: date, locale: str, pattern: str = "long") -> str:
    """A date in ``locale`` by a Babel pattern (``long``: ``30 жовтня 2026 р.``).

    Babel parses the pattern and looks up the locale's data on every call, which was a
    few percent of a chatbot message's CPU: the dialog shows a handful of dates again and
    again, so each is formatted once per process.
    """
    return format_date(day, format=pattern, locale=locale)


def months(periods: str, locale: str) -> str:
    """Billing periods ("2026-08 2026-09") as the months they are, each year said once:
    ``серпень і вересень 2026``, ``December 2025 and January 2026``."""
    days = sorted({date(int(p[:4]), int(p[5:7]), 1) for p in _PERIOD.findall(periods)})
    words = translate("word.and", locale)
    parts = []
    for n, day in enumerate(days):
        last_of_year = n == len(days) - 1 or days[n + 1].year != day.year
        parts.append(format_day(day, locale, "LLLL y" if last_of_year else "LLLL"))
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {words} {parts[-1]}"


_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")


def _display(name: str, value: object, locale: str) -> object:
    if name == "zone" or name.endswith("_zone"):
        return translate(f"zone.{value}", locale)
    if name == "periods":
        return months(str(value), locale)
    if isinstance(value, str) and _DECIMAL.fullmatch(value) and locale in _DECIMAL_COMMA:
        return value.replace(".", ",")
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return format_day(date.fromisoformat(value), locale)
        except ValueError:
            return value
    return value


def render(problem: Problem, locale: str, *, voice: bool = False) -> str:
    """The words for ``problem`` in ``locale``; with ``voice``, the phone line's words
    where the catalogue has them (``<code>.voice``: keys to press, not characters to type).

    Zone names are translated, decimal values written the local way (``1234,5`` in
    Ukrainian) and ISO dates spelled out.
    """
    chosen = normalize_locale(locale)
    params = {name: _display(name, value, chosen) for name, value in problem.params.items()}
    key = problem.code.value
    if problem.params.get("max_decimals") == 0 and f"{key}.whole" in catalogue(chosen):
        key = f"{key}.whole"  # "not more than 0 digits after the comma" says it badly
    if problem.params.get("periods") and f"{key}.months" in catalogue(chosen):
        key = f"{key}.months"  # the months the estimates were for, named
    if voice and f"{key}.voice" in catalogue(chosen):
        key = f"{key}.voice"
    return translate(key, chosen, **params)
