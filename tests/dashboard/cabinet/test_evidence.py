"""A photo of the meter on the cabinet's receipt of a flagged reading, on both engines."""

from __future__ import annotations

import re
from datetime import date

import httpx
from tests.dashboard.cabinet.test_cabinet import customer_with_account, register
from tests.dashboard.public.conftest import Visitor, unescape

from pokaznyk_core.i18n import translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import AuditEntry, Reading, ReadingEvidence
from pokaznyk_core.testing import MeterFixture

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 200 + b"\xff\xd9"


async def signed_in_with_meter(visitor: Visitor, context: ServiceContext) -> MeterFixture:
    """A registered, signed-in customer whose meter (installed 1 September 2026 at 100.0)
    flags a reading of 7000 on 30 October."""
    meter, phone = await customer_with_account(context, installed_on=date(2026, 9, 1))
    assert await register(visitor, meter, phone) == "/cabinet"
    return meter


async def receipt_of(visitor: Visitor, meter: MeterFixture, value: str) -> str:
    base = f"/cabinet/accounts/{meter.account_number}/submit"
    confirmation = await visitor.post(f"{base}/confirm", {f"m{meter.meter_id}_total": value})
    rid = re.search(r'name="rid_\d+" value="([^"]+)"', confirmation.text)
    assert rid
    data = {f"m{meter.meter_id}_total": value, f"rid_{meter.meter_id}": rid.group(1)}
    receipt = await visitor.post(f"{base}/send", data)
    assert receipt.status_code == 200
    return unescape(receipt.text)


async def post_photo(
    visitor: Visitor, meter: MeterFixture, reading: str, content: bytes, *, csrf: bool = True
) -> httpx.Response:
    return await visitor.post(
        f"/cabinet/accounts/{meter.account_number}/submit/photo",
        {"reading": reading},
        csrf=csrf,
        files={"photo": ("meter.jpg", content, "image/jpeg")},
    )


async def reading_of(meter: MeterFixture) -> str:
    row = await Reading.select(Reading.id).where(Reading.meter == meter.meter_id).first()
    assert row is not None
    return str(row["id"])


async def test_a_flagged_cabinet_reading_takes_a_photo_from_its_receipt(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await signed_in_with_meter(visitor, context)
    receipt = await receipt_of(visitor, meter, "7000")
    action = f'action="/cabinet/accounts/{meter.account_number}/submit/photo"'
    assert action in receipt and 'enctype="multipart/form-data"' in receipt
    reading = await reading_of(meter)
    assert f'name="reading" value="{reading}"' in receipt
    response = await post_photo(visitor, meter, reading, JPEG)
    assert response.status_code == 200
    assert translate("web.evidence.attached", "uk") in unescape(response.text)
    rows = await ReadingEvidence.select().where(ReadingEvidence.reading == reading)
    assert len(rows) == 1 and rows[0]["content_type"] == "image/jpeg"
    assert rows[0]["source"].startswith("customer:")
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "reading.photo_attached") & (AuditEntry.entity_id == reading)
    )


async def test_an_accepted_cabinet_reading_offers_no_upload_and_refuses_a_forged_post(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await signed_in_with_meter(visitor, context)
    receipt = await receipt_of(visitor, meter, "150")
    assert 'name="photo"' not in receipt
    reading = await reading_of(meter)
    response = unescape((await post_photo(visitor, meter, reading, JPEG)).text)
    assert translate("evidence.not_flagged", "uk") in response
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == reading) == 0


async def test_a_customer_cannot_attach_to_another_customers_reading(
    visitor: Visitor, demo_visitor: Visitor, context: ServiceContext
) -> None:
    theirs = await signed_in_with_meter(demo_visitor, context)
    await receipt_of(demo_visitor, theirs, "7000")
    their_reading = await reading_of(theirs)
    mine = await signed_in_with_meter(visitor, context)
    through_theirs = await post_photo(visitor, theirs, their_reading, JPEG)
    assert through_theirs.status_code == 404
    through_mine = await post_photo(visitor, mine, their_reading, JPEG)
    assert through_mine.status_code == 404
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == their_reading) == 0


async def test_a_cabinet_photo_without_the_csrf_token_is_refused(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await signed_in_with_meter(visitor, context)
    await receipt_of(visitor, meter, "7000")
    reading = await reading_of(meter)
    response = await post_photo(visitor, meter, reading, JPEG, csrf=False)
    assert response.status_code == 403
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == reading) == 0
