"""Words for the domain's outcome codes, in the customer's language (uk, en)."""

from pokaznyk_core.i18n.catalogue import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    catalogue,
    format_day,
    normalize_locale,
    render,
    translate,
)

__all__ = [
    "DEFAULT_LOCALE",
    "SUPPORTED_LOCALES",
    "catalogue",
    "format_day",
    "normalize_locale",
    "render",
    "translate",
]
