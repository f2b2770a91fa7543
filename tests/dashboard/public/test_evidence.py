"""A photo of the meter on the /submit receipt of a flagged reading, on both engines."""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal

import httpx
import pytest
from tests.dashboard.public.conftest import Visitor, hidden, unescape

from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.evidence import MAX_PHOTO_BYTES
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import Reading, ReadingEvidence
from pokaznyk_core.testing import FixedClock, MeterFixture, make_meter_fixture
from pokaznyk_dashboard.auth.tokens import sign_reading

T = Zone.TOTAL
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 200 + b"\xff\xd9"
SECRET = "evidence-test-signing-key"


@pytest.fixture
def context(clock: FixedClock, database: Database) -> ServiceContext:
    """The suite's context with a known signing key, so a test can forge a valid token."""
    return ServiceContext(
        settings=Settings(database_url=database.url, secret_key=SECRET), clock=clock
    )


async def meter_of(context: ServiceContext) -> MeterFixture:
    """A meter installed on 1 September 2026 at 100.0: 7000 by 30 October is flagged."""
    return await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 9, 1)
    )


async def receipt_of(visitor: Visitor, meter: MeterFixture, value: str) -> str:
    """Verify, confirm and send one reading; the receipt page."""
    page = await visitor.post(
        "/submit", {"account": meter.account_number, "surname": meter.surname}
    )
    token = hidden(page.text, "token")
    confirmation = await visitor.post(
        "/submit/confirm", {"token": token, f"m{meter.meter_id}_total": value}
    )
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirmation.text)
    data = {name: v for name, v in fields if name != "_csrf_token"}
    receipt = await visitor.post("/submit/send", data)
    assert receipt.status_code == 200
    return unescape(receipt.text)


async def post_photo(
    visitor: Visitor,
    token: str,
    content: bytes,
    *,
    filename: str = "meter.jpg",
    content_type: str = "image/jpeg",
    csrf: bool = True,
) -> httpx.Response:
    return await visitor.post(
        "/submit/photo",
        {"token": token},
        csrf=csrf,
        files={"photo": (filename, content, content_type)},
    )


def photo_error(html: str) -> str:
    match = re.search(
        r'<p class="field-error" id="photo-[0-9a-f]+-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, "no error slot next to the photo field"
    return unescape(match.group(1).strip())


async def evidence_of(meter: MeterFixture) -> list[dict[str, object]]:
    reading = await Reading.select(Reading.id).where(Reading.meter == meter.meter_id).first()
    assert reading is not None
    return await ReadingEvidence.select().where(ReadingEvidence.reading == reading["id"])


async def test_a_flagged_receipt_offers_a_labelled_optional_photo_upload(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    receipt = await receipt_of(visitor, meter, "7000")
    assert translate("web.receipt.flagged", "uk") in receipt
    assert 'enctype="multipart/form-data"' in receipt and 'action="/submit/photo"' in receipt
    field_id = re.search(r'<input type="file" id="(photo-[0-9a-f]+)" name="photo"', receipt)
    assert field_id, "no file input"
    assert f'<label for="{field_id.group(1)}">{translate("web.evidence.label", "uk")}' in receipt
    assert f'aria-describedby="{field_id.group(1)}-hint {field_id.group(1)}-error"' in receipt
    assert 'accept="image/jpeg,image/png,image/webp"' in receipt
    assert hidden(receipt, "token").startswith("reading.")


async def test_a_flagged_reading_takes_a_jpeg_and_stores_it(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    receipt = await receipt_of(visitor, meter, "7000")
    response = await post_photo(visitor, hidden(receipt, "token"), JPEG)
    assert response.status_code == 200
    page = unescape(response.text)
    assert translate("web.evidence.attached", "uk") in page
    assert translate("web.evidence.count", "uk", count=1, max=3) in page
    assert photo_error(page) == ""
    rows = await evidence_of(meter)
    assert len(rows) == 1 and rows[0]["content_type"] == "image/jpeg"
    assert base64.b64decode(str(rows[0]["content"])) == JPEG


async def test_a_text_file_renamed_jpg_is_refused_next_to_the_field(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    receipt = await receipt_of(visitor, meter, "7000")
    response = await post_photo(visitor, hidden(receipt, "token"), b"not a photo at all\n" * 20)
    assert response.status_code == 200
    page = unescape(response.text)
    assert photo_error(page) == translate("evidence.not_an_image", "uk")
    assert 'aria-invalid="true"' in page
    assert translate("web.evidence.attached", "uk") not in page
    assert await evidence_of(meter) == []


async def test_a_photo_over_five_mib_gets_a_field_error_and_a_huge_request_a_413(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    token = hidden(await receipt_of(visitor, meter, "7000"), "token")
    over = JPEG + b"\x00" * MAX_PHOTO_BYTES
    response = await post_photo(visitor, token, over)
    assert response.status_code == 200
    assert photo_error(unescape(response.text)) == translate("evidence.too_large", "uk", max_mb=5)
    huge = await post_photo(visitor, token, JPEG + b"\x00" * (8 * 1024 * 1024))
    assert huge.status_code == 413
    assert translate("web.evidence.too_large_title", "uk") in unescape(huge.text)
    assert await evidence_of(meter) == []


async def test_an_accepted_reading_offers_no_upload_and_refuses_a_forged_post(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    receipt = await receipt_of(visitor, meter, "150")
    assert translate("web.status.accepted", "uk") in receipt
    assert 'name="photo"' not in receipt and "/submit/photo" not in receipt
    accepted = await Reading.select(Reading.id).where(Reading.meter == meter.meter_id).first()
    assert accepted is not None
    # No receipt gives such a token; sign one with the app's own key.
    forged = sign_reading(SECRET, accepted["id"], context.now())
    response = unescape((await post_photo(visitor, forged, JPEG)).text)
    assert translate("evidence.not_flagged", "uk") in response
    assert 'name="photo"' not in response
    assert await evidence_of(meter) == []


async def test_a_token_for_another_reading_or_an_account_token_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    mine = await meter_of(context)
    theirs = await meter_of(context)
    token = hidden(await receipt_of(visitor, mine, "7000"), "token")
    await receipt_of(visitor, theirs, "7000")
    their_reading = await Reading.select(Reading.id).where(Reading.meter == theirs.meter_id).first()
    assert their_reading is not None
    _, _, expires, signature = token.split(".")
    swapped = ".".join(["reading", their_reading["id"].hex, expires, signature])
    response = await post_photo(visitor, swapped, JPEG)
    assert translate("web.form.expired", "uk") in unescape(response.text)
    page = await visitor.post("/submit", {"account": mine.account_number, "surname": mine.surname})
    account_token = hidden(page.text, "token")
    response = await post_photo(visitor, account_token, JPEG)
    assert translate("web.form.expired", "uk") in unescape(response.text)
    assert await evidence_of(theirs) == [] and await evidence_of(mine) == []


async def test_a_photo_posted_without_the_csrf_token_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    token = hidden(await receipt_of(visitor, meter, "7000"), "token")
    response = await post_photo(visitor, token, JPEG, csrf=False)
    assert response.status_code == 403
    assert await evidence_of(meter) == []


async def test_a_fourth_photo_is_not_offered_and_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await meter_of(context)
    token = hidden(await receipt_of(visitor, meter, "7000"), "token")
    for _ in range(3):
        assert (await post_photo(visitor, token, JPEG)).status_code == 200
    fourth = unescape((await post_photo(visitor, token, JPEG)).text)
    assert translate("evidence.too_many", "uk", max=3) in fourth
    assert 'name="photo"' not in fourth
    assert len(await evidence_of(meter)) == 3
