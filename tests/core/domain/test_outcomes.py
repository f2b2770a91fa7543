from datetime import date
from decimal import Decimal
from types import MappingProxyType

import pytest

import pokaznyk_core.domain as domain
from pokaznyk_core.domain import (
    CODE_PARAMS,
    Code,
    MeterSpec,
    Period,
    PreviousReading,
    Problem,
    Zone,
    check_reading,
    check_typed_reading,
    make_meter_spec,
    parse_value,
    validate_account_number,
    validate_eic,
)


def test_gives_every_code_a_dotted_lowercase_key() -> None:
    for code in Code:
        section, _, name = code.value.partition(".")
        assert section, code
        assert name, code
        assert code.value == code.value.lower()


def test_declares_the_parameters_of_every_code() -> None:
    assert set(CODE_PARAMS) == set(Code)


def test_compares_and_hashes_problems_by_value() -> None:
    first = Problem(Code.READING_TOO_LOW, {"zone": "day", "previous": "1.0"}, "day")
    second = Problem(Code.READING_TOO_LOW, {"previous": "1.0", "zone": "day"}, "day")
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert first != Problem(Code.READING_TOO_LOW, {"zone": "night", "previous": "1.0"}, "day")


def test_keeps_a_problems_parameters_read_only() -> None:
    params = {"max_digits": 6}
    problem = Problem(Code.VALUE_TOO_MANY_DIGITS, params)
    params["max_digits"] = 7
    assert problem.params["max_digits"] == 6
    assert isinstance(problem.params, MappingProxyType)


METER = MeterSpec(6, 1, 2)


def _problems_from_the_rules() -> list[Problem]:
    today = date(2026, 4, 1)
    before = PreviousReading(date(2026, 3, 1), {Zone.DAY: Decimal(10), Zone.NIGHT: Decimal(10)})
    found: list[Problem] = []
    for outcome in (
        make_meter_spec(3, 0, 1),
        make_meter_spec(6, 9, 1),
        make_meter_spec(6, 0, 9),
        parse_value("", METER),
        parse_value("x", METER),
        parse_value("-1", METER),
        parse_value("1234567", METER),
        parse_value("1.23", METER),
        validate_account_number("1"),
        validate_eic("1"),
        validate_eic("10YUA_WEPS-----0"),
        validate_eic("10YUA-WEPS-----1"),
        validate_eic("10YUA-WEPS-----0", required_prefix="62Z"),
        Period.parse("x"),
    ):
        assert isinstance(outcome, Problem)
        found.append(outcome)
    verdicts = [
        check_reading(METER, {Zone.TOTAL: Decimal(1)}, today, today, None, None),
        check_reading(METER, {Zone.DAY: Decimal(1), Zone.NIGHT: Decimal(1)}, today, today,
                      before, None),
        check_reading(METER, {Zone.DAY: Decimal(20), Zone.NIGHT: Decimal(9000)}, today, today,
                      before, None),
        check_reading(METER, {Zone.DAY: Decimal(9), Zone.NIGHT: Decimal(11)}, today, today,
                      before, None),
        check_reading(METER, {Zone.DAY: Decimal(10), Zone.NIGHT: Decimal(11)}, date(2026, 2, 1),
                      date(2026, 1, 1), before, None, installed_on=date(2026, 3, 1)),
        check_typed_reading(METER, {Zone.DAY: "", Zone.NIGHT: "1"}, today, today, None, None)[1],
    ]  # fmt: skip
    for verdict in verdicts:
        found += [*verdict.problems, *verdict.notices]
    return found


@pytest.mark.parametrize("problem", _problems_from_the_rules(), ids=lambda p: p.code.value)
def test_every_problem_carries_exactly_its_declared_parameters(problem: Problem) -> None:
    assert set(problem.params) == CODE_PARAMS[problem.code]


def test_exports_the_public_domain_api() -> None:
    expected = {
        "Code", "Problem", "Zone", "zones_for", "ZoneValues", "MeterSpec", "make_meter_spec",
        "MeterReplacement", "plan_replacement", "parse_value", "format_value",
        "PreviousReading", "ConsumptionHistory", "PlausibilityLimits", "Flag",
        "ReadingVerdict", "check_reading", "check_typed_reading", "Period", "WindowConfig",
        "Placement", "place_reading", "window_of", "WindowState", "window_state",
        "local_date", "EIC_ALPHABET", "eic_check_character", "validate_eic", "make_eic",
        "validate_account_number", "surname_matches", "normalize_phone_digits",
        "RECEIPT_ALPHABET", "RECEIPT_LENGTH", "receipt_from_uuid", "normalize_receipt",
        "spoken_receipt", "daily_average", "estimate_consumption", "EstimateReconciliation",
        "reconcile", "VerificationLimits", "VerificationGate", "verification_gate",
    }  # fmt: skip
    assert expected <= set(domain.__all__)
    for name in domain.__all__:
        assert hasattr(domain, name), name
