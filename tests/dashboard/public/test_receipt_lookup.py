"""/submit/receipt: the status of a receipt number, through the real app on both engines."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from tests.dashboard.public.conftest import Visitor, hidden, unescape

from pokaznyk_core.dialog.texts import show_date, show_period
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import Meter, Reading
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture

T = Zone.TOTAL
UNKNOWN = "ACDEFHJKM"
FORMAT = Problem(Code.RECEIPT_FORMAT, {"length": 9})
OCT_30 = date(2026, 10, 30)


async def stored(
    context: ServiceContext, channel: Channel = Channel.IVR
) -> tuple[str, MeterFixture]:
    """A reading of 150.0 stored by ``channel``; its receipt number and meter."""
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("150.0")},
            channel=channel,
            submitted_by="test",
        ),
    )
    assert outcome.receipt is not None
    return outcome.receipt, meter


async def look_up(visitor: Visitor, typed: str, headers: dict[str, str] | None = None) -> str:
    """The answer to a receipt number typed on /submit/receipt (a 200)."""
    response = await visitor.post("/submit/receipt", {"receipt": typed}, headers=headers or {})
    assert response.status_code == 200, response.text
    return unescape(response.text)


def status_words(locale: str, status: str = "accepted") -> str:
    return translate(f"dialog.status.{status}", locale)


def told(receipt: str, status: str = "accepted", locale: str = "uk") -> str:
    """The start of the chat's line for a receipt's status ("Квитанція …: прийнято, …")."""
    return f"{receipt}: {status_words(locale, status)},"


async def test_the_page_asks_for_the_receipt_number_with_its_format_and_the_csrf_token(
    visitor: Visitor,
) -> None:
    page = await visitor.get("/submit/receipt")
    assert page.status_code == 200
    text = unescape(page.text)
    assert translate("web.lookup.title", "uk") in text
    assert '<label for="receipt">' in text and 'name="receipt"' in text
    assert translate("web.lookup.code_hint", "uk", length=9) in text
    assert 'name="_csrf_token"' in text
    assert 'hx-post="/submit/receipt"' in text and 'method="post"' in text


async def test_a_stored_readings_receipt_shows_its_status_period_window_date_and_channel(
    visitor: Visitor, context: ServiceContext
) -> None:
    receipt, _ = await stored(context, Channel.IVR)
    page = await look_up(visitor, receipt)
    said = translate(
        "dialog.status_line",
        "uk",
        receipt=receipt,
        status=status_words("uk"),
        period=show_period("2026-10", "uk"),
        date=show_date(OCT_30, "uk"),
    )
    assert said in page
    assert f"<strong>{receipt}</strong>" in page
    assert translate("web.lookup.in_window", "uk") in page
    assert translate("web.channel.ivr", "uk") in page
    assert translate("web.receipt.in_window", "uk", period="жовтень 2026") in page
    assert f'value="{receipt}"' in page


async def test_the_answer_shows_no_account_data(visitor: Visitor, context: ServiceContext) -> None:
    receipt, meter = await stored(context)
    serial = await Meter.select(Meter.serial).where(Meter.id == meter.meter_id).first()
    assert serial is not None
    page = await look_up(visitor, receipt)
    assert told(receipt) in page
    account_data = (
        meter.account_number,
        meter.surname,
        "Олена",
        "Шевченка",
        "Краматорськ",
        meter.eic,
        serial["serial"],
        "150,0",
        "100,0",
        "0501234567",
    )
    assert [d for d in account_data if d in page] == []


async def test_a_receipt_from_the_web_form_is_linked_and_found_from_another_address(
    visitor: Visitor, stranger: Visitor, context: ServiceContext
) -> None:
    start = await visitor.get("/submit")
    assert 'href="/submit/receipt"' in start.text
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    page = await visitor.post(
        "/submit", {"account": meter.account_number, "surname": meter.surname}
    )
    confirmation = await visitor.post(
        "/submit/confirm", {"token": hidden(page.text, "token"), f"m{meter.meter_id}_total": "120"}
    )
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirmation.text)
    receipt_page = await visitor.post(
        "/submit/send", {name: value for name, value in fields if name != "_csrf_token"}
    )
    assert 'href="/submit/receipt"' in receipt_page.text
    row = await Reading.select(Reading.receipt).where(Reading.meter == meter.meter_id).first()
    assert row is not None
    answer = await look_up(stranger, row["receipt"])
    assert told(row["receipt"]) in answer and translate("web.channel.web_form", "uk") in answer
    assert meter.account_number not in answer


def look_alike(receipt: str) -> str:
    """The receipt as someone might type it: lower case, in groups, with Cyrillic letters
    and the Latin letters that look like its digits."""
    swaps = {"A": "а", "C": "с", "E": "е", "H": "н", "K": "к", "M": "м", "P": "р", "T": "т"}
    swaps |= {"X": "х", "Y": "у", "5": "s", "8": "B", "6": "g", "2": "Z", "3": "З"}
    typed = "".join(swaps.get(ch, ch.lower()) for ch in receipt)
    return f" {typed[:3]} {typed[3:6]}-{typed[6:]} "


async def test_a_receipt_typed_with_look_alikes_and_spaces_is_found_and_read_back(
    visitor: Visitor, context: ServiceContext
) -> None:
    receipt, _ = await stored(context)
    typed = look_alike(receipt)
    assert typed.strip() != receipt
    page = await look_up(visitor, typed)
    assert told(receipt) in page
    assert f'value="{receipt}"' in page


@pytest.mark.parametrize(
    ("status", "explained"),
    [
        ("flagged", "web.receipt.flagged"),
        ("rejected_on_review", "web.lookup.rejected"),
        ("superseded", "web.lookup.superseded"),
    ],
)
async def test_every_status_is_told_in_the_chats_words_with_what_it_means(
    visitor: Visitor, context: ServiceContext, status: str, explained: str
) -> None:
    receipt, _ = await stored(context)
    await Reading.update({Reading.status: status}).where(Reading.receipt == receipt)
    page = await look_up(visitor, receipt)
    assert f"{told(receipt, status)} за жовтень 2026" in page
    assert translate(explained, "uk") in page


async def test_a_reading_off_the_window_is_said_to_be(
    visitor: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    clock.instant = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    receipt, _ = await stored(context)
    page = await look_up(visitor, receipt)
    assert translate("web.lookup.off_window", "uk") in page
    assert show_date(date(2026, 10, 15), "uk") in page
    assert translate("web.lookup.in_window", "uk") not in page


@pytest.mark.parametrize("typed", ["", "12345", "ACDEFHJK1", "quittance", "A" * 300])
async def test_a_malformed_number_is_told_what_a_receipt_number_looks_like_and_costs_nothing(
    visitor: Visitor, typed: str
) -> None:
    for _ in range(12):
        page = await look_up(visitor, typed)
        assert render(FORMAT, "uk") in page
        assert translate("dialog.receipt_not_found", "uk") not in page
    assert 'aria-invalid="true"' in page
    assert "A" * 41 not in page
    unknown = await look_up(visitor, UNKNOWN)
    assert translate("dialog.receipt_not_found", "uk") in unknown


async def test_an_unknown_number_is_told_there_is_no_such_reading_and_what_to_do(
    visitor: Visitor,
) -> None:
    page = await look_up(visitor, UNKNOWN)
    assert translate("dialog.receipt_not_found", "uk") in page
    assert translate("web.lookup.not_found_help", "uk") in page
    assert translate("verification.attempts_left", "uk", attempts_left=9) in page
    assert render(FORMAT, "uk") not in page


async def test_the_answer_is_in_english_with_lang_en(
    visitor: Visitor, context: ServiceContext
) -> None:
    receipt, _ = await stored(context)
    page = await visitor.get("/submit/receipt?lang=en")
    assert '<html lang="en">' in page.text and translate("web.lookup.title", "en") in page.text
    answer = await look_up(visitor, receipt)
    said = f"Receipt {receipt}: accepted, for October 2026 (taken on {show_date(OCT_30, 'en')})"
    assert said in answer
    assert translate("web.channel.ivr", "en") in answer
    assert 'href="/submit/receipt?lang=uk"' in answer
    assert translate("web.lookup.in_window", "en") in answer
    unknown = await look_up(visitor, UNKNOWN)
    assert translate("dialog.receipt_not_found", "en") in unknown
    malformed = await look_up(visitor, "12345")
    assert render(FORMAT, "en") in malformed


async def test_ten_unknown_numbers_from_one_address_pause_its_lookups_and_say_for_how_long(
    visitor: Visitor, stranger: Visitor, context: ServiceContext, clock: FixedClock
) -> None:
    receipt, _ = await stored(context)
    for _ in range(9):
        await look_up(visitor, UNKNOWN)
    tenth = await look_up(visitor, UNKNOWN)
    paused = render(Problem(Code.RECEIPT_LOOKUPS_PAUSED, {"minutes": 60}), "uk")
    assert translate("dialog.receipt_not_found", "uk") in tenth and paused in tenth
    refused = await visitor.post("/submit/receipt", {"receipt": receipt})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert paused in unescape(refused.text)
    assert told(receipt) not in unescape(refused.text)
    with_htmx = await visitor.post(
        "/submit/receipt", {"receipt": receipt}, headers={"HX-Request": "true"}
    )
    assert with_htmx.status_code == 200 and paused in unescape(with_htmx.text)
    assert told(receipt) in await look_up(stranger, receipt)
    clock.instant = datetime(2026, 10, 30, 10, 1, tzinfo=UTC)
    assert told(receipt) in await look_up(visitor, receipt)


async def test_htmx_gets_the_answer_and_the_field_without_the_page(
    visitor: Visitor, context: ServiceContext
) -> None:
    receipt, _ = await stored(context)
    fragment = await look_up(visitor, receipt.lower(), headers={"HX-Request": "true"})
    assert "<html" not in fragment and "<form" not in fragment
    assert told(receipt) in fragment
    assert 'id="receipt-field" hx-swap-oob="true"' in fragment
    assert f'value="{receipt}"' in fragment
    page = await look_up(visitor, receipt)
    assert "<html" in page and 'id="receipt-answer"' in page and "hx-swap-oob" not in page


async def test_a_lookup_posted_without_the_csrf_token_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    receipt, _ = await stored(context)
    await visitor.get("/submit/receipt")
    response = await visitor.post("/submit/receipt", {"receipt": receipt}, csrf=False)
    assert response.status_code == 403
