"""What a new reading is checked against: the previous reading and the meter's history.

One rule for every place that checks a reading (the submission service, the chat's preview,
the web form): a reading taken in the window is a correction of this window's earlier
readings, so it is checked against the reading before them, never against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pokaznyk_core.domain.checks import ConsumptionHistory, Flag, PreviousReading
from pokaznyk_core.domain.estimates import daily_average
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.readings import COUNTING_STATUSES, ReadingStatus
from pokaznyk_core.domain.window import Placement
from pokaznyk_core.domain.zones import ZoneValues

HISTORY_READINGS = 13
"""How many earlier readings feed the consumption history (about a year of months)."""


AWAITS_REVIEWER = (ReadingStatus.FLAGGED, Flag.UNVERIFIED_SUBMITTER)
"""A reading in this status with this flag is no baseline (`is_baseline`)."""


def is_baseline(status: str, flags: Iterable[str]) -> bool:
    """Whether a stored reading is one that later readings are checked against, and that
    the customer is shown as their last: a counting reading, but not one from a submitter
    the service could not verify (a phone caller not on the account) that no reviewer has
    accepted yet. A stranger's value must not make the holder's true reading "lower than
    the previous one", nor be read back to the holder as theirs."""
    return status in COUNTING_STATUSES and not awaits_reviewer(status, flags)


def awaits_reviewer(status: str, flags: Iterable[str]) -> bool:
    """Whether a reading came from a submitter the service could not verify and waits for
    a reviewer: it is not the customer's own, not even as "the latest reading"."""
    status_awaiting, flag = AWAITS_REVIEWER
    return status == status_awaiting and flag in set(flags)


@dataclass(frozen=True)
class PastReading:
    """A counting reading of the meter, as the checks need it."""

    taken_on: date
    values: ZoneValues
    period: str
    in_window: bool


def corrected_by(reading: PastReading, placement: Placement) -> bool:
    """True when a new reading placed at `placement` corrects `reading` (both in the
    window of the same period): it supersedes it and is not checked against it."""
    return placement.in_window and reading.in_window and reading.period == str(placement.period)


def previous_reading(
    newest_first: Sequence[PastReading],
    placement: Placement | None,
    *,
    installed_on: date,
    initial: ZoneValues,
) -> PreviousReading:
    """The reading a new one at `placement` is checked against: the latest one it does not
    correct, or the meter's initial reading."""
    for reading in newest_first:
        if placement is None or not corrected_by(reading, placement):
            return PreviousReading(taken_on=reading.taken_on, values=reading.values)
    return PreviousReading(taken_on=installed_on, values=initial)


def previous_and_history(
    newest_first: Sequence[PastReading],
    placement: Placement | None,
    *,
    meter: MeterSpec,
    installed_on: date,
    initial: ZoneValues,
    complete: bool = True,
) -> tuple[PreviousReading, ConsumptionHistory | None]:
    """The reading a new one at `placement` is checked against (`previous_reading`) and
    the daily history of the last `HISTORY_READINGS` readings before it. Without a
    placement nothing is left out.

    `complete` says `newest_first` holds every counting reading of the meter: then a meter
    with fewer readings than the history takes has its history start at its installation,
    from the initial reading. A longer one's history is its latest readings only (about a
    year), never its whole life.
    """
    previous = previous_reading(newest_first, placement, installed_on=installed_on, initial=initial)
    earlier = [r for r in newest_first if placement is None or not corrected_by(r, placement)]
    points = [(r.taken_on, r.values) for r in earlier[:HISTORY_READINGS]]
    if complete and len(points) < HISTORY_READINGS and all(d > installed_on for d, _ in points):
        points.append((installed_on, initial))
    return previous, daily_average(points, meter)
