from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.receipts import (
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
    ReceiptLookupLimits,
    normalize_receipt,
    receipt_entry_problem,
    receipt_from_uuid,
    receipt_lookup_gate,
    spoken_receipt,
)

READING = UUID("0b6f3a52-8d1e-4c1f-9a63-2f5d6e7c8b90")


def test_uses_no_look_alike_characters() -> None:
    assert len(set(RECEIPT_ALPHABET)) == len(RECEIPT_ALPHABET)
    assert not set(RECEIPT_ALPHABET) & set("01OILSBGZ")


def test_is_short_enough_to_read_out() -> None:
    assert RECEIPT_LENGTH <= 10


def test_gives_the_same_receipt_for_the_same_reading() -> None:
    assert receipt_from_uuid(READING) == receipt_from_uuid(READING)


def test_a_receipt_cannot_be_worked_out_without_the_services_key() -> None:
    keyed = receipt_from_uuid(READING, key=b"the service's secret")
    assert keyed == receipt_from_uuid(READING, key=b"the service's secret")
    assert keyed != receipt_from_uuid(READING)
    assert keyed != receipt_from_uuid(READING, key=b"another secret")


def test_gives_another_receipt_with_another_salt() -> None:
    assert receipt_from_uuid(READING, salt=1) != receipt_from_uuid(READING)


@given(st.uuids(), st.integers(0, 1000))
def test_every_receipt_has_the_receipt_shape(reading_id: UUID, salt: int) -> None:
    code = receipt_from_uuid(reading_id, salt)
    assert len(code) == RECEIPT_LENGTH
    assert set(code) <= set(RECEIPT_ALPHABET)
    assert normalize_receipt(code) == code


@given(st.uuids(), st.sampled_from([" ", "-", " - "]))
def test_reads_back_a_receipt_typed_in_lowercase_with_separators(
    reading_id: UUID, separator: str
) -> None:
    code = receipt_from_uuid(reading_id)
    typed = separator.join([code[:3], code[3:6], code[6:]]).lower()
    assert normalize_receipt(typed) == code


def test_spreads_receipts_of_many_readings() -> None:
    codes = {receipt_from_uuid(UUID(int=n)) for n in range(5000)}
    assert len(codes) == 5000


def test_maps_typed_look_alikes_back() -> None:
    assert normalize_receipt("S8G2-ACD") is None  # too short
    assert normalize_receipt("SBGZ ACD EH") == "5862ACDEH"
    assert normalize_receipt("АСЕ НКМ РТХ") == "ACEHKMPTX"  # typed on a Cyrillic keyboard


@pytest.mark.parametrize(
    "text", ["", "ACDEFHJK", "ACDEFHJKMN", "ACDEFHJK0", "ACDEFHJK!", "ACDEFHJKI"]
)
def test_refuses_text_that_is_not_a_receipt(text: str) -> None:
    assert normalize_receipt(text) is None


def test_spells_a_receipt_one_character_at_a_time() -> None:
    assert spoken_receipt("7km-2ac-dxy") == ["7", "K", "M", "2", "A", "C", "D", "X", "Y"]
    with pytest.raises(ValueError, match="receipt"):
        spoken_receipt("nope")


@pytest.mark.parametrize(
    "typed", ["", "ACDEFHJK", "ACDEFHJKMN", "ACDEFHJK1", "quittance", "A" * 41, "ACD-EFH-JKM" * 4]
)
def test_a_receipt_field_that_holds_no_receipt_is_told_the_format(typed: str) -> None:
    assert receipt_entry_problem(typed) == Problem(Code.RECEIPT_FORMAT, {"length": RECEIPT_LENGTH})


@pytest.mark.parametrize("typed", ["ACDEFHJKM", " acd efh jkm ", "АСD-ЕFН-JКM", "5B6ZACDEF"])
def test_a_receipt_field_takes_any_spelling_normalize_receipt_reads(typed: str) -> None:
    assert receipt_entry_problem(typed) is None


MINUTE = timedelta(minutes=1)
NOON = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)


def test_receipt_lookups_pause_after_ten_misses_in_an_hour_for_an_hour() -> None:
    limits = ReceiptLookupLimits()
    misses = [NOON + n * MINUTE for n in range(9)]
    open_gate = receipt_lookup_gate(misses, NOON + 9 * MINUTE, limits)
    assert open_gate.allowed and open_gate.attempts_left == 1
    misses.append(NOON + 10 * MINUTE)
    paused = receipt_lookup_gate(misses, NOON + 20 * MINUTE, limits)
    assert not paused.allowed
    assert paused.problem == Problem(Code.RECEIPT_LOOKUPS_PAUSED, {"minutes": 50})
    assert paused.retry_after == 50 * MINUTE
    assert receipt_lookup_gate(misses, NOON + 70 * MINUTE, limits).allowed


def test_receipt_misses_spread_over_more_than_an_hour_never_pause() -> None:
    misses = [NOON + n * 7 * MINUTE for n in range(20)]
    assert receipt_lookup_gate(misses, misses[-1], ReceiptLookupLimits()).allowed


def test_receipt_misses_are_remembered_as_long_as_they_can_pause() -> None:
    limits = ReceiptLookupLimits()
    assert limits.remembered_for == limits.window + limits.pause


def test_reads_a_code_typed_in_full_width_or_with_an_invisible_mark() -> None:
    assert normalize_receipt(" ＨＪ６ＭＹ３Ｙ２７ ") == "HJ6MY3Y27"
    assert normalize_receipt("HJ6MY3Y2\u200b7") == "HJ6MY3Y27"
