"""Chat photos: the worker downloads what a chat stored as the platform's reference.

A photo sent in a chat is stored by the dialog as the platform's reference (content type
`<channel>/file-ref`): a Telegram file_id, or the Viber `media` / Messenger `payload.url`
URL. None of these is of use to a reviewer (a file_id needs the bot's token, and the CDN
URLs expire within days), so each round of the worker downloads them, checks the bytes
with the same rule as the web form (`services.evidence.check_photo`: JPEG, PNG or WebP,
at most 5 MiB) and stores the image (base64) in place of the reference, with an audit
entry that keeps the reference.

A download that fails by the platform or the network (an HTTP error, a timeout) is tried
again later, waiting as the outbox does (`sender.backoff`), and given up after
`MAX_FETCH_ATTEMPTS`; what is not a photo (not an image, too large) is given up at once.
A row given up keeps its reference, with the reason, so nothing is lost.

Rows are claimed as the outbox claims messages: the claim moves `fetch_next_at` a lease
(`claims.LEASE`) ahead, with `FOR UPDATE SKIP LOCKED` on PostgreSQL and inside one
IMMEDIATE transaction on SQLite, so several workers never download one photo together;
the image is stored only while the row still holds the reference, so a worker whose lease
ran out stores nothing twice. The bot token is never written to a log line, a row or an
audit entry: it appears only in the URLs the requests are made to.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.domain.readings import MAX_PHOTO_BYTES, Channel
from pokaznyk_core.i18n import normalize_locale, translate
from pokaznyk_core.outbox.claims import LEASE
from pokaznyk_core.outbox.delivery import json_object
from pokaznyk_core.outbox.queue import enqueue
from pokaznyk_core.outbox.sender import backoff
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.services.evidence import check_photo
from pokaznyk_core.services.identities import language_of
from pokaznyk_core.services.turn_store import REPLY_KIND
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.tables import ReadingEvidence
from pokaznyk_core.storage.transactions import is_postgres, write_transaction

log = logging.getLogger("pokaznyk.photos")

MAX_FETCH_ATTEMPTS = 16
"""Downloads tried before a photo is given up: with the outbox's waits (5 s doubling up
to an hour) the last is about six and a half hours after the first."""
DOWNLOAD_SECONDS = 60.0
"""The longest one download may take in all (a server that sends a byte a second would
otherwise hold it for ever); well inside the claim's lease (`claims.LEASE`, 2 minutes)."""
PARALLEL_DOWNLOADS = 4
"""Photos claimed and downloaded at once (at most 4 × 5 MiB in memory)."""
FILE_REF_SUFFIX = "/file-ref"
"""The content type of a chat photo still stored as the platform's reference ends so."""
TO_FETCH = "content_type LIKE '%/file-ref' AND fetch_failed_at IS NULL"
"""The condition of the partial index `reading_evidence_to_fetch`, word for word, so that
both engines search the index (migration 2026-12-01T12:00:01); the claim orders by the index's
column too, which SQLite needs to choose it over a scan of the table."""
ACTOR = "worker"
"""Who the audit entries of the downloads name."""
_CHANNELS_WITHOUT_TOKEN = ("viber", "messenger")
"""Channels whose photo references are plain URLs, downloaded without a credential."""


@dataclass(frozen=True)
class PhotoFetchRound:
    """What one round did: photos stored, downloads to try again, photos given up."""

    fetched: int = 0
    retrying: int = 0
    given_up: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    reading: str
    content_type: str
    reference: str
    attempts: int
    sender: str = ""
    """The chat user who sent it ("viber:<id>")."""

    @property
    def channel(self) -> str:
        return self.content_type.removesuffix(FILE_REF_SUFFIX)


@dataclass(frozen=True)
class _Failure:
    reason: str
    retry: bool


def _reference_types(settings: Settings) -> list[str]:
    """The reference types this process can download: Telegram's only with a bot token."""
    channels = [*_CHANNELS_WITHOUT_TOKEN]
    if settings.telegram_bot_token:
        channels.insert(0, "telegram")
    return [f"{channel}{FILE_REF_SUFFIX}" for channel in channels]


_PG_CLAIM = f"""
UPDATE reading_evidence SET fetch_next_at = {{}}
WHERE id IN (
    SELECT id FROM reading_evidence
    WHERE {TO_FETCH} AND content_type = ANY({{}})
        AND (fetch_next_at IS NULL OR fetch_next_at <= {{}})
    ORDER BY fetch_next_at NULLS FIRST, id
    LIMIT {{}}
    FOR UPDATE SKIP LOCKED
)
RETURNING id, reading, content_type, content, fetch_attempts, source
"""


def _sqlite_due(types: list[str]) -> str:
    marks = ", ".join("{}" for _ in types)
    return (
        "SELECT id, reading, content_type, content, fetch_attempts, source FROM reading_evidence"
        f" WHERE {TO_FETCH} AND content_type IN ({marks})"
        " AND (fetch_next_at IS NULL OR fetch_next_at <= {})"
        " ORDER BY fetch_next_at NULLS FIRST, id LIMIT {}"
    )


async def _claim(now: datetime, types: list[str], limit: int) -> list[_Claimed]:
    """Lease up to `limit` due chat photos of `types`, in the order they fell due."""
    until = now + LEASE
    if is_postgres():
        rows = await ReadingEvidence.raw(_PG_CLAIM, until, types, now, limit)
    else:
        query = _sqlite_due(types)
        # A read first: most rounds find nothing, and need not take SQLite's write lock.
        if not await ReadingEvidence.raw(query, *types, now, 1):
            return []
        async with write_transaction():
            rows = await ReadingEvidence.raw(query, *types, now, limit)
            if rows:
                await ReadingEvidence.update({ReadingEvidence.fetch_next_at: until}).where(
                    ReadingEvidence.id.is_in([row["id"] for row in rows])
                )
    claimed = [
        _Claimed(
            id=int(row["id"]),
            reading=str(row["reading"]),
            content_type=str(row["content_type"]),
            reference=str(row["content"]),
            attempts=int(row["fetch_attempts"]),
            sender=str(row["source"]),
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda photo: photo.id)


def _redact(text: str, settings: Settings) -> str:
    """`text` without the bot token (an error may quote the URL it was made to)."""
    token = settings.telegram_bot_token
    return text.replace(token, "<token>") if token else text


def _too_large() -> _Failure:
    """More than `MAX_PHOTO_BYTES`: the key `check_photo` refuses such a photo with."""
    return _Failure("evidence.too_large", retry=False)


async def _telegram_file_url(
    client: httpx.AsyncClient, settings: Settings, file_id: str
) -> str | _Failure:
    """The download URL of a Telegram file (getFile), or why there is none."""
    base = settings.telegram_api_base.rstrip("/")
    token = settings.telegram_bot_token
    response = await client.get(f"{base}/bot{token}/getFile", params={"file_id": file_id})
    data = json_object(response)
    result = data.get("result")
    if not response.is_success or data.get("ok") is not True or not isinstance(result, dict):
        description = str(data.get("description") or "")[:200]
        return _Failure(f"getFile: HTTP {response.status_code} {description}".strip(), True)
    size = result.get("file_size")
    if isinstance(size, int) and size > MAX_PHOTO_BYTES:
        return _too_large()
    path = result.get("file_path")
    if not isinstance(path, str) or not path:
        return _Failure("getFile: no file_path in the answer", retry=True)
    return f"{base}/file/bot{token}/{path.lstrip('/')}"


async def _read_limited(client: httpx.AsyncClient, url: str) -> bytes | _Failure:
    """GET `url`; its body, reading no further than one byte past `MAX_PHOTO_BYTES`."""
    async with client.stream("GET", url, follow_redirects=True) as response:
        if response.status_code != 200:
            return _Failure(f"HTTP {response.status_code}", retry=True)
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_PHOTO_BYTES:
            return _too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_PHOTO_BYTES:
                return _too_large()
            chunks.append(chunk)
    return b"".join(chunks)


async def _download(
    client: httpx.AsyncClient, settings: Settings, photo: _Claimed
) -> bytes | _Failure:
    """The bytes of a photo from its platform, or why they could not be had."""
    if photo.channel == "telegram":
        url = await _telegram_file_url(client, settings, photo.reference)
        if isinstance(url, _Failure):
            return url
    else:
        url = photo.reference
        if urlsplit(url).scheme not in ("http", "https"):
            return _Failure("the reference is not an http(s) URL", retry=False)
    return await _read_limited(client, url)


async def _fetch(
    client: httpx.AsyncClient, settings: Settings, photo: _Claimed
) -> tuple[bytes, str] | _Failure:
    """The photo's bytes and image type, or why it was not taken."""
    try:
        async with asyncio.timeout(DOWNLOAD_SECONDS):
            content = await _download(client, settings, photo)
    except TimeoutError:
        return _Failure(f"timed out after {DOWNLOAD_SECONDS:.0f} s", retry=True)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return _Failure(_redact(f"{type(error).__name__}: {error}", settings)[:300], True)
    except Exception as error:  # a fault of ours: counted, so one photo cannot loop for ever
        log.exception("chat photo %s (%s): the download failed", photo.id, photo.channel)
        return _Failure(f"{type(error).__name__} (see the log)", retry=True)
    if isinstance(content, _Failure):
        return content
    checked = check_photo(content)
    if isinstance(checked, Refusal):
        return _Failure(checked.key, retry=False)
    return content, checked


def _still_a_reference(photo: _Claimed) -> Any:
    """The row still holds the reference this worker claimed (not stored nor given up by a
    worker whose lease it took over)."""
    return (
        (ReadingEvidence.id == photo.id)
        & (ReadingEvidence.content_type == photo.content_type)
        & ReadingEvidence.fetch_failed_at.is_null()
    )


async def _settle(
    photo: _Claimed,
    changes: dict[Any, Any],
    *,
    action: str,
    details: dict[str, Any],
    at: datetime,
    then: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Write what came of a claimed photo, with its audit entry and what `then` writes, in
    one transaction; False when the row no longer holds the reference this worker claimed
    (another got there)."""
    async with write_transaction():
        changed = await (
            ReadingEvidence.update(changes)
            .where(_still_a_reference(photo))
            .returning(ReadingEvidence.id)
        )
        if not changed:
            return False
        if then is not None:
            await then()
        await record_audit(
            at=at,
            actor=ACTOR,
            action=action,
            entity="reading",
            entity_id=photo.reading,
            details={
                "evidence": photo.id,
                "channel": photo.channel,
                "reference": photo.reference,
                **details,
                "attempts": photo.attempts + 1,
            },
            source=photo.channel,
        )
    return True


async def _store(context: ServiceContext, photo: _Claimed, content: bytes, media: str) -> bool:
    """Replace the reference with the image, with its audit entry; False when another
    worker got there first."""
    changes = {
        ReadingEvidence.content: base64.b64encode(content).decode("ascii"),
        ReadingEvidence.content_type: media,
        ReadingEvidence.fetch_attempts: photo.attempts + 1,
        ReadingEvidence.fetch_next_at: None,
        ReadingEvidence.fetch_error: "",
    }
    details = {"content_type": media, "bytes": len(content)}
    return await _settle(
        photo, changes, action="reading.photo_fetched", details=details, at=context.now()
    )


async def _retry_later(context: ServiceContext, photo: _Claimed, failure: _Failure) -> None:
    attempts = photo.attempts + 1
    at = context.now() + timedelta(seconds=backoff(attempts))
    log.info(
        "chat photo %s (%s): %s; tried again at %s",
        photo.id,
        photo.channel,
        failure.reason,
        at.isoformat(timespec="seconds"),
    )
    await ReadingEvidence.update(
        {
            ReadingEvidence.fetch_attempts: attempts,
            ReadingEvidence.fetch_next_at: at,
            ReadingEvidence.fetch_error: failure.reason,
        }
    ).where(_still_a_reference(photo))


async def _give_up(context: ServiceContext, photo: _Claimed, failure: _Failure) -> None:
    """Keep the reference, say why, and never try again; with an audit entry."""
    now = context.now()
    log.warning("chat photo %s (%s) given up: %s", photo.id, photo.channel, failure.reason)
    changes = {
        ReadingEvidence.fetch_attempts: photo.attempts + 1,
        ReadingEvidence.fetch_next_at: None,
        ReadingEvidence.fetch_error: failure.reason,
        ReadingEvidence.fetch_failed_at: now,
    }
    details = {"reason": failure.reason}
    await _settle(
        photo,
        changes,
        action="reading.photo_not_fetched",
        details=details,
        at=now,
        then=lambda: _tell_sender(photo, now),
    )


async def _tell_sender(photo: _Claimed, now: datetime) -> None:
    """Tell the customer, who was told the photo was added, that it could not be had, so
    that they may send it again (once, in their language); in the transaction that gives
    the photo up."""
    channel, _, user = photo.sender.partition(":")
    if channel != photo.channel or not user:
        return
    locale = normalize_locale(await language_of(Channel(channel), user))
    reply = Reply(text=translate("dialog.photo_not_fetched", locale), locale=locale)
    payload = {"reply": reply.to_json(), "kind": REPLY_KIND}
    await enqueue(channel, user, payload, now=now, dedupe_key=f"photo-failed:{photo.id}")


def _is_final(failure: _Failure, attempts: int) -> bool:
    """A failure that retrying cannot mend, or the last attempt allowed."""
    return not failure.retry or attempts >= MAX_FETCH_ATTEMPTS


async def _take(
    context: ServiceContext, client: httpx.AsyncClient, photo: _Claimed
) -> PhotoFetchRound:
    """Download one claimed photo and record what came of it."""
    fetched = await _fetch(client, context.settings, photo)
    if not isinstance(fetched, _Failure):
        stored = await _store(context, photo, *fetched)
        return PhotoFetchRound(fetched=int(stored))
    if _is_final(fetched, photo.attempts + 1):
        await _give_up(context, photo, fetched)
        return PhotoFetchRound(given_up=1)
    await _retry_later(context, photo, fetched)
    return PhotoFetchRound(retrying=1)


async def fetch_chat_photos(
    context: ServiceContext, client: httpx.AsyncClient, *, limit: int = 12
) -> PhotoFetchRound:
    """Download up to `limit` chat photos that are due and store them as images.

    Telegram photos wait while no bot token is set (they need it); Viber and Messenger
    photos are plain URLs. The photos are claimed `PARALLEL_DOWNLOADS` at a time and
    downloaded together, so each is done (`DOWNLOAD_SECONDS` at most) well before its
    lease ends; each outcome is written as soon as it is known.
    """
    types = _reference_types(context.settings)
    fetched = retrying = given_up = taken = 0
    while taken < limit:
        photos = await _claim(context.now(), types, min(PARALLEL_DOWNLOADS, limit - taken))
        if not photos:
            break
        taken += len(photos)
        outcomes = await asyncio.gather(
            *(_take(context, client, p) for p in photos), return_exceptions=True
        )
        for photo, done in zip(photos, outcomes, strict=True):
            if isinstance(done, BaseException):  # the database, most likely: the lease
                log.warning(  # ends and the photo is tried again, with nothing counted
                    "chat photo %s: its outcome was not recorded", photo.id, exc_info=done
                )
                continue
            fetched += done.fetched
            retrying += done.retrying
            given_up += done.given_up
    return PhotoFetchRound(fetched=fetched, retrying=retrying, given_up=given_up)
