"""Values that describe a stored reading: its channel and its status."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a reading reached us."""

    TELEGRAM = "telegram"
    VIBER = "viber"
    MESSENGER = "messenger"
    IVR = "ivr"
    WEB_FORM = "web_form"
    CABINET = "cabinet"
    FIELD = "field"
    CALL_CENTER = "call_center"
    IMPORT = "import"


class ReadingStatus(StrEnum):
    """Where a stored reading stands."""

    ACCEPTED = "accepted"
    FLAGGED = "flagged"
    REJECTED_ON_REVIEW = "rejected_on_review"
    SUPERSEDED = "superseded"


COUNTING_STATUSES: frozenset[ReadingStatus] = frozenset(
    {ReadingStatus.ACCEPTED, ReadingStatus.FLAGGED}
)
"""Statuses of readings that count (for history, checks and billing)."""

CUSTOMER_CHANNELS: frozenset[Channel] = frozenset(
    {
        Channel.TELEGRAM,
        Channel.VIBER,
        Channel.MESSENGER,
        Channel.IVR,
        Channel.WEB_FORM,
        Channel.CABINET,
        Channel.CALL_CENTER,
    }
)
"""Channels through which a reading comes from the customer (as opposed to staff or import)."""

MAX_PHOTOS_PER_READING = 3
"""How many photos of the meter one reading may carry, whatever the channel."""
MAX_PHOTO_BYTES = 5 * 1024 * 1024
"""The largest photo of the meter taken: 5 MiB."""
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
"""The image types a photo of the meter is taken in (others are refused, on every channel)."""
