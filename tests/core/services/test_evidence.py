"""Attaching a photo of the meter to a flagged reading, on both database engines."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from pokaznyk_core.domain.readings import Channel, ReadingStatus
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.services.evidence import (
    MAX_PHOTO_BYTES,
    attach_photo,
    image_type,
    photo_counts,
    stored_receipt,
)
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.storage.tables import AuditEntry, ReadingEvidence
from pokaznyk_core.testing import make_meter_fixture

T = Zone.TOTAL
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


async def reading(context: ServiceContext, value: str) -> tuple[UUID, ReadingStatus | None]:
    """A reading of a meter installed on 1 September 2026 (100.0): a big jump is flagged."""
    meter = await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 9, 1)
    )
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal(value)},
            channel=Channel.WEB_FORM,
            submitted_by="web:10.0.0.1",
        ),
    )
    return outcome.reading_id, outcome.status


@pytest.mark.parametrize(
    ("content", "expected"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"), (b"GIF89a....", None)],
    ids=["jpeg", "png", "webp", "gif"],
)
def test_the_image_type_is_told_by_the_first_bytes(content: bytes, expected: str | None) -> None:
    assert image_type(content) == expected


def test_text_that_says_it_is_a_jpeg_is_not_an_image() -> None:
    assert image_type(b"just some text, honestly a jpeg") is None
    assert image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


async def test_a_flagged_reading_takes_a_photo_stored_as_base64_with_an_audit_entry(
    context: ServiceContext,
) -> None:
    reading_id, status = await reading(context, "7000.0")
    assert status is ReadingStatus.FLAGGED
    refusal = await attach_photo(
        context, reading_id, content=JPEG, content_type="text/plain", source="web:10.0.0.1"
    )
    assert refusal is None
    rows = await ReadingEvidence.select().where(ReadingEvidence.reading == reading_id)
    assert len(rows) == 1
    assert rows[0]["content_type"] == "image/jpeg"  # told by the bytes, not by the client
    assert base64.b64decode(rows[0]["content"]) == JPEG
    assert rows[0]["source"] == "web:10.0.0.1"
    audit = await AuditEntry.select().where(
        (AuditEntry.action == "reading.photo_attached") & (AuditEntry.entity_id == str(reading_id))
    )
    assert len(audit) == 1
    details = json.loads(audit[0]["details"])
    assert details["declared_content_type"] == "text/plain" and details["bytes"] == len(JPEG)
    receipt = await stored_receipt(reading_id)
    assert receipt is not None and receipt.photos == 1 and receipt.outcome.flagged


async def test_a_fourth_photo_is_refused(context: ServiceContext) -> None:
    reading_id, _ = await reading(context, "7000.0")
    for content in (JPEG, PNG, WEBP):
        assert (
            await attach_photo(context, reading_id, content=content, content_type="", source="t")
            is None
        )
    refusal = await attach_photo(context, reading_id, content=JPEG, content_type="", source="t")
    assert refusal == Refusal("evidence.too_many", {"max": 3}, "photo")
    assert (await photo_counts([reading_id]))[reading_id] == 3


async def test_an_accepted_reading_takes_no_photo(context: ServiceContext) -> None:
    reading_id, status = await reading(context, "150.0")
    assert status is ReadingStatus.ACCEPTED
    refusal = await attach_photo(context, reading_id, content=JPEG, content_type="", source="t")
    assert refusal is not None and refusal.key == "evidence.not_flagged"
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == reading_id) == 0


async def test_too_large_empty_and_non_image_content_is_refused_before_the_database(
    context: ServiceContext,
) -> None:
    unknown = uuid4()
    too_large = JPEG + b"\x00" * MAX_PHOTO_BYTES
    cases = {
        b"": "evidence.empty",
        too_large: "evidence.too_large",
        b"%PDF-1.7": "evidence.not_an_image",
    }
    for content, key in cases.items():
        refusal = await attach_photo(context, unknown, content=content, content_type="", source="t")
        assert refusal is not None and refusal.key == key and refusal.field == "photo"
    refusal = await attach_photo(context, unknown, content=JPEG, content_type="", source="t")
    assert refusal is not None and refusal.key == "evidence.unknown_reading"


async def test_a_photo_of_exactly_the_limit_is_taken(context: ServiceContext) -> None:
    reading_id, _ = await reading(context, "7000.0")
    content = PNG + b"\x00" * (MAX_PHOTO_BYTES - len(PNG))
    assert (
        await attach_photo(context, reading_id, content=content, content_type="", source="t")
        is None
    )


async def test_a_cabinet_customer_can_attach_only_to_their_own_accounts_readings(
    context: ServiceContext,
) -> None:
    reading_id, _ = await reading(context, "7000.0")
    refusal = await attach_photo(
        context, reading_id, content=JPEG, content_type="", source="customer:999", customer_id=999
    )
    assert refusal is not None and refusal.key == "evidence.unknown_reading"
    assert await ReadingEvidence.count().where(ReadingEvidence.reading == reading_id) == 0
