import pytest
from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.eic import EIC_ALPHABET, eic_check_character, make_eic, validate_eic
from pokaznyk_core.domain.outcomes import Code, Problem

# Published codes, checked with the ENTSO-E algorithm (docs: PLATFORMS.md).
VALID = [
    "10YUA-WEPS-----0",
    "10Y1001C--00003F",
    "10Y1001C--000182",
    "10Y1001A1001A869",
    "10X1001C--00001X",
    "21X000000001397P",
    "10YSK-SEPS-----K",
    "10YCZ-CEPS-----N",
    "10YPL-AREA-----S",
    "10YHU-MAVIR----U",
    "10YRO-TEL------P",
    "10X1001A1001A450",
]
WRONG_CHECK = ["10YUA-WEPS-----1", "10Y1001C--00003G", "62Z100938201573H", "62Z231508073446X"]

bodies = st.text(alphabet=EIC_ALPHABET, min_size=12, max_size=12)


@pytest.mark.parametrize("code", VALID)
def test_accepts_published_codes(code: str) -> None:
    assert validate_eic(code) == code
    assert eic_check_character(code[:15]) == code[15]


@pytest.mark.parametrize("code", WRONG_CHECK)
def test_rejects_codes_with_a_wrong_check_character(code: str) -> None:
    assert validate_eic(code) == Problem(Code.EIC_CHECK_CHARACTER)


def test_computes_the_check_characters_the_wrong_codes_should_have() -> None:
    assert eic_check_character("62Z100938201573") == "C"
    assert eic_check_character("62Z231508073446") == "P"


def test_ignores_spaces_and_case() -> None:
    assert validate_eic(" 10yua-weps -----0 ") == "10YUA-WEPS-----0"


def test_says_how_long_a_code_must_be() -> None:
    assert validate_eic("62Z1234") == Problem(Code.EIC_LENGTH, {"length": 16})


def test_names_a_character_outside_the_alphabet() -> None:
    assert validate_eic("10YUA_WEPS-----0") == Problem(
        Code.EIC_CHARACTER, {"character": "_", "position": 6}
    )


def test_refuses_a_cyrillic_letter_that_looks_like_no_latin_one() -> None:
    problem = validate_eic("10YUЖ-WEPS-----0")
    assert isinstance(problem, Problem)
    assert problem.code is Code.EIC_CHARACTER


def test_refuses_a_dash_as_the_check_character() -> None:
    assert validate_eic("10YUA-WEPS------") == Problem(Code.EIC_CHECK_CHARACTER)


def test_asks_for_a_metering_point_prefix_when_required() -> None:
    assert validate_eic("10YUA-WEPS-----0", required_prefix="62Z") == Problem(
        Code.EIC_PREFIX, {"prefix": "62Z"}
    )
    code = make_eic("000000000001")
    assert validate_eic(code, required_prefix="62Z") == code


def test_makes_a_metering_point_code_from_a_body() -> None:
    code = make_eic("100938201573")
    assert code == "62Z100938201573C"


@pytest.mark.parametrize("body", ["12345", "1234567890123", "12345678901_"])
def test_refuses_to_make_a_code_from_a_bad_body(body: str) -> None:
    with pytest.raises(ValueError, match="EIC"):
        make_eic(body)


def test_refuses_to_compute_a_check_for_a_wrong_length() -> None:
    with pytest.raises(ValueError, match="15"):
        eic_check_character("62Z")


@given(bodies)
def test_every_made_code_is_valid(body: str) -> None:
    try:
        code = make_eic(body)
    except ValueError:
        assert eic_check_character("62Z" + body) == "-"
    else:
        assert validate_eic(code) == code
        assert code.startswith("62Z")
        assert len(code) == 16


@given(bodies, st.integers(0, 15), st.sampled_from(EIC_ALPHABET))
def test_any_single_wrong_character_is_caught(body: str, position: int, typed: str) -> None:
    try:
        code = make_eic(body)
    except ValueError:
        return
    if code[position] == typed:
        return
    mistyped = code[:position] + typed + code[position + 1 :]
    assert validate_eic(mistyped) == Problem(Code.EIC_CHECK_CHARACTER)


def test_reads_cyrillic_letters_that_look_latin_as_latin() -> None:
    code = make_eic("0000000ABC17")
    typed = code.translate(str.maketrans("ABCEHIKMOPTXY", "АВСЕНІКМОРТХУ"))
    assert typed != code and validate_eic(typed) == code
