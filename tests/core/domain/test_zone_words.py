"""Values written after their zone's word or with their unit, as customers write them."""

from __future__ import annotations

import pytest

from pokaznyk_core.domain.zones import Zone, labelled_values

TWO = (Zone.DAY, Zone.NIGHT)
THREE = (Zone.PEAK, Zone.HALF_PEAK, Zone.NIGHT)
ONE = (Zone.TOTAL,)


@pytest.mark.parametrize(
    ("text", "zones", "expected"),
    [
        ("day 12500 night 9200", TWO, [(Zone.DAY, "12500"), (Zone.NIGHT, "9200")]),
        ("Ніч: 9200, день: 12 500,5", TWO, [(Zone.NIGHT, "9200"), (Zone.DAY, "12 500,5")]),
        (
            "пік 100 напів-пік 200 ніч 300",
            THREE,
            [(Zone.PEAK, "100"), (Zone.HALF_PEAK, "200"), (Zone.NIGHT, "300")],
        ),
        ("half peak 200", THREE, [(Zone.HALF_PEAK, "200")]),
        ("8 900,5 kWh", ONE, [(Zone.TOTAL, "8 900,5")]),
        ("8900 кВт*год", ONE, [(Zone.TOTAL, "8900")]),
    ],
)
def test_reads_each_value_after_its_zones_word(
    text: str, zones: tuple[Zone, ...], expected: list[tuple[Zone, str]]
) -> None:
    assert labelled_values(text, zones) == expected


@pytest.mark.parametrize(
    ("text", "zones"),
    [
        ("12500 9200", TWO),  # no word: the order of the zones decides, elsewhere
        ("8900", ONE),
        ("ніч 1 ніч 2", TWO),  # a zone twice
        ("peak 5", TWO),  # not a zone of this meter
        ("hello 5", ONE),
        ("день", TWO),  # a zone without its value
        ("-1100 kWh", ONE),  # a sign is no separator: the value is refused as typed
        ("≈8900 кВт·год", ONE),
    ],
)
def test_is_no_labelled_message_otherwise(text: str, zones: tuple[Zone, ...]) -> None:
    assert labelled_values(text, zones) is None
