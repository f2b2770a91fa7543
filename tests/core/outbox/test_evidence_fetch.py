"""Chat photos downloaded by the worker and stored as images, on both database engines.

A photo goes in as a customer sends it (through the dialog, which stores the platform's
reference); the platforms and the CDN behind Viber and Messenger media URLs are the local
fakes of `pokaznyk_core.testing_platforms`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pokaznyk_core.dialog import Incoming, IncomingKind
from pokaznyk_core.domain.readings import MAX_PHOTOS_PER_READING, Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import translate
from pokaznyk_core.outbox import run_worker
from pokaznyk_core.outbox.evidence_fetch import (
    MAX_FETCH_ATTEMPTS,
    PhotoFetchRound,
    _sqlite_due,
    fetch_chat_photos,
)
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.conversation import handle_incoming
from pokaznyk_core.services.evidence import MAX_PHOTO_BYTES, attach_chat_photo
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.tables import AuditEntry, OutboxMessage, Reading, ReadingEvidence
from pokaznyk_core.testing import FixedClock, make_meter_fixture
from pokaznyk_core.testing_platforms import FakeMediaHost, FakeTelegram

T = Zone.TOTAL
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x01" * 512
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x02" * 512
TOO_LARGE = JPEG + b"\x00" * MAX_PHOTO_BYTES


@pytest.fixture
async def media_host() -> AsyncIterator[FakeMediaHost]:
    """The CDN that Viber `media` and Messenger attachment URLs point at."""
    async with FakeMediaHost() as fake:
        yield fake


@pytest.fixture(autouse=True)
async def no_photos_of_earlier_tests(platforms_context: ServiceContext) -> None:
    """Each test sees only its own chat photos (the database is shared by the module)."""
    await ReadingEvidence.delete(force=True)


async def photo_sent_in_a_chat(context: ServiceContext, channel: Channel, reference: str) -> int:
    """A customer submits a value far above their usual one, then sends a photo known to
    the platform as `reference`; returns the evidence row's id."""
    meter = await make_meter_fixture(
        context, initial={T: Decimal("100.0")}, installed_on=date(2026, 9, 30)
    )
    user = uuid4().hex[:12]
    messages = [
        Incoming(IncomingKind.START),
        Incoming(IncomingKind.BUTTON, payload="menu:submit"),
        Incoming(IncomingKind.TEXT, text=meter.account_number),
        Incoming(IncomingKind.TEXT, text=meter.surname),
        Incoming(IncomingKind.TEXT, text="90000"),
        Incoming(IncomingKind.BUTTON, payload="confirm"),
        Incoming(IncomingKind.PHOTO, photo_ref=reference),
    ]
    for message in messages:
        await handle_incoming(context, channel, user, message, update_key=uuid4().hex)
    rows = await (
        ReadingEvidence.select()
        .where(ReadingEvidence.reading.meter == meter.meter_id)
        .order_by(ReadingEvidence.id)
    )
    assert [(r["content_type"], r["content"]) for r in rows] == [
        (f"{channel.value}/file-ref", reference)
    ]
    return int(rows[0]["id"])


async def told_of(evidence_id: int) -> list[dict[str, Any]]:
    """The messages queued to tell a photo's sender it could not be had."""
    return await OutboxMessage.select().where(
        OutboxMessage.dedupe_key == f"photo-failed:{evidence_id}"
    )


async def evidence(evidence_id: int) -> dict[str, Any]:
    row = await ReadingEvidence.select().where(ReadingEvidence.id == evidence_id).first()
    assert row is not None
    return row


async def audit_of(evidence_id: int, action: str) -> list[dict[str, Any]]:
    row = await evidence(evidence_id)
    entries = await AuditEntry.select().where(
        (AuditEntry.action == action) & (AuditEntry.entity_id == str(row["reading"]))
    )
    return [json.loads(e["details"]) for e in entries]


async def a_round(context: ServiceContext, **options: Any) -> PhotoFetchRound:
    async with httpx.AsyncClient() as client:
        return await fetch_chat_photos(context, client, **options)


async def test_a_telegram_photo_is_downloaded_and_stored_as_a_jpeg_with_an_audit_entry(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_file("AgAD-large", JPEG, "photos/file_7.jpg")
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-large")

    done = await a_round(platforms_context)

    assert (done.fetched, done.retrying, done.given_up) == (1, 0, 0)
    stored = await evidence(photo)
    assert stored["content_type"] == "image/jpeg"
    assert base64.b64decode(stored["content"]) == JPEG
    assert (stored["fetch_attempts"], stored["fetch_error"]) == (1, "")
    assert stored["fetch_failed_at"] is None
    assert await told_of(photo) == []
    [get_file] = fake_telegram.calls("/getFile")
    assert get_file.method == "GET" and get_file.query == {"file_id": "AgAD-large"}
    [download] = fake_telegram.calls("/photos/file_7.jpg")
    assert download.path == f"/file/bot{fake_telegram.token}/photos/file_7.jpg"
    [details] = await audit_of(photo, "reading.photo_fetched")
    assert details["reference"] == "AgAD-large"
    assert (details["content_type"], details["bytes"]) == ("image/jpeg", len(JPEG))
    assert fake_telegram.token not in json.dumps(details)

    again = await a_round(platforms_context)
    assert again.fetched == 0 and len(fake_telegram.requests) == 2  # stored once for good


@pytest.mark.parametrize(
    ("channel", "content", "media_type"),
    [(Channel.VIBER, PNG, "image/png"), (Channel.MESSENGER, WEBP, "image/webp")],
    ids=["viber", "messenger"],
)
async def test_a_viber_or_messenger_picture_is_downloaded_from_its_media_url(
    platforms_context: ServiceContext,
    media_host: FakeMediaHost,
    channel: Channel,
    content: bytes,
    media_type: str,
) -> None:
    # the CDN says it is a JPEG: the bytes decide
    url = media_host.put(f"{channel.value}-1.jpg", content, "image/jpeg")
    photo = await photo_sent_in_a_chat(platforms_context, channel, url)

    done = await a_round(platforms_context)

    assert done.fetched == 1
    stored = await evidence(photo)
    assert (stored["content_type"], base64.b64decode(stored["content"])) == (media_type, content)
    [request] = media_host.requests
    assert request.method == "GET" and request.query["oe"] == "6790ABCD"  # the URL as it came
    [details] = await audit_of(photo, "reading.photo_fetched")
    assert details["reference"] == url and details["channel"] == channel.value


async def test_a_url_that_answers_500_is_tried_again_later_and_then_stored(
    platforms_context: ServiceContext, media_host: FakeMediaHost, clock: FixedClock
) -> None:
    url = media_host.put("later.jpg", JPEG)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.VIBER, url)
    media_host.fail_next(1, status=500)

    first = await a_round(platforms_context)

    assert first.retrying == 1
    waiting = await evidence(photo)
    assert (waiting["content_type"], waiting["content"]) == ("viber/file-ref", url)
    assert (waiting["fetch_attempts"], waiting["fetch_error"]) == (1, "HTTP 500")
    assert waiting["fetch_next_at"] == clock.now() + timedelta(seconds=5)
    assert (await a_round(platforms_context)).fetched == 0  # not due yet
    assert len(media_host.requests) == 1

    clock.advance(timedelta(seconds=5))
    assert (await a_round(platforms_context)).fetched == 1
    stored = await evidence(photo)
    assert (stored["content_type"], stored["fetch_attempts"]) == ("image/jpeg", 2)
    assert stored["fetch_error"] == ""
    assert len(await audit_of(photo, "reading.photo_fetched")) == 1


async def test_a_telegram_server_error_is_tried_again_later_too(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, clock: FixedClock
) -> None:
    fake_telegram.add_file("AgAD-flaky", JPEG)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-flaky")
    fake_telegram.fail_next(1, status=502)

    assert (await a_round(platforms_context)).retrying == 1
    assert "502" in (await evidence(photo))["fetch_error"]
    clock.advance(timedelta(seconds=5))
    assert (await a_round(platforms_context)).fetched == 1


@pytest.mark.parametrize(
    ("name", "content", "chunked", "reason"),
    [
        ("page.jpg", b"<html><body>Sorry, not found</body></html>", False, "not_an_image"),
        ("huge.jpg", TOO_LARGE, False, "too_large"),
        ("huge-unsaid.jpg", TOO_LARGE, True, "too_large"),
    ],
    ids=["not-an-image", "too-large", "too-large-without-a-length"],
)
async def test_a_download_that_is_no_photo_is_given_up_with_the_reason_and_keeps_its_reference(
    platforms_context: ServiceContext,
    media_host: FakeMediaHost,
    clock: FixedClock,
    name: str,
    content: bytes,
    chunked: bool,
    reason: str,
) -> None:
    url = media_host.put(name, content, chunked=chunked)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.MESSENGER, url)

    done = await a_round(platforms_context)

    assert done.given_up == 1
    kept = await evidence(photo)
    assert (kept["content_type"], kept["content"]) == ("messenger/file-ref", url)
    assert kept["fetch_error"] == f"evidence.{reason}"
    assert kept["fetch_failed_at"] == clock.now()
    [details] = await audit_of(photo, "reading.photo_not_fetched")
    assert details["reference"] == url and details["reason"] == f"evidence.{reason}"
    [told] = await told_of(photo)  # the customer, told it was added, may send it again
    assert told["channel"] == "messenger" and told["recipient"] == kept["source"].split(":")[1]
    reply = json.loads(told["payload"]) if isinstance(told["payload"], str) else told["payload"]
    assert reply["reply"]["text"] == translate("dialog.photo_not_fetched", "uk")
    clock.advance(timedelta(days=2))
    assert await a_round(platforms_context) == PhotoFetchRound()  # never tried again
    assert len(media_host.requests) == 1
    assert len(await told_of(photo)) == 1


async def test_a_photo_given_up_leaves_room_for_another_within_the_limit(
    platforms_context: ServiceContext, media_host: FakeMediaHost
) -> None:
    url = media_host.put("page.jpg", b"<html>not an image</html>")
    photo = await photo_sent_in_a_chat(platforms_context, Channel.VIBER, url)
    assert (await a_round(platforms_context)).given_up == 1
    reading = (await evidence(photo))["reading"]
    [row] = await Reading.select(Reading.submitted_by).where(Reading.id == reading)
    for n in range(MAX_PHOTOS_PER_READING):
        refused = await attach_chat_photo(
            reading,
            reference=f"https://media.example/{n}.jpg",
            channel="viber",
            submitted_by=row["submitted_by"],
            now=platforms_context.now(),
        )
        assert refused is None, n  # the one given up does not count
    stored = await ReadingEvidence.count().where(ReadingEvidence.reading == reading)
    assert stored == MAX_PHOTOS_PER_READING + 1


async def test_a_telegram_file_over_the_limit_is_given_up_without_downloading_it(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_file("AgAD-huge", TOO_LARGE)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-huge")

    assert (await a_round(platforms_context)).given_up == 1

    kept = await evidence(photo)
    assert (kept["content"], kept["fetch_error"]) == ("AgAD-huge", "evidence.too_large")
    assert [r.path for r in fake_telegram.requests] == [f"/bot{fake_telegram.token}/getFile"]


async def test_a_download_that_keeps_failing_is_given_up_after_the_bound(
    platforms_context: ServiceContext, media_host: FakeMediaHost, clock: FixedClock
) -> None:
    url = media_host.put("down.jpg", JPEG)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.VIBER, url)
    media_host.fail_next(MAX_FETCH_ATTEMPTS + 5, status=502)

    for _ in range(MAX_FETCH_ATTEMPTS + 3):
        await a_round(platforms_context)
        clock.advance(timedelta(hours=1))

    kept = await evidence(photo)
    assert (kept["content_type"], kept["content"]) == ("viber/file-ref", url)
    assert (kept["fetch_attempts"], kept["fetch_error"]) == (MAX_FETCH_ATTEMPTS, "HTTP 502")
    assert kept["fetch_failed_at"] is not None and kept["fetch_next_at"] is None
    assert len(media_host.requests) == MAX_FETCH_ATTEMPTS
    assert len(await audit_of(photo, "reading.photo_not_fetched")) == 1


async def test_two_concurrent_rounds_fetch_each_photo_once(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram, media_host: FakeMediaHost
) -> None:
    photos = []
    for n in range(4):
        fake_telegram.add_file(f"AgAD-{n}", JPEG, f"photos/file_{n}.jpg")
        photos.append(await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, f"AgAD-{n}"))
        url = media_host.put(f"m-{n}.jpg", PNG)
        photos.append(await photo_sent_in_a_chat(platforms_context, Channel.MESSENGER, url))

    async with httpx.AsyncClient() as one, httpx.AsyncClient() as two:
        rounds = await asyncio.gather(
            fetch_chat_photos(platforms_context, one, limit=3),
            fetch_chat_photos(platforms_context, two, limit=3),
            fetch_chat_photos(platforms_context, one, limit=3),
            fetch_chat_photos(platforms_context, two, limit=3),
        )
        while (await fetch_chat_photos(platforms_context, one, limit=3)).fetched:
            pass

    assert sum(r.fetched for r in rounds) <= len(photos)
    stored = [await evidence(p) for p in photos]
    assert {s["content_type"] for s in stored} == {"image/jpeg", "image/png"}
    assert all(s["fetch_attempts"] == 1 for s in stored)
    downloads = [r.path for r in [*fake_telegram.requests, *media_host.requests]]
    assert len(fake_telegram.calls("/getFile")) == 4
    assert sorted(d for d in downloads if "getFile" not in d) == sorted(
        [f"/file/bot{fake_telegram.token}/photos/file_{n}.jpg" for n in range(4)]
        + [f"/media/m-{n}.jpg" for n in range(4)]
    )
    for photo in photos:
        assert len(await audit_of(photo, "reading.photo_fetched")) == 1


async def test_telegram_photos_wait_while_no_bot_token_is_set(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_file("AgAD-wait", JPEG)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-wait")
    settings = replace(platforms_context.settings, telegram_bot_token="")
    without_token = replace(platforms_context, settings=settings)

    assert await a_round(without_token) == PhotoFetchRound()

    waiting = await evidence(photo)
    assert (waiting["content"], waiting["fetch_attempts"]) == ("AgAD-wait", 0)
    assert fake_telegram.requests == []
    assert (await a_round(platforms_context)).fetched == 1  # once the token is set


async def test_the_bot_token_is_never_recorded_in_a_failure(
    platforms_context: ServiceContext,
    fake_telegram: FakeTelegram,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-unknown")
    caplog.set_level(logging.INFO, logger="pokaznyk")
    fake_telegram.fail_next(1, status=500)
    assert (await a_round(platforms_context)).retrying == 1
    clock.advance(timedelta(seconds=5))
    assert (await a_round(platforms_context)).retrying == 1  # Telegram does not know the file
    gone = replace(platforms_context.settings, telegram_api_base="http://127.0.0.1:9")
    clock.advance(timedelta(seconds=10))
    assert (await a_round(replace(platforms_context, settings=gone))).retrying == 1

    row = await evidence(photo)
    assert row["fetch_attempts"] == 3 and row["fetch_error"].startswith("ConnectError")
    said = caplog.text + json.dumps(row, default=str)
    assert "invalid file_id" in caplog.text
    assert fake_telegram.token not in said


async def test_the_worker_downloads_chat_photos_on_its_own(
    platforms_context: ServiceContext, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_file("AgAD-worker", JPEG)
    photo = await photo_sent_in_a_chat(platforms_context, Channel.TELEGRAM, "AgAD-worker")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(platforms_context, stop, idle_seconds=0.05))
    try:
        for _ in range(200):
            if (await evidence(photo))["content_type"] == "image/jpeg":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)

    assert base64.b64decode((await evidence(photo))["content"]) == JPEG


async def test_a_round_searches_the_index_of_the_photos_still_to_download(
    platforms_context: ServiceContext, database: Database
) -> None:
    types = ["telegram/file-ref", "viber/file-ref"]
    if database.is_postgres:
        [index] = await ReadingEvidence.raw(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'reading_evidence_to_fetch'"
        )
        assert index["indexdef"].endswith(
            "(fetch_next_at) WHERE (((content_type)::text ~~ '%/file-ref'::text)"
            " AND (fetch_failed_at IS NULL))"
        )
    else:
        plan = await ReadingEvidence.raw(
            "EXPLAIN QUERY PLAN " + _sqlite_due(types), *types, platforms_context.now(), 10
        )
        assert any("reading_evidence_to_fetch" in row["detail"] for row in plan), plan
