"""The bills on the cabinet's account page, through the real app on both engines.

Every test closes its own periods: one database serves the whole module.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from tests.dashboard.cabinet.test_cabinet import customer_with_account, register
from tests.dashboard.public.conftest import Visitor, unescape

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.billing import close_period
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import Meter
from pokaznyk_core.testing import FixedClock

T = Zone.TOTAL


async def _reading(context: ServiceContext, meter_id: int, value: str, taken_on: date) -> None:
    outcome = await submit_reading(
        context,
        ReadingSubmission(uuid4(), meter_id, {T: Decimal(value)}, Channel.CABINET, "t", taken_on),
    )
    assert outcome.stored, outcome.verdict.problems


async def _close(context: ServiceContext, clock: FixedClock, period: Period) -> None:
    clock.instant = datetime(period.next().year, period.next().month, 10, 9, tzinfo=UTC)
    await close_period(context, period, actor="test")


def _bills_section(page: str) -> str:
    match = re.search(
        r'<section class="card" aria-labelledby="bills-title">(.*?)</section>', page, re.S
    )
    assert match, "no bills section"
    return match.group(1)


async def test_the_account_page_lists_the_bills_with_a_credit_and_its_reconciliation(
    visitor: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 7, 31, 9, tzinfo=UTC)
    meter, phone = await customer_with_account(context, installed_on=date(2026, 6, 1))
    await _reading(context, meter.meter_id, "250", date(2026, 6, 30))
    await _reading(context, meter.meter_id, "405", date(2026, 7, 31))  # 5 kWh a day
    await _close(context, clock, Period(2026, 8))  # estimated: 31 days, 155 kWh
    clock.instant = datetime(2026, 9, 30, 9, tzinfo=UTC)
    await _reading(context, meter.meter_id, "465", date(2026, 9, 30))  # 60 kWh counted
    await _close(context, clock, Period(2026, 9))  # 60 less 155: a credit of 95
    await register(visitor, meter, phone)

    page = unescape((await visitor.get(f"/cabinet/accounts/{meter.account_number}")).text)
    bills = _bills_section(page)

    assert f"<caption>{translate('web.cabinet.bills.caption', 'uk')}</caption>" in bills
    assert bills.count('<th scope="col">') == 5 and '<th scope="row"' in bills
    assert bills.index("вересень 2026") < bills.index("серпень 2026")  # newest first
    assert translate("web.cabinet.bills.estimated", "uk") in bills
    assert translate("web.cabinet.bills.actual", "uk") in bills
    assert "<strong>-95</strong>" in bills and "<strong>155</strong>" in bills
    credit = Problem(
        Code.ESTIMATE_CREDIT,
        {"estimated": "155", "actual": "60", "difference": "95", "periods": "2026-08"},
    )
    assert render(credit, "uk") in bills
    assert "Рахунки за серпень 2026 нараховано за оцінкою" in bills

    english = unescape(
        (await visitor.get(f"/cabinet/accounts/{meter.account_number}?lang=en")).text
    )
    assert '<h2 id="bills-title">Bills</h2>' in english
    assert "September 2026" in _bills_section(english)
    assert render(credit, "en") in english


async def test_bills_show_only_on_the_customers_own_account(
    visitor: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 3, 20, 9, tzinfo=UTC)
    mine, phone = await customer_with_account(context, installed_on=date(2026, 3, 1))
    theirs, _ = await customer_with_account(context, installed_on=date(2026, 3, 1))
    await _close(context, clock, Period(2026, 4))
    await register(visitor, mine, phone)
    serials = {
        row["id"]: row["serial"]
        for row in await Meter.select(Meter.id, Meter.serial).where(
            Meter.id.is_in([mine.meter_id, theirs.meter_id])
        )
    }

    page = unescape((await visitor.get(f"/cabinet/accounts/{mine.account_number}")).text)
    bills = _bills_section(page)

    assert serials[mine.meter_id] in bills and "квітень 2026" in bills
    assert serials[theirs.meter_id] not in page
    assert (await visitor.get(f"/cabinet/accounts/{theirs.account_number}")).status_code == 404


async def test_an_account_with_nothing_billed_says_so(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter, phone = await customer_with_account(context, installed_on=date(2026, 10, 1))
    await register(visitor, meter, phone)
    page = unescape((await visitor.get(f"/cabinet/accounts/{meter.account_number}")).text)
    assert translate("web.cabinet.bills.empty", "uk") in _bills_section(page)
