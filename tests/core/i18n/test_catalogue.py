import re

import pytest

from pokaznyk_core.domain import CODE_PARAMS, Code, Problem, Zone
from pokaznyk_core.i18n import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    catalogue,
    normalize_locale,
    render,
    translate,
)
from pokaznyk_core.i18n.catalogue import catalogue_path

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_has_a_message_for_every_code(locale: str) -> None:
    missing = [code.value for code in Code if code.value not in catalogue(locale)]
    assert missing == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_names_every_zone(locale: str) -> None:
    assert all(f"zone.{zone.value}" in catalogue(locale) for zone in Zone)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_defines_every_key_once(locale: str) -> None:
    """A key written twice keeps one text and silently loses the other (a receipt's note once
    said another message's words, its placeholders unfilled)."""
    keys = re.findall(r'^msgid "(.+)"$', catalogue_path(locale).read_text(), re.MULTILINE)
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


def test_has_the_same_keys_in_every_locale() -> None:
    assert set(catalogue("uk")) == set(catalogue("en"))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_uses_only_the_parameters_a_code_carries(locale: str) -> None:
    wrong = {
        code.value: placeholders(catalogue(locale)[code.value]) - CODE_PARAMS[code]
        for code in Code
        if placeholders(catalogue(locale)[code.value]) - CODE_PARAMS[code]
    }
    assert wrong == {}


def test_asks_for_the_same_parameters_in_every_locale() -> None:
    for key, text in catalogue("uk").items():
        assert placeholders(text) == placeholders(catalogue("en")[key]), key


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_writes_only_named_parameters(locale: str) -> None:
    for key, text in catalogue(locale).items():
        stripped = PLACEHOLDER.sub("", text).replace("%%", "")
        assert "%" not in stripped, key


@pytest.mark.parametrize(
    ("tag", "locale"),
    [("en-US", "en"), ("en_GB", "en"), ("EN", "en"), ("uk-UA", "uk"), ("ua", "uk"),
     ("ru", "uk"), ("de", "uk"), ("", "uk"), (None, "uk")],
)  # fmt: skip
def test_picks_a_supported_locale_for_any_language_tag(tag: str | None, locale: str) -> None:
    assert normalize_locale(tag) == locale


def test_speaks_ukrainian_by_default() -> None:
    assert DEFAULT_LOCALE == "uk"
    assert translate("zone.day", "ru") == "день"


def test_translates_zone_names() -> None:
    assert translate("zone.day", "uk") == "день"
    assert translate("zone.night", "en") == "night"


def test_renders_a_too_low_reading_in_natural_ukrainian() -> None:
    problem = Problem(Code.READING_TOO_LOW, {"zone": "day", "previous": "1234.5"}, "day")
    assert render(problem, "uk") == (
        "Показник зони «день» менший за попередній (1234,5). Перевірте цифри та надішліть ще раз."
    )


def test_renders_in_english_with_a_decimal_point() -> None:
    problem = Problem(Code.READING_TOO_LOW, {"zone": "half_peak", "previous": "1234.5"})
    assert "half-peak" in render(problem, "en")
    assert "1234.5" in render(problem, "en-GB")


def test_names_both_zones_of_a_swapped_reading() -> None:
    problem = Problem(Code.READING_ZONES_SWAPPED, {"zone": "day", "other_zone": "night"})
    text = render(problem, "uk")
    assert "«день»" in text
    assert "«ніч»" in text


def test_spells_out_dates() -> None:
    problem = Problem(Code.READING_IN_FUTURE, {"today": "2026-04-01"})
    assert "1 квітня 2026" in render(problem, "uk")
    assert "April 1, 2026" in render(problem, "en")


def test_keeps_the_account_hold_as_vague_as_a_generic_try_later() -> None:
    for locale in SUPPORTED_LOCALES:
        text = render(Problem(Code.VERIFICATION_ACCOUNT_HELD), locale).lower()
        for word in ("рахун", "account", "заблок", "block", "held", "прізвищ", "surname"):
            assert word not in text


def test_never_says_which_part_of_a_verification_was_wrong() -> None:
    assert render(Problem(Code.VERIFICATION_FAILED), "uk") == translate("verification.failed", "uk")
    assert CODE_PARAMS[Code.VERIFICATION_FAILED] == frozenset()


def test_shows_a_missing_key_as_itself() -> None:
    assert translate("no.such.key", "en") == "no.such.key"


def test_does_not_fail_on_a_missing_parameter() -> None:
    assert "…" in translate("reading.too_low", "en")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("code", list(Code), ids=lambda code: code.value)
def test_renders_every_code_with_its_parameters_filled(code: Code, locale: str) -> None:
    params: dict[str, str | int] = dict.fromkeys(CODE_PARAMS[code], 7)
    for name in CODE_PARAMS[code]:
        if name == "zone" or name.endswith("_zone"):
            params[name] = "day"
    text = render(Problem(code, params), locale)
    assert "%(" not in text
    assert "…" not in text
    assert text.strip() == text
    assert text[0].isupper() or text[0] in "«“"


def test_a_one_zone_meter_is_spoken_of_without_naming_its_zone() -> None:
    low = Problem(Code.READING_TOO_LOW, {"zone": "total", "previous": "1000.0"})
    assert render(low, "uk").startswith("Показник менший за попередній (1000,0)")
    assert render(low, "en").startswith("The reading is lower than the previous one (1000.0)")
    night = Problem(Code.READING_TOO_LOW, {"zone": "night", "previous": "1000.0"})
    assert "«ніч»" in render(night, "uk")
    shown = translate("dialog.confirm_zone", "uk", zone=translate("zone.total", "uk"), value="5")
    assert shown == "Показник: 5"


def test_a_meter_without_decimals_is_told_it_shows_whole_numbers() -> None:
    whole = Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 0})
    tenths = Problem(Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 1})
    assert "лише цілі числа" in render(whole, "uk")
    assert "whole numbers only" in render(whole, "en")
    assert "без зірочки" in render(whole, "uk", voice=True)
    assert "не більше 1" in render(tenths, "uk")
    assert "зірочки" in render(tenths, "uk", voice=True)


def test_one_day_is_said_in_the_singular() -> None:
    one = translate("reading.high_consumption", "en", consumption="100", days=1)
    assert "100 kWh in 1 day)" in one
    assert "in 3 days)" in translate("reading.high_consumption", "en", consumption="9", days=3)
    assert "за 1 день)" in translate("reading.above_household_cap", "uk", consumption="9", days=1)
    assert "1 digit after" in translate("dialog.enter_format", "en", decimals=1)
    assert "2 digits after" in translate("dialog.enter_format", "en", decimals=2)
