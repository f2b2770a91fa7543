"""Evidence: a photo of the meter a customer attaches to a flagged reading, for the reviewer.

A photo is never required. It is taken only for a stored reading that waits for review,
only as a JPEG, PNG or WebP image (told by its first bytes, never by what the client
says it is), at most `MAX_PHOTO_BYTES` and at most `MAX_PHOTOS_PER_READING` per reading.
Who may attach is decided by the caller (the web form's signed token names the reading)
or, for a cabinet customer, here: the reading must be on one of their accounts.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pokaznyk_core.domain.checks import Flag, ReadingVerdict
from pokaznyk_core.domain.readings import MAX_PHOTO_BYTES, MAX_PHOTOS_PER_READING, ReadingStatus
from pokaznyk_core.domain.window import Period
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.services.readings import SubmissionOutcome
from pokaznyk_core.storage.tables import CustomerAccount, Meter, Reading, ReadingEvidence
from pokaznyk_core.storage.transactions import lock_for_update, write_transaction
from pokaznyk_core.storage.values import spec_of, values_from_row

PHOTO_FIELD = "photo"
"""The form field a refusal belongs to."""

_SIGNATURES: tuple[tuple[str, int, bytes], ...] = (
    ("image/jpeg", 0, b"\xff\xd8\xff"),
    ("image/png", 0, b"\x89PNG\r\n\x1a\n"),
)


def image_type(content: bytes) -> str | None:
    """The image type the first bytes of ``content`` show (``"image/jpeg"``, ``"image/png"``
    or ``"image/webp"``), or None for anything else."""
    for media_type, offset, magic in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic:
            return media_type
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(content: bytes) -> Refusal | str:
    """The image type of an acceptable photo, or why it is refused (a pure rule)."""
    if not content:
        return Refusal("evidence.empty", field=PHOTO_FIELD)
    if len(content) > MAX_PHOTO_BYTES:
        return Refusal(
            "evidence.too_large", {"max_mb": MAX_PHOTO_BYTES // (1024 * 1024)}, PHOTO_FIELD
        )
    media_type = image_type(content)
    if media_type is None:
        return Refusal("evidence.not_an_image", field=PHOTO_FIELD)
    return media_type


async def _customer_holds(customer_id: int, account_id: int) -> bool:
    return bool(
        await CustomerAccount.exists().where(
            (CustomerAccount.customer == customer_id) & (CustomerAccount.account == account_id)
        )
    )


async def attach_photo(
    context: ServiceContext,
    reading_id: UUID,
    *,
    content: bytes,
    content_type: str,
    source: str,
    customer_id: int | None = None,
) -> Refusal | None:
    """Attach a photo of the meter to a flagged reading; None when it is stored.

    ``content_type`` is what the client declared: it goes to the audit entry only; the
    stored type is the one the bytes show. With ``customer_id`` the reading must be on one
    of that cabinet customer's accounts; without it the caller has proven the submitter
    (the web form's signed token naming the reading). The photo (base64) and its audit
    entry are written in one transaction; the limit per reading holds under concurrency
    because the reading's meter is locked first.
    """
    checked = check_photo(content)
    if isinstance(checked, Refusal):
        return checked
    return await _attach(
        reading_id,
        content_type=checked,
        content=base64.b64encode(content).decode("ascii"),
        source=source,
        now=context.now(),
        details={
            "content_type": checked,
            "declared_content_type": content_type[:100],
            "bytes": len(content),
        },
        customer_id=customer_id,
    )


async def attach_chat_photo(
    reading_id: UUID, *, reference: str, channel: str, submitted_by: str, now: datetime
) -> Refusal | None:
    """Attach a photo sent in a chat, as the platform's reference (the worker downloads it
    later, `outbox.evidence_fetch`), to a flagged reading that chat user submitted; None
    when it is stored. The same rules as `attach_photo`, under the same lock."""
    return await _attach(
        reading_id,
        content_type=f"{channel}/file-ref",
        content=reference,
        source=submitted_by,
        now=now,
        details={"channel": channel, "kind": "file-ref"},
        submitted_by=submitted_by,
    )


async def _attach(
    reading_id: UUID,
    *,
    content_type: str,
    content: str,
    source: str,
    now: datetime,
    details: dict[str, Any],
    customer_id: int | None = None,
    submitted_by: str | None = None,
) -> Refusal | None:
    """Store one photo of a flagged reading with its audit entry, in one transaction; the
    limit per reading holds under concurrency because the reading's meter is locked first.
    A photo whose download was given up does not count towards it."""
    unknown = Refusal("evidence.unknown_reading", field=PHOTO_FIELD)
    async with write_transaction():
        found = await Reading.select(Reading.meter).where(Reading.id == reading_id).first()
        if found is None:
            return unknown
        await lock_for_update("meter", found["meter"])
        reading = await (
            Reading.select(Reading.account, Reading.status, Reading.submitted_by)
            .where(Reading.id == reading_id)
            .first()
        )
        assert reading is not None
        if customer_id is not None and not await _customer_holds(customer_id, reading["account"]):
            return unknown
        if submitted_by is not None and reading["submitted_by"] != submitted_by[:80]:
            return unknown
        if reading["status"] != ReadingStatus.FLAGGED.value:
            return Refusal("evidence.not_flagged", field=PHOTO_FIELD)
        count = await ReadingEvidence.count().where(
            (ReadingEvidence.reading == reading_id) & ReadingEvidence.fetch_failed_at.is_null()
        )
        if count >= MAX_PHOTOS_PER_READING:
            return Refusal("evidence.too_many", {"max": MAX_PHOTOS_PER_READING}, PHOTO_FIELD)
        await ReadingEvidence.insert(
            ReadingEvidence(
                reading=reading_id,
                content_type=content_type,
                content=content,
                source=source[:200],
                attached_at=now,
            )
        )
        await record_audit(
            at=now,
            actor=source,
            action="reading.photo_attached",
            entity="reading",
            entity_id=str(reading_id),
            details={**details, "photo": count + 1},
            source=source,
        )
    return None


async def photo_counts(reading_ids: Collection[UUID]) -> dict[UUID, int]:
    """How many photos each of ``reading_ids`` carries (absent ones: 0)."""
    counts = dict.fromkeys(reading_ids, 0)
    if not counts:
        return counts
    rows = await ReadingEvidence.select(ReadingEvidence.reading).where(
        ReadingEvidence.reading.is_in(list(counts)) & ReadingEvidence.fetch_failed_at.is_null()
    )
    for row in rows:
        key = row["reading"] if isinstance(row["reading"], UUID) else UUID(str(row["reading"]))
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class StoredReceipt:
    """A stored reading as its receipt shows it again (after a photo is posted)."""

    account_id: int
    meter_id: int
    values: Mapping[Zone, Decimal]
    outcome: SubmissionOutcome
    photos: int


def _outcome(row: Mapping[str, Any]) -> SubmissionOutcome:
    period = Period.parse(row["period"])
    assert isinstance(period, Period)
    flags = frozenset(Flag(f) for f in row["flags"].split(",") if f)
    verdict = ReadingVerdict(
        accepted=True,
        problems=(),
        flags=flags,
        notices=(),
        rollover_zones=frozenset(),
        consumption={},
    )
    return SubmissionOutcome(
        reading_id=row["id"],
        stored=True,
        duplicate=True,
        verdict=verdict,
        receipt=row["receipt"],
        status=ReadingStatus(row["status"]),
        period=period,
        in_window=row["in_window"],
    )


async def stored_receipt(reading_id: UUID) -> StoredReceipt | None:
    """The receipt of a stored reading with its photo count, or None when there is none."""
    reading = await Reading.select().where(Reading.id == reading_id).first()
    if reading is None:
        return None
    meter = await Meter.select().where(Meter.id == reading["meter"]).first()
    assert meter is not None
    counts = await photo_counts([reading_id])
    return StoredReceipt(
        account_id=reading["account"],
        meter_id=reading["meter"],
        values=values_from_row(reading, spec_of(meter)),
        outcome=_outcome(reading),
        photos=counts[reading_id],
    )
