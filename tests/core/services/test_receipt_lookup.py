"""A receipt number looked up by a client nobody verified, with its limit in the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.receipts import RECEIPT_LENGTH
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.services.receipt_lookup import look_up_receipt
from pokaznyk_core.services.verification import verify_holder
from pokaznyk_core.storage.tables import Reading
from pokaznyk_core.testing import FixedClock, make_meter_fixture

T = Zone.TOTAL
UNKNOWN = "ACDEFHJKM"


async def stored_receipt(context: ServiceContext, channel: Channel = Channel.IVR) -> str:
    meter = await make_meter_fixture(context, initial={T: Decimal("100.0")})
    outcome = await submit_reading(
        context,
        ReadingSubmission(
            reading_id=uuid4(),
            meter_id=meter.meter_id,
            values={T: Decimal("150.0")},
            channel=channel,
            submitted_by="test",
        ),
    )
    assert outcome.receipt is not None
    return outcome.receipt


async def test_tells_the_status_period_window_date_and_channel_of_a_receipt(
    context: ServiceContext,
) -> None:
    receipt = await stored_receipt(context, Channel.IVR)
    lookup = await look_up_receipt(context, client="web:192.0.2.1", text=receipt)
    assert lookup.found is not None and lookup.problem is None and not lookup.not_found
    found = lookup.found
    assert (found.receipt, found.status, found.period) == (receipt, "accepted", "2026-10")
    assert found.in_window and found.taken_on == "2026-10-30" and found.channel == "ivr"
    assert (found.meter_serial, found.values, found.account_id) == ("", {}, None)


async def test_reads_a_receipt_typed_with_look_alikes_spaces_and_lower_case(
    context: ServiceContext,
) -> None:
    receipt = await stored_receipt(context)
    typed = " ".join([receipt[:3], receipt[3:6], receipt[6:]]).lower()
    lookup = await look_up_receipt(context, client="web:192.0.2.2", text=typed)
    assert lookup.found is not None and lookup.code == receipt


async def test_a_malformed_number_is_told_the_format_and_counts_no_miss(
    context: ServiceContext,
) -> None:
    for _ in range(context.receipt_lookups.misses + 2):
        lookup = await look_up_receipt(context, client="web:192.0.2.3", text="12345")
        assert lookup.problem == Problem(Code.RECEIPT_FORMAT, {"length": RECEIPT_LENGTH})
        assert lookup.found is None and not lookup.not_found
    unknown = await look_up_receipt(context, client="web:192.0.2.3", text=UNKNOWN)
    assert unknown.not_found and unknown.attempts_left == context.receipt_lookups.misses - 1


async def test_numbers_that_find_nothing_pause_the_clients_lookups_even_of_a_real_one(
    context: ServiceContext, clock: FixedClock
) -> None:
    receipt = await stored_receipt(context)
    client = "web:192.0.2.4"
    for _ in range(context.receipt_lookups.misses):
        lookup = await look_up_receipt(context, client=client, text=UNKNOWN)
        assert lookup.not_found
    assert lookup.attempts_left == 0
    assert lookup.problem == Problem(Code.RECEIPT_LOOKUPS_PAUSED, {"minutes": 60})
    clock.advance(timedelta(minutes=15))
    held = await look_up_receipt(context, client=client, text=receipt)
    assert held.found is None and not held.not_found
    assert held.problem == Problem(Code.RECEIPT_LOOKUPS_PAUSED, {"minutes": 45})
    assert held.retry_after == timedelta(minutes=45)
    other = await look_up_receipt(context, client="web:192.0.2.5", text=receipt)
    assert other.found is not None
    clock.advance(timedelta(minutes=45))
    again = await look_up_receipt(context, client=client, text=receipt)
    assert again.found is not None


async def test_a_burst_of_misses_at_once_cannot_pass_the_limit(context: ServiceContext) -> None:
    client = "web:192.0.2.6"
    misses = context.receipt_lookups.misses
    answers = await asyncio.gather(
        *(look_up_receipt(context, client=client, text=UNKNOWN) for _ in range(misses + 5))
    )
    assert sum(a.not_found for a in answers) == misses


async def test_receipt_misses_and_failed_verifications_use_up_neither_limit(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context)
    client = "web:192.0.2.7"
    for _ in range(context.receipt_lookups.misses):
        await look_up_receipt(context, client=client, text=UNKNOWN)
    verified = await verify_holder(
        context, user_key=client, account_or_eic=meter.account_number, surname=meter.surname
    )
    assert verified.verified
    for _ in range(5):
        await verify_holder(
            context, user_key="web:192.0.2.8", account_or_eic=meter.account_number, surname="Ні"
        )
    receipt = await stored_receipt(context)
    assert (await look_up_receipt(context, client="web:192.0.2.8", text=receipt)).found


async def test_tells_a_reading_rejected_on_review(context: ServiceContext) -> None:
    receipt = await stored_receipt(context)
    await Reading.update({Reading.status: "rejected_on_review"}).where(Reading.receipt == receipt)
    lookup = await look_up_receipt(context, client="web:192.0.2.9", text=receipt)
    assert lookup.found is not None and lookup.found.status == "rejected_on_review"
