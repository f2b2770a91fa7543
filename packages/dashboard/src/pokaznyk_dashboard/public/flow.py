"""The steps every web reading goes through after the form: store, then the receipt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import WindowState, window_state
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customer_readings import MeterFacts
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.services.readings import ReadingSubmission, SubmissionOutcome, submit_reading
from pokaznyk_dashboard.public.form import ReadingForm


@dataclass(frozen=True)
class StoredReading:
    """What became of one meter's reading: its outcome, or why it could not be taken."""

    meter: MeterFacts
    values: Mapping[Zone, Decimal]
    outcome: SubmissionOutcome | None
    problem: Problem | None = None

    @property
    def value_texts(self) -> list[tuple[Zone, str]]:
        """The values in storage form, in zone order."""
        return [(z, self.meter.spec.format(self.values[z])) for z in self.meter.zones]

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Why the reading was not stored (empty when it was)."""
        if self.problem is not None:
            return (self.problem,)
        if self.outcome is not None and not self.outcome.stored:
            return self.outcome.verdict.problems
        return ()


def current_window(context: ServiceContext) -> WindowState:
    """The submission window as of today in the company's time zone."""
    return window_state(context.today(), context.window)


async def store_readings(
    context: ServiceContext,
    form: ReadingForm,
    ids: Mapping[int, UUID],
    *,
    channel: Channel,
    submitted_by: str,
) -> list[StoredReading]:
    """Submit each entered meter's reading through the one service every channel uses."""
    stored = []
    for meter_form in form.to_submit:
        assert meter_form.values is not None
        submission = ReadingSubmission(
            reading_id=ids[meter_form.meter.meter_id],
            meter_id=meter_form.meter.meter_id,
            values=dict(meter_form.values),
            channel=channel,
            submitted_by=submitted_by,
            source=submitted_by,
        )
        try:
            outcome = await submit_reading(context, submission)
        except ServiceError as error:
            stored.append(StoredReading(meter_form.meter, meter_form.values, None, error.problem))
            continue
        stored.append(StoredReading(meter_form.meter, meter_form.values, outcome))
    return stored
