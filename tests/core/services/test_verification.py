"""Verifying a customer by account (or EIC) and surname, with the limits in the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pokaznyk_core.domain.eic import make_eic
from pokaznyk_core.domain.outcomes import Code
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.verification import accounts_with_phone, verify_holder
from pokaznyk_core.storage.tables import Account, VerificationFailure
from pokaznyk_core.testing import FixedClock, make_meter_fixture


async def test_verifies_the_holder_by_account_number_and_surname(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, surname="Шевчук")
    outcome = await verify_holder(
        context, user_key="telegram:1", account_or_eic=meter.account_number, surname=" шевчук "
    )
    assert outcome.verified and outcome.account_id == meter.account_id


async def test_verifies_by_the_eic_printed_on_the_bill(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, surname="Бондар")
    outcome = await verify_holder(
        context, user_key="telegram:2", account_or_eic=meter.eic.lower(), surname="Бондар"
    )
    assert outcome.verified and outcome.account_number == meter.account_number


async def test_an_unknown_account_and_a_wrong_surname_get_the_same_answer(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, surname="Мельник")
    wrong_surname = await verify_holder(
        context, user_key="telegram:3", account_or_eic=meter.account_number, surname="Ткаченко"
    )
    unknown_account = await verify_holder(
        context, user_key="telegram:4", account_or_eic="0000000001", surname="Мельник"
    )
    assert not wrong_surname.verified and not unknown_account.verified
    assert wrong_surname.problem == unknown_account.problem
    assert wrong_surname.problem is not None
    assert wrong_surname.problem.code is Code.VERIFICATION_FAILED
    assert wrong_surname.attempts_left == unknown_account.attempts_left == 4


async def test_five_failures_in_an_hour_start_a_cooldown_that_ends(
    context: ServiceContext, clock: FixedClock
) -> None:
    meter = await make_meter_fixture(context, surname="Кравець")
    for _ in range(5):
        outcome = await verify_holder(
            context, user_key="telegram:5", account_or_eic=meter.account_number, surname="Ні"
        )
    assert outcome.problem is not None and outcome.problem.code is Code.VERIFICATION_COOLDOWN
    right = await verify_holder(
        context, user_key="telegram:5", account_or_eic=meter.account_number, surname="Кравець"
    )
    assert not right.verified, "even the right answer waits out the cooldown"
    clock.advance(timedelta(hours=1, minutes=1))
    later = await verify_holder(
        context, user_key="telegram:5", account_or_eic=meter.account_number, surname="Кравець"
    )
    assert later.verified


async def test_failures_on_one_account_hold_new_verifications_but_not_linked_users(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, surname="Лисенко")
    for attacker in range(20):
        await verify_holder(
            context,
            user_key=f"viber:{attacker}",
            account_or_eic=meter.account_number,
            surname="Хтось",
        )
    newcomer = await verify_holder(
        context, user_key="viber:new", account_or_eic=meter.account_number, surname="Лисенко"
    )
    assert not newcomer.verified
    assert newcomer.problem is not None
    assert newcomer.problem.code is Code.VERIFICATION_ACCOUNT_HELD
    linked = await verify_holder(
        context,
        user_key="viber:owner",
        account_or_eic=meter.account_number,
        surname="Лисенко",
        already_linked_account_ids=frozenset({meter.account_id}),
    )
    assert linked.verified


async def test_a_burst_of_attempts_at_once_cannot_pass_the_account_limit(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, surname="Бондар")
    answers = await asyncio.gather(
        *(
            verify_holder(
                context,
                user_key=f"telegram:burst{n}",
                account_or_eic=meter.account_number,
                surname="Хтось",
            )
            for n in range(30)
        )
    )
    counted = await VerificationFailure.count().where(
        VerificationFailure.account_key == meter.account_number
    )
    assert counted == 20
    held = [a for a in answers if a.problem and a.problem.code is Code.VERIFICATION_ACCOUNT_HELD]
    assert len(held) == 10
    owner = await verify_holder(
        context, user_key="telegram:late", account_or_eic=meter.account_number, surname="Бондар"
    )
    assert owner.problem is not None
    assert owner.problem.code is Code.VERIFICATION_ACCOUNT_HELD


async def test_finds_active_accounts_by_phone_in_any_format(context: ServiceContext) -> None:
    meter = await make_meter_fixture(context, phones=("+380671112233",))
    for typed in ("+380671112233", "380671112233", "067 111 22 33"):
        found = await accounts_with_phone(typed)
        assert [a["id"] for a in found] == [meter.account_id]
    assert await accounts_with_phone("+380000000000") == []


@pytest.mark.parametrize("by", ["number", "eic"])
async def test_an_unknown_account_number_is_held_like_a_known_one(
    context: ServiceContext, by: str
) -> None:
    known = await make_meter_fixture(context, surname="Гнатюк")
    if by == "number":
        pair = (known.account_number, "0000000077")
    else:  # a code with a right check character that no metering point has
        pair = (known.eic, make_eic("ZZZZZZZZZZZ1"))
    answers = []
    for number in pair:
        for attacker in range(20):
            await verify_holder(
                context,
                user_key=f"web:10.{attacker}.{number}",
                account_or_eic=number,
                surname="Хтось",
            )
        answers.append(
            await verify_holder(
                context, user_key=f"web:new.{number}", account_or_eic=number, surname="Хтось"
            )
        )
    assert answers[0].problem == answers[1].problem
    assert answers[0].problem is not None
    assert answers[0].problem.code is Code.VERIFICATION_ACCOUNT_HELD


async def test_a_closed_account_is_told_closed_to_whoever_knows_the_holder_only(
    context: ServiceContext,
) -> None:
    meter = await make_meter_fixture(context, surname="Дорошенко")
    await Account.update({Account.status: "closed"}).where(Account.id == meter.account_id)
    holder = await verify_holder(
        context, user_key="telegram:31", account_or_eic=meter.account_number, surname="Дорошенко"
    )
    assert not holder.verified and holder.problem is not None
    assert holder.problem.code is Code.ACCOUNT_CLOSED
    stranger = await verify_holder(
        context, user_key="telegram:32", account_or_eic=meter.account_number, surname="Ткаченко"
    )
    assert stranger.problem is not None and stranger.problem.code is Code.VERIFICATION_FAILED
    counted = VerificationFailure.user_key.is_in(["telegram:31", "telegram:32"])
    assert await VerificationFailure.count().where(counted) == 1  # the stranger's only
