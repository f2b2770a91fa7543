"""The optional photo of the meter on the receipt of a flagged reading, shared by /submit
and the cabinet: the signed token naming the reading, the form's state per reading, the
posted file, and the receipt shown again after a photo is posted.

The /submit receipt carries a token naming the reading (``reading.<uuid hex>.<expires>``,
signed like the account token, which has another prefix so neither passes for the other):
only the visitor who saw the receipt can attach to that reading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Template
from litestar.types import ExceptionHandlersMap
from litestar.utils.scope.state import ScopeState

from pokaznyk_core.domain.readings import MAX_PHOTO_BYTES, MAX_PHOTOS_PER_READING
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customer_readings import AccountMeters, load_account_meters
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.services.evidence import (
    PHOTO_FIELD,
    photo_counts,
    stored_receipt,
)
from pokaznyk_dashboard.error_pages import error_page
from pokaznyk_dashboard.public.flow import StoredReading
from pokaznyk_dashboard.web import page

PHOTO_REQUEST_MAX_BYTES = MAX_PHOTO_BYTES + 1024 * 1024
"""The largest photo request read: the photo limit and room for the form around it; a
photo between the two gets a field error, a larger request the "too large" page (413)."""
MAX_MB = MAX_PHOTO_BYTES // (1024 * 1024)


@dataclass(frozen=True)
class PhotoSlot:
    """The photo form of one flagged reading: what it posts, how many photos it has, and
    what became of the last one posted."""

    reading_id: UUID
    hidden: Mapping[str, str]
    count: int = 0
    refusal: Refusal | None = None
    attached: bool = False
    max_photos: int = MAX_PHOTOS_PER_READING
    max_mb: int = MAX_MB

    @property
    def field_id(self) -> str:
        """The file input's id (unique on a receipt of several meters)."""
        return f"{PHOTO_FIELD}-{self.reading_id.hex}"

    @property
    def full(self) -> bool:
        """No room for another photo."""
        return self.count >= self.max_photos


async def photo_slots(
    stored: Sequence[StoredReading], hidden: Callable[[UUID], Mapping[str, str]]
) -> dict[UUID, PhotoSlot]:
    """A photo form for each flagged reading of a receipt, keyed by reading id."""
    flagged = [s.outcome.reading_id for s in stored if s.outcome is not None and s.outcome.flagged]
    counts = await photo_counts(flagged)
    return {rid: PhotoSlot(rid, hidden(rid), counts[rid]) for rid in flagged}


@dataclass(frozen=True)
class PostedPhoto:
    """A posted photo form: its text fields and the file (empty when none was chosen)."""

    fields: Mapping[str, str]
    content: bytes = b""
    content_type: str = ""


def _close_uploads(request: Request[Any, Any, Any]) -> None:
    """Close every file of the parsed form (a form refused before its handler ran, by
    the CSRF check, would otherwise leave its spooled files to the garbage collector)."""
    form = ScopeState.from_scope(request.scope).form
    if not isinstance(form, dict):
        return
    for value in form.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, UploadFile):
                item.file.close()


async def read_posted_photo(request: Request[Any, Any, Any]) -> PostedPhoto:
    """The posted form; reads at most one byte more than a photo may have, then closes
    the form's files."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get(PHOTO_FIELD)
    try:
        if not isinstance(upload, UploadFile):
            return PostedPhoto(fields)
        content = await upload.read(MAX_PHOTO_BYTES + 1)
        return PostedPhoto(fields, content, upload.content_type or "")
    finally:
        _close_uploads(request)


async def receipt_again(
    context: ServiceContext, reading_id: UUID
) -> tuple[AccountMeters, StoredReading, int] | None:
    """The account, the receipt entry and the photo count of a stored reading, or None."""
    receipt = await stored_receipt(reading_id)
    if receipt is None:
        return None
    account = await load_account_meters(context, receipt.account_id)
    meter = account.meter(receipt.meter_id) if account is not None else None
    if account is None or meter is None:
        return None
    return account, StoredReading(meter, receipt.values, receipt.outcome), receipt.photos


def photo_refused(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    """The CSRF check refused the form (the expired form's page, 403, as everywhere); its
    files are closed."""
    _close_uploads(request)
    return error_page(request, exc)


def photo_too_large(request: Request[Any, Any, Any], _: RequestEntityTooLarge) -> Template:
    """A photo request over the limit: say so and what to do (413, never a 500)."""
    area = "cabinet" if request.url.path.startswith("/cabinet") else "public"
    return page(
        request,
        "readings/photo_too_large.html",
        {"area": area, "max_mb": MAX_MB, "restart": "/cabinet" if area == "cabinet" else "/submit"},
        status_code=413,
    )


PHOTO_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    PermissionDeniedException: photo_refused,
    RequestEntityTooLarge: photo_too_large,
}
"""The photo routes' own answers to a refused CSRF check and to a request too large."""
