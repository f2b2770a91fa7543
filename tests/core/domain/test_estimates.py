from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.domain.checks import ConsumptionHistory
from pokaznyk_core.domain.estimates import daily_average, estimate_consumption, reconcile
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render

TWO_ZONES = MeterSpec(6, 1, 2)
ONE_ZONE = MeterSpec(4, 0, 1)


def day_night(day: str, night: str) -> dict[Zone, Decimal]:
    return {Zone.DAY: Decimal(day), Zone.NIGHT: Decimal(night)}


def test_averages_daily_consumption_per_zone_over_consecutive_readings() -> None:
    history = daily_average(
        [
            (date(2026, 3, 31), day_night("1300.0", "650.0")),
            (date(2026, 1, 31), day_night("1000.0", "500.0")),
            (date(2026, 2, 28), day_night("1140.0", "570.0")),
        ],
        TWO_ZONES,
    )
    assert history is not None
    assert history.days_observed == 59
    assert history.daily_average == {Zone.DAY: Decimal("5.0847"), Zone.NIGHT: Decimal("2.5423")}


def test_counts_a_rollover_in_the_average() -> None:
    history = daily_average([(date(2026, 3, 1), {Zone.TOTAL: Decimal(9990)}),
                             (date(2026, 3, 11), {Zone.TOTAL: Decimal(40)})], ONE_ZONE)  # fmt: skip
    assert history == ConsumptionHistory({Zone.TOTAL: Decimal(5)}, 10)


def test_has_no_average_without_two_days_of_readings() -> None:
    assert daily_average([], ONE_ZONE) is None
    day = date(2026, 3, 1)
    assert daily_average([(day, {Zone.TOTAL: Decimal(1)})], ONE_ZONE) is None
    assert daily_average([(day, {Zone.TOTAL: Decimal(1)}),
                          (day, {Zone.TOTAL: Decimal(2)})], ONE_ZONE) is None  # fmt: skip


def test_estimates_whole_kwh_truncated_never_rounded() -> None:
    history = ConsumptionHistory(day_night("5.0847", "2.5423"), 59)
    assert estimate_consumption(history, 30, day_night("1", "1")) == {
        Zone.DAY: Decimal(152),
        Zone.NIGHT: Decimal(76),
    }


def test_estimates_from_the_configured_default_without_history() -> None:
    assert estimate_consumption(None, 31, {Zone.TOTAL: Decimal("6.5")}) == {
        Zone.TOTAL: Decimal(201)
    }


@given(
    st.lists(st.integers(0, 2000), min_size=1, max_size=12),
    st.integers(1, 40),
    st.integers(0, 9999),
)
def test_the_average_of_steady_use_estimates_no_more_than_was_used(
    uses: list[int], step: int, start: int
) -> None:
    readings = [(date(2025, 1, 1), {Zone.TOTAL: Decimal(start)})]
    value = start
    for n, used in enumerate(uses, start=1):
        value = (value + used) % 10_000
        readings.append((date(2025, 1, 1) + timedelta(days=step * n), {Zone.TOTAL: Decimal(value)}))
    history = daily_average(readings, ONE_ZONE)
    assert history is not None
    assert history.days_observed == step * len(uses)
    estimate = estimate_consumption(history, history.days_observed, {})
    assert sum(uses) - len(uses) * step <= estimate[Zone.TOTAL] <= sum(uses)


def test_reconciles_an_estimate_with_the_actual_consumption() -> None:
    result = reconcile(Decimal(310), Decimal(262))
    assert result.difference == Decimal(48)
    assert result.notice == Problem(
        Code.ESTIMATE_CREDIT, {"estimated": "310", "actual": "262", "difference": "48"}
    )


def test_names_the_months_the_estimates_were_for_as_the_design_says() -> None:
    notice = reconcile(Decimal(310), Decimal(262), ["2026-09", "2026-08"]).notice
    assert render(notice, "en") == (
        "Your bills for August and September 2026 were estimated at 310 kWh; your reading "
        "shows 262 kWh, so 48 kWh will be credited."
    )
    assert render(notice, "uk").startswith("Рахунки за серпень і вересень 2026 нараховано")
    over_a_new_year = reconcile(Decimal(1), Decimal(1), ["2025-12", "2026-01"]).notice
    assert "December 2025 and January 2026" in render(over_a_new_year, "en")


def test_says_whole_kwh_without_a_decimal_and_others_with_theirs() -> None:
    notice = reconcile(Decimal("41.0"), Decimal("40.50")).notice
    assert dict(notice.params) == {"estimated": "41", "actual": "40.5", "difference": "0.5"}


def test_reports_a_charge_when_the_estimate_was_too_low() -> None:
    result = reconcile(Decimal(200), Decimal(262))
    assert result.difference == Decimal(-62)
    assert result.notice.code is Code.ESTIMATE_CHARGE
    assert result.notice.params["difference"] == "62"


def test_reports_a_matching_estimate() -> None:
    assert reconcile(Decimal(5), Decimal(5)).notice.code is Code.ESTIMATE_MATCHED
