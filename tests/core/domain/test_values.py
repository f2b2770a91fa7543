from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import format_value, parse_value, separate_values

SIX_ONE = MeterSpec(digits=6, decimals=1, zone_count=1)
FIVE_ZERO = MeterSpec(digits=5, decimals=0, zone_count=1)

meters = st.builds(
    MeterSpec,
    digits=st.integers(4, 8),
    decimals=st.integers(0, 3),
    zone_count=st.integers(1, 3),
)


@st.composite
def meter_and_value(draw: st.DrawFn) -> tuple[MeterSpec, Decimal]:
    meter = draw(meters)
    units = draw(st.integers(0, 10 ** (meter.digits + meter.decimals) - 1))
    return meter, meter.from_units(units)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.5"),
        ("1234,5", "1234.5"),
        ("1234", "1234.0"),
        (" 12 345,6 ", "12345.6"),
        ("12\u00a0345.6", "12345.6"),
        ("12\u2009345.6", "12345.6"),
        ("12\u202f345.6", "12345.6"),
        ("001234.5", "1234.5"),
        ("0000999999.9", "999999.9"),
        (",5", "0.5"),
        ("7.", "7.0"),
        ("1234.50", "1234.5"),
        ("0", "0.0"),
    ],
)
def test_parses_what_people_type(text: str, expected: str) -> None:
    assert parse_value(text, SIX_ONE) == Decimal(expected)


def test_gives_exactly_the_meters_decimals() -> None:
    parsed = parse_value("1234", SIX_ONE)
    assert isinstance(parsed, Decimal)
    assert parsed.as_tuple().exponent == -1


@pytest.mark.parametrize("text", ["", "   ", "\u00a0"])
def test_says_a_blank_answer_is_empty(text: str) -> None:
    assert parse_value(text, SIX_ONE) == Problem(Code.VALUE_EMPTY)


@pytest.mark.parametrize(
    "text",
    [
        "12'345",
        "12’345",
        "1,234.5",
        "1.2.3",
        "12a4",
        "один",
        ".",
        "+12",
        "1e3",
        "--1",
    ],
)
def test_refuses_anything_but_digits_and_one_separator(text: str) -> None:
    assert parse_value(text, SIX_ONE) == Problem(Code.VALUE_NOT_A_NUMBER)


def test_says_a_negative_value_is_negative() -> None:
    assert parse_value("-12.5", SIX_ONE) == Problem(Code.VALUE_NEGATIVE)


def test_refuses_more_integer_digits_than_the_meter_has_and_says_how_many() -> None:
    assert parse_value("1234567", SIX_ONE) == Problem(Code.VALUE_TOO_MANY_DIGITS, {"max_digits": 6})


def test_refuses_more_decimals_than_the_meter_has_and_says_how_many() -> None:
    assert parse_value("1234.56", SIX_ONE) == Problem(
        Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 1}
    )
    assert parse_value("1234.5", FIVE_ZERO) == Problem(
        Code.VALUE_TOO_MANY_DECIMALS, {"max_decimals": 0}
    )


def test_accepts_trailing_zero_decimals_on_a_meter_without_decimals() -> None:
    assert parse_value("1234,0", FIVE_ZERO) == Decimal(1234)


def test_truncates_extra_decimals_for_smart_meters_and_never_rounds() -> None:
    assert parse_value("1234.59", SIX_ONE, truncate_extra_decimals=True) == Decimal("1234.5")
    assert parse_value("999999.99", SIX_ONE, truncate_extra_decimals=True) == Decimal("999999.9")
    assert parse_value("1234.9", FIVE_ZERO, truncate_extra_decimals=True) == Decimal(1234)


def test_formats_values_in_storage_form() -> None:
    assert format_value(Decimal("1234.5"), SIX_ONE) == "1234.5"
    assert format_value(Decimal(1234), SIX_ONE) == "1234.0"
    assert format_value(Decimal("1234.56"), SIX_ONE) == "1234.5"
    assert format_value(Decimal(7), FIVE_ZERO) == "7"
    assert format_value(Decimal("0.0001"), MeterSpec(8, 3, 1)) == "0.000"


@given(meter_and_value())
def test_parses_what_it_formats(case: tuple[MeterSpec, Decimal]) -> None:
    meter, value = case
    assert parse_value(format_value(value, meter), meter) == value


@given(meter_and_value(), st.sampled_from([" ", "\u00a0", "\u2009", "\t"]))
def test_ignores_spaces_between_digit_groups_and_takes_a_comma(
    case: tuple[MeterSpec, Decimal], space: str
) -> None:
    meter, value = case
    text = format_value(value, meter).replace(".", ",")
    spaced = space.join(text)
    assert parse_value(spaced, meter) == value


@pytest.mark.parametrize("text", ["4070\n8510", "4070\r\n8510\n", "1\u20282"])
def test_numbers_on_lines_of_their_own_are_several_values_never_one(text: str) -> None:
    meter = MeterSpec(digits=8, decimals=1, zone_count=1)
    assert parse_value(text, meter) == Problem(Code.VALUE_SEVERAL)
    assert parse_value("4070\n", meter) == Decimal("4070.0")  # one line, its end typed too


@given(meters, st.decimals(min_value=0, max_value=10**8, places=6, allow_nan=False))
def test_truncation_never_gives_more_than_was_typed(meter: MeterSpec, typed: Decimal) -> None:
    parsed = parse_value(f"{typed:f}", meter, truncate_extra_decimals=True)
    if isinstance(parsed, Problem):
        assert parsed.code is Code.VALUE_TOO_MANY_DIGITS
        assert typed >= meter.modulus
    else:
        assert parsed <= typed < parsed + meter.step


@given(meters, st.integers(min_value=1))
def test_refuses_every_value_past_the_meters_digits(meter: MeterSpec, extra: int) -> None:
    too_big = int(meter.modulus) + extra
    assert parse_value(str(too_big), meter) == Problem(
        Code.VALUE_TOO_MANY_DIGITS, {"max_digits": meter.digits}
    )


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("4070 8510", ["4070", "8510"]),
        ("500 1050", ["500", "1050"]),
        ("12,5 300", ["12,5", "300"]),
        ("12 345,6", ["12 345,6"]),  # thousands grouped
        ("1 234 567", ["1 234 567"]),
        ("0 4 0 7 0", ["0 4 0 7 0"]),  # digits spaced out as on the display
        ("4070, 5", ["4070, 5"]),  # a space after the decimal point
        ("4070 ,5", ["4070 ,5"]),
        ("4070\n8510", ["4070", "8510"]),
    ],
)
def test_tells_numbers_spaced_apart_from_one_number_grouped(text: str, values: list[str]) -> None:
    assert separate_values(text) == values


def test_a_single_value_ignores_its_spaces_wherever_they_are() -> None:
    meter = MeterSpec(digits=7, decimals=2, zone_count=1)
    assert parse_value("4070, 5", meter) == Decimal("4070.50")
    assert parse_value("40 70", meter) == Decimal("4070.00")
    assert parse_value("54 100,5", meter) == Decimal("54100.50")


@pytest.mark.parametrize(
    "typed",
    [
        "５３９６０，５",  # full-width, as some phone keyboards type
        "٥٣٩٦٠٫٥",  # Arabic-Indic digits and decimal point
        "53\u200d960,5",  # a zero-width joiner
        "\u200f53960,5",  # a right-to-left mark
        "53\u00ad960.5",  # a soft hyphen from a copied bill
    ],
)
def test_digits_of_other_scripts_and_invisible_marks_read_as_the_value(typed: str) -> None:
    assert parse_value(typed, SIX_ONE) == Decimal("53960.5")


@pytest.mark.parametrize(
    "typed", ["8000 kWh", "8000kWh", "8 000 кВт·год", "8000 квт*год", "8000 КВт"]
)
def test_a_unit_after_the_value_is_no_part_of_it(typed: str) -> None:
    assert parse_value(typed, SIX_ONE) == Decimal("8000")


@pytest.mark.parametrize("typed", ["kWh 8000", "8000 kWh 5", "8000 л"])
def test_a_unit_anywhere_else_is_not_a_number(typed: str) -> None:
    assert parse_value(typed, SIX_ONE) == Problem(Code.VALUE_NOT_A_NUMBER)
