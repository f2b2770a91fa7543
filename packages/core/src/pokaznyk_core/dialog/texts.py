"""Words and buttons of the dialog, all from the catalogue (keys ``dialog.*``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cache

from pokaznyk_core.dialog.messages import Button, Reply
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.window import Period
from pokaznyk_core.i18n import (
    SUPPORTED_LOCALES,
    catalogue,
    format_day,
    normalize_locale,
    render,
    translate,
)

DIGITS = "digits"
DECIMAL = "digits_decimal"
CHOICE = "choice"
NONE = "none"

# Button payloads (each at most 64 bytes; ids are appended after the colon).
CANCEL = "cancel"
BACK = "back"
MENU = "menu"
CONFIRM = "confirm"
"""Confirm the values shown now (a typed "yes", an earlier version's button)."""
CONFIRM_PREFIX = "confirm:"
"""A confirmation's button: the values it showed, as a short digest after the colon."""
REENTER = "reenter"
ZERO = "zero"
LATEST = "status:latest"
ACCOUNT_PREFIX = "acc:"
METER_PREFIX = "meter:"
LANG_PREFIX = "lang:"
MENU_SUBMIT = "menu:submit"
SUBMIT_FOR_PREFIX = "menu:submit:"
"""Submit for the account whose id follows (a reminder's button names its account)."""
MENU_STATUS = "menu:status"
MENU_LINK = "menu:link"
MENU_WINDOW = "menu:window"
MENU_CONTACTS = "menu:contacts"
MENU_LANGUAGE = "menu:language"
MENU_REMINDERS = "menu:reminders"
"""The reminders' toggle of earlier menus (still taken from their messages)."""
MENU_REMINDERS_ON = "menu:reminders:on"
MENU_REMINDERS_OFF = "menu:reminders:off"


def confirm_payload(meter_id: int | None, values: tuple[str, ...]) -> str:
    """The payload of the button that confirms exactly ``values`` of that meter (a later
    preview's give another one, so an earlier message's button cannot confirm them)."""
    shown = "|".join((str(meter_id), *values)).encode()
    digest = hashlib.blake2s(shown, digest_size=4).hexdigest()
    return f"{CONFIRM_PREFIX}{digest}"


def is_confirm(payload: str) -> bool:
    """Whether ``payload`` is a confirmation's button, of any preview."""
    return payload == CONFIRM or payload.startswith(CONFIRM_PREFIX)


def t(locale: str, key: str, **params: object) -> str:
    """The catalogue text of ``dialog.<key>`` (a line that starts with a name in lower
    case, a zone or a month, starts with a capital)."""
    text = translate(f"dialog.{key}", locale, **params)
    return text[:1].upper() + text[1:] if key in _LINES else text


_LINES = frozenset(
    {"confirm_zone", "confirm_zone_used", "bill_actual", "bill_estimated", "bill_credit"}
)
"""Texts that are lines of their own and start with a parameter."""


def problem_text(problem: Problem, locale: str, *, voice: bool = False) -> str:
    """The words for a domain outcome (on the phone line, its keypad's words)."""
    return render(problem, locale, voice=voice)


def zone_name(zone: str, locale: str) -> str:
    """A zone's name in ``locale``."""
    return translate(f"zone.{zone}", locale)


def show_value(value: Decimal | str, locale: str) -> str:
    """A reading value the local way (a decimal comma in Ukrainian)."""
    text = f"{value:f}" if isinstance(value, Decimal) else value
    return text.replace(".", ",") if locale == "uk" else text


def show_date(day: date, locale: str) -> str:
    """A date spelled out (``30 жовтня 2026 р.``, ``October 30, 2026``)."""
    return format_day(day, locale)


def show_period(period: Period | str, locale: str) -> str:
    """A billing period as a month and year (``жовтень 2026``, ``October 2026``)."""
    parsed = Period.parse(period) if isinstance(period, str) else period
    if isinstance(parsed, Problem):
        return str(period)
    return format_day(parsed.first_day, locale, "LLLL y")


def button(locale: str, key: str, payload: str) -> Button:
    """A button labelled with ``dialog.button.<key>``, and with ``dialog.button_short.<key>``
    where the catalogue has one (a label too long for some platform's buttons)."""
    short = catalogue(normalize_locale(locale)).get(f"dialog.button_short.{key}", "")
    return Button(label=t(locale, f"button.{key}"), payload=payload, short=short)


_TYPED_BUTTONS: tuple[tuple[str, str], ...] = (
    ("submit", MENU_SUBMIT),
    ("readings_and_bills", MENU_STATUS),
    ("status", MENU_STATUS),
    ("link", MENU_LINK),
    ("link_first", MENU_LINK),
    ("window", MENU_WINDOW),
    ("contacts", MENU_CONTACTS),
    ("language", MENU_LANGUAGE),
    ("language_voice", MENU_LANGUAGE),
    ("latest_and_bills", LATEST),
    ("confirm", CONFIRM),
    ("reenter", REENTER),
    ("zero", ZERO),
    ("reminders_on", MENU_REMINDERS_ON),
    ("reminders_off", MENU_REMINDERS_OFF),
)
"""Buttons whose label typed as a message means the button."""


def typed_label_key(text: str) -> str:
    """`text` folded the way `typed_button` compares labels: case, spaces, emoji and
    punctuation around the words do not count."""
    words = "".join(c if c.isalnum() or c in "'’ʼ" else " " for c in text.casefold())
    return " ".join(words.replace("’", "'").replace("ʼ", "'").split())


@cache
def _typed_buttons() -> dict[str, str]:
    found: dict[str, str] = {}
    for locale in SUPPORTED_LOCALES:
        labels = catalogue(locale)
        for key, payload in _TYPED_BUTTONS:
            for name in (f"dialog.button.{key}", f"dialog.button_short.{key}"):
                if name in labels:
                    found.setdefault(typed_label_key(labels[name]), payload)
    return found


def typed_button(text: str) -> str | None:
    """The payload of the button whose label `text` is (in either language), or None:
    a customer who types "Передати показники" or "Підтвердити" means the button."""
    return _typed_buttons().get(typed_label_key(text))


def not_handled(locale: str) -> Reply:
    """The answer to a message the service failed to handle by a fault of its own: nothing
    was done, send it again (or start over from the menu)."""
    return Reply(
        text=t(locale, "not_handled"), buttons=rows(button(locale, "menu", MENU)), locale=locale
    )


def rows(*buttons: Button) -> tuple[tuple[Button, ...], ...]:
    """One button per row."""
    return tuple((b,) for b in buttons)


def nav(locale: str, *, back: bool = True) -> tuple[Button, ...]:
    """The back and cancel buttons, on one row."""
    found = [button(locale, "back", BACK)] if back else []
    return (*found, button(locale, "cancel", CANCEL))


def reply(
    locale: str,
    text: str,
    buttons: Iterable[tuple[Button, ...]] = (),
    *,
    hint: str = NONE,
    request_contact: bool = False,
    hide_keyboard: bool = False,
    speech: tuple[str, ...] = (),
) -> Reply:
    """A reply in ``locale``."""
    return Reply(
        text=text,
        buttons=tuple(buttons),
        request_contact=request_contact,
        input_hint=hint,
        locale=locale,
        speech=speech,
        hide_keyboard=hide_keyboard,
    )


def join(*parts: str) -> str:
    """Paragraphs, skipping empty ones."""
    return "\n\n".join(p for p in parts if p)
