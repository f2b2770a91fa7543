"""Whole conversations through the pure dialog engine: no database, hand-made facts."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pokaznyk_core.dialog import (
    Action,
    ActionResult,
    AttachPhoto,
    DialogState,
    Done,
    Found,
    Incoming,
    IncomingKind,
    LookupReceipt,
    ReceiptStatus,
    SetLanguage,
    SetReminders,
    Stage,
    SubmitReading,
    Submitted,
    Verified,
    VerifyCaller,
    VerifyHolder,
    VerifyPhone,
    menu,
    reading_id_for,
)
from pokaznyk_core.dialog.actions import NOT_FLAGGED
from pokaznyk_core.dialog.turn import Turn
from pokaznyk_core.domain.checks import Flag, PreviousReading
from pokaznyk_core.domain.history import PastReading
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.i18n import render, translate

from .conversation import TODAY, USER, Answer, Chat, account, facts, meter, tap, text

LATEST = "status:latest"

STORED = Submitted(
    stored=True, receipt="ACDEFHJKM", status="accepted", period="2026-10", in_window=True
)


def submitting(result: Submitted = STORED) -> Answer:
    def answer(action: Action, chat: Chat) -> ActionResult:
        assert isinstance(action, SubmitReading)
        return result

    return answer


def at_menu(chat: Chat) -> Chat:
    chat.send("привіт")
    return chat


def test_greets_any_first_message_with_the_menu() -> None:
    chat = Chat(facts())
    chat.send("добрий день")
    assert translate("dialog.greeting", "uk") in chat.said
    assert chat.payloads[:2] == ["menu:submit", "menu:status"]
    assert chat.stage() is Stage.MENU
    assert chat.replies[-1].input_hint == "choice"


def test_a_first_message_that_chooses_from_a_menu_is_greeted_and_then_done() -> None:
    chat = Chat(facts(account()))
    chat.send(tap("menu:submit"))  # Telegram's /submit, or Messenger's menu, before anything
    assert chat.replies[0].text == translate("dialog.greeting", "uk")
    assert chat.stage() is Stage.ENTER_ZONE
    assert "SN-001" in chat.said


def test_a_first_message_that_chooses_english_is_greeted_in_english() -> None:
    chat = Chat(facts())
    chat.send(tap("lang:en"))
    assert chat.replies[0].text == translate("dialog.greeting", "en")
    assert all(reply.locale == "en" for reply in chat.replies)


def test_a_first_cancel_or_back_is_only_greeted() -> None:
    for payload in ("cancel", "back", "menu"):
        chat = Chat(facts())
        chat.send(tap(payload))
        assert chat.stage() is Stage.MENU
        assert translate("dialog.greeting", "uk") in chat.said
        assert translate("dialog.cancelled", "uk") not in chat.said


def test_start_restarts_from_any_step() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    assert chat.stage() is Stage.ENTER_ZONE
    chat.send(Incoming(IncomingKind.START))
    assert chat.stage() is Stage.MENU
    assert translate("dialog.greeting", "uk") in chat.said


def test_asks_account_and_surname_before_verifying() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        assert action == VerifyHolder("0123456789", "Коваленко")
        chat.facts = facts(account())
        return Verified(account_ids=(1,))

    chat = at_menu(Chat(facts(), answer))
    chat.send(tap("menu:submit"))
    assert chat.stage() is Stage.ASK_ACCOUNT
    assert chat.replies[-1].request_contact and chat.replies[-1].input_hint == "digits"
    chat.send("0123 456 789")
    assert chat.stage() is Stage.ASK_SURNAME and chat.actions == []
    chat.send("Коваленко")
    assert chat.stage() is Stage.ENTER_ZONE
    assert "SN-001" in chat.said and "1000,0" in chat.said


def test_linking_is_offered_as_another_account_only_to_a_customer_with_one() -> None:
    def labels(chat: Chat) -> list[str]:
        return [b.label for r in chat.replies for row in r.buttons for b in row]

    newcomer = at_menu(Chat(facts()))
    assert translate("dialog.button.link_first", "uk") in labels(newcomer)
    newcomer.send(tap("menu:link"))
    assert translate("dialog.why_verify.link_first", "uk") in newcomer.said
    assert translate("dialog.why_verify.link", "uk") not in newcomer.said

    linked = at_menu(Chat(facts(account())))
    assert translate("dialog.button.link", "uk") in labels(linked)
    linked.send(tap("menu:link"))
    assert translate("dialog.why_verify.link", "uk") in linked.said


def test_does_not_offer_phone_sharing_where_the_channel_cannot_prove_the_number() -> None:
    chat = at_menu(Chat(facts(phone_sharing=False)))
    chat.send(tap("menu:submit"))
    assert chat.stage() is Stage.ASK_ACCOUNT
    assert not chat.replies[-1].request_contact
    assert "телефон" not in chat.replies[-1].text


@pytest.mark.parametrize("left", [4, 1])
def test_a_failed_verification_says_the_same_whatever_was_wrong(left: int) -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        return Verified(problem=Problem(Code.VERIFICATION_FAILED), attempts_left=left)

    chat = at_menu(Chat(facts(), answer))
    chat.send(tap("menu:submit"))
    chat.send("0123456789")
    chat.send("Петренко")
    assert translate("verification.failed", "uk") in chat.said
    assert f": {left}" in chat.said
    assert chat.stage() is Stage.ASK_ACCOUNT


def test_a_cooldown_goes_back_to_the_menu() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        return Verified(problem=Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}))

    chat = at_menu(Chat(facts(), answer))
    chat.send(tap("menu:link"))
    chat.send("0123456789")
    chat.send("Петренко")
    assert render(Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}), "uk") in chat.said
    assert chat.stage() is Stage.MENU


def test_the_failure_that_starts_a_cooldown_offers_the_shared_phone_at_once() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        return Verified(
            problem=Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}),
            retry_after=timedelta(hours=1),
        )

    chat = at_menu(Chat(facts(phone_sharing=True), answer))
    chat.send(tap("menu:link"))
    chat.send("0123456789")
    chat.send("Петренко")
    [locked] = chat.replies
    assert render(Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}), "uk") in locked.text
    assert translate("dialog.locked_share_phone", "uk") in locked.text
    assert locked.request_contact and chat.stage() is Stage.ASK_ACCOUNT


def test_an_edited_message_a_photo_for_a_value_and_an_old_account_button_are_explained() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send(Incoming(IncomingKind.EDITED))
    assert chat.said.startswith(translate("dialog.edited", "uk"))
    assert chat.stage() is Stage.ENTER_ZONE
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="display.jpg"))
    assert chat.said.startswith(translate("dialog.photo_for_value", "uk"))
    chat.send(tap("cancel"))
    chat.send(tap("acc:84"))  # an account unlinked since, from an earlier message
    assert chat.said.startswith(translate("dialog.button_old", "uk"))
    assert chat.stage() is Stage.MENU


def test_a_bad_account_number_is_explained_before_asking_the_surname() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:submit"))
    chat.send("12345")
    assert render(Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10}), "uk") in chat.said
    assert chat.stage() is Stage.ASK_ACCOUNT


@pytest.mark.parametrize(
    ("moves", "purpose"),
    [
        (["menu:submit"], "submit"),
        (["menu:link"], "link_first"),
        (["menu:status", LATEST], "status"),
    ],
)
def test_the_account_number_is_asked_for_what_the_customer_chose(
    moves: list[str], purpose: str
) -> None:
    chat = at_menu(Chat(facts()))
    for move in moves:
        chat.send(tap(move))
    assert chat.stage() is Stage.ASK_ACCOUNT
    reasons = {
        p: translate(f"dialog.why_verify.{p}", "uk") for p in ("submit", "link_first", "status")
    }
    assert [p for p, words in reasons.items() if words in chat.said] == [purpose]
    chat.send("12345")  # asked again after a mistake: without the reason, shorter
    assert reasons[purpose] not in chat.said
    assert translate("dialog.ask_account_typed", "uk", length=10) in chat.said


def test_a_contact_where_it_proves_nothing_is_explained_and_the_number_asked_again() -> None:
    chat = at_menu(Chat(replace(facts(), phone_sharing=False)))
    chat.send(tap("menu:submit"))
    assert chat.stage() is Stage.ASK_ACCOUNT
    chat.send(Incoming(IncomingKind.CONTACT, phone="+380501234567"))
    assert translate("dialog.contact_not_accepted", "uk") in chat.said
    assert chat.stage() is Stage.ASK_ACCOUNT
    assert not any(isinstance(a, VerifyPhone) for a in chat.actions)


def test_a_shared_contact_verifies_by_phone() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        assert action == VerifyPhone("+380501234567")
        chat.facts = facts(account())
        return Verified(account_ids=(1,))

    chat = at_menu(Chat(facts(), answer))
    chat.send(tap("menu:submit"))
    chat.send(Incoming(IncomingKind.CONTACT, phone="+380501234567"))
    assert chat.stage() is Stage.ENTER_ZONE


def test_a_phone_on_two_accounts_asks_which_account_the_reading_is_for() -> None:
    flat = account(1, meter(7), number="0000000001")
    cottage = account(2, meter(8, serial="C-8"), number="0000000002")

    def answer(action: Action, chat: Chat) -> ActionResult:
        chat.facts = facts(flat, cottage)
        return Verified(account_ids=(1, 2))

    chat = at_menu(Chat(facts(), answer))
    chat.send(tap("menu:submit"))
    chat.send(Incoming(IncomingKind.CONTACT, phone="+380501234567"))

    assert chat.stage() is Stage.CHOOSE_ACCOUNT
    assert chat.payloads[:2] == ["acc:1", "acc:2"]
    chat.send(tap("acc:2"))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.meter_id == 8


@pytest.mark.parametrize("typed", ["²", "①", "0", "3"])
def test_a_choice_typed_as_an_odd_digit_is_not_understood_and_asked_again(typed: str) -> None:
    first = account(1, meter(7), number="0000000001")
    second = account(2, meter(8), meter(9, serial="B-9"), number="0000000002")
    chat = at_menu(Chat(facts(first, second)))
    chat.send(tap("menu:submit"))
    chat.send(typed)
    assert chat.stage() is Stage.CHOOSE_ACCOUNT
    chat.send("2")
    assert chat.stage() is Stage.CHOOSE_METER
    chat.send(typed)
    assert chat.stage() is Stage.CHOOSE_METER


@pytest.mark.parametrize(
    ("typed", "stage"),
    [
        ("Передати показники", Stage.ENTER_ZONE),
        ("передати показники!", Stage.ENTER_ZONE),
        ("👉 Submit readings", Stage.ENTER_ZONE),
        ("Коли передавати?", Stage.MENU),
        ("Мова / Language", Stage.LANGUAGE),
    ],
)
def test_a_buttons_label_typed_as_text_means_the_button(typed: str, stage: Stage) -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(typed)
    assert chat.stage() is stage
    assert translate("dialog.not_understood", "uk") not in chat.said


def test_confirm_typed_at_the_confirmation_sends_the_reading() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send("Підтвердити")
    assert any(isinstance(a, SubmitReading) for a in chat.actions)


@pytest.mark.parametrize("command", ["/help", "/settings"])
def test_an_unknown_command_at_the_surname_is_not_a_failed_verification(command: str) -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:submit"))
    chat.send("0123456789")
    chat.send(command)
    assert chat.stage() is Stage.ASK_SURNAME and chat.actions == []
    assert translate("dialog.not_understood", "uk") in chat.said


def test_an_old_no_consumption_button_at_a_later_zone_keeps_the_values_typed() -> None:
    chat = at_menu(Chat(facts(account(1, meter(7, ("100.0", "50.0", "20.0"))))))
    chat.send(tap("menu:submit"))
    chat.send("110")
    chat.send(tap("zero"))  # under the first zone's question, tapped at the second
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 1
    assert chat.state.values[0] == "110.0"


def test_a_second_tap_of_confirm_after_the_receipt_says_the_step_is_finished() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    chat.send(tap("confirm"))
    assert translate("dialog.button_finished", "uk") in chat.said
    assert translate("dialog.not_understood", "uk") not in chat.said
    assert [type(a) for a in chat.actions].count(SubmitReading) == 1


def test_confirm_typed_before_any_reading_is_not_understood_rather_than_finished() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send("Підтвердити")
    assert translate("dialog.button_finished", "uk") not in chat.said
    assert translate("dialog.not_understood", "uk") in chat.said


def test_a_contact_card_in_the_middle_of_a_reading_keeps_it_where_it_proves_nothing() -> None:
    chat = at_menu(Chat(facts(account(), phone_sharing=False)))
    chat.send(tap("menu:submit"))
    chat.send(Incoming(IncomingKind.CONTACT, phone=""))
    assert chat.stage() is Stage.ENTER_ZONE
    assert translate("dialog.contact_mid_entry", "uk") in chat.said


@pytest.mark.parametrize("then", [tap("confirm"), text("1200"), tap("back"), text("English")])
def test_a_meter_replaced_while_its_reading_is_typed_is_told_and_nothing_sent(
    then: Incoming,
) -> None:
    chat = at_menu(Chat(facts(account(1, meter(7)))))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.facts = facts(account(1, meter(9, serial="NEW-9")))  # replaced meanwhile
    chat.send(then)
    assert "was replaced" in chat.said or translate("dialog.meter_gone", "uk") in chat.said
    assert chat.stage() is Stage.MENU
    assert not any(isinstance(a, SubmitReading) for a in chat.actions)


def test_the_language_menu_in_the_middle_of_a_reading_keeps_the_values_typed() -> None:
    chat = at_menu(Chat(facts(account(1, meter(7, ("100.0", "50.0", "20.0"))))))
    chat.send(tap("menu:submit"))
    chat.send("110")
    chat.send(tap("menu:language"))  # Telegram's /language, or its label typed
    assert chat.payloads[:2] == ["lang:uk", "lang:en"]
    chat.send(tap("lang:en"))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values[0] == "110.0"
    assert chat.state.locale == "en"


def test_english_asked_for_in_the_middle_of_a_reading_keeps_the_values_typed() -> None:
    chat = at_menu(Chat(facts(account(1, meter(7, ("100.0", "50.0", "20.0"))))))
    chat.send(tap("menu:submit"))
    chat.send("110")
    chat.send("English")
    assert translate("dialog.language_set", "en") in chat.said
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 1
    assert chat.state.locale == "en" and chat.state.values[0] == "110.0"
    chat.send("55")
    chat.send("21")
    assert chat.stage() is Stage.CONFIRM


@pytest.mark.parametrize("typed", ["12#34", "1*5"])
def test_the_phones_keypad_signs_are_no_part_of_a_value_typed_in_a_chat(typed: str) -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.send(typed)
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("",)


def test_submits_a_one_zone_reading_and_gives_the_receipt() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    assert chat.replies[-1].input_hint == "digits_decimal"
    chat.send("1100,5")
    assert chat.stage() is Stage.CONFIRM
    assert "1100,5" in chat.said and "100,5" in chat.said
    assert chat.said.count("100,5 кВт·год") == 1  # one zone: its consumption is the total
    assert chat.payloads[0].startswith("confirm:")
    chat.send(tap(chat.payloads[0]))
    action = chat.actions[-1]
    assert action == SubmitReading(
        meter_id=7,
        values={Zone.TOTAL: Decimal("1100.5")},
        reading_id=reading_id_for(USER, 1),
    )
    assert "ACDEFHJKM" in chat.said and "жовтень 2026" in chat.said
    assert chat.said.count("жовтень 2026") == 1  # the period once
    assert translate("dialog.in_window", "uk") in chat.said  # on time: billed on it
    assert chat.replies[0].speech == tuple("ACDEFHJKM")
    assert chat.stage() is Stage.MENU


def test_enters_three_zones_in_turn() -> None:
    three = meter(last=("300.0", "200.0", "100.0"))
    chat = at_menu(Chat(facts(account(1, three)), submitting()))
    chat.send(tap("menu:submit"))
    assert translate("zone.peak", "uk") in chat.said
    chat.send("310")
    assert translate("zone.half_peak", "uk") in chat.said and "200,0" in chat.said
    chat.send("205.5")
    assert translate("zone.night", "uk") in chat.said
    chat.send("150")
    assert chat.stage() is Stage.CONFIRM
    assert "Споживання з попереднього показника: 65,5 кВт·год." in chat.said  # 10 + 5,5 + 50
    chat.send("так")
    action = chat.actions[-1]
    assert isinstance(action, SubmitReading)
    assert action.values == {
        Zone.PEAK: Decimal("310.0"),
        Zone.HALF_PEAK: Decimal("205.5"),
        Zone.NIGHT: Decimal("150.0"),
    }


def test_one_tap_repeats_the_previous_reading() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two)), submitting()))
    chat.send(tap("menu:submit"))
    chat.send(tap("zero"))
    assert chat.stage() is Stage.CONFIRM
    assert translate("dialog.preview_zero", "uk") in chat.said
    chat.send(tap("confirm"))
    action = chat.actions[-1]
    assert isinstance(action, SubmitReading)
    assert action.values == {Zone.DAY: Decimal("500.0"), Zone.NIGHT: Decimal("200.0")}


def test_a_second_reading_in_the_window_counts_from_the_one_before_the_window() -> None:
    # Sent 1100.0 today; the reading before this window's was 1000.0 on 30 September.
    sent_today = replace(
        meter(last=("1100.0",), taken_on=TODAY),
        baseline=PreviousReading(date(2026, 9, 30), {Zone.TOTAL: Decimal("1000.0")}),
    )
    chat = at_menu(Chat(facts(account(1, sent_today)), submitting()))
    chat.send(tap("menu:submit"))
    assert "Попередній показник: 1000,0 (30 вересня 2026\u202fр.)" in chat.said
    replaced = "Показник за жовтень 2026 уже є (30 жовтня 2026\u202fр.): 1100,0."
    assert replaced in chat.said
    # "As last time" would repeat 1000.0, not the 1100.0 sent: not offered here.
    assert "zero" not in chat.payloads
    chat.send(tap("zero"))  # an earlier message's button: asked again, nothing repeated
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("",)
    assert replaced in chat.said
    chat.send("1050")  # below the 1100.0 sent: checked against the one before the window
    chat.send(tap("confirm"))
    action = chat.actions[-1]
    assert isinstance(action, SubmitReading) and action.values == {Zone.TOTAL: Decimal("1050.0")}


def test_a_correction_names_each_zones_value_it_replaces() -> None:
    sent_today = replace(
        meter(last=("4070.0", "8510.0"), taken_on=TODAY),
        baseline=PreviousReading(
            date(2026, 9, 30), {Zone.DAY: Decimal("4000.0"), Zone.NIGHT: Decimal("8500.0")}
        ),
    )
    chat = at_menu(Chat(facts(account(1, sent_today)), submitting()))
    chat.send(tap("menu:submit"))
    assert "(30 жовтня 2026\u202fр.): день 4070,0; ніч 8510,0." in chat.said


def test_a_too_low_value_is_explained_and_entered_again() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    chat.send("900")
    expected = Problem(Code.READING_TOO_LOW, {"zone": "total", "previous": "1000.0"})
    assert render(expected, "uk") in chat.said
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 0
    chat.send("1000.7")
    assert chat.stage() is Stage.CONFIRM


def test_full_width_digits_spaced_apart_fill_the_zones() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("５１０‏ ２１０")  # a phone keyboard's full-width digits, a direction mark
    assert chat.stage() is Stage.CONFIRM
    assert chat.state.values == ("510.0", "210.0")


@pytest.mark.parametrize(
    "typed",
    [
        "день 510 ніч 210",
        "Ніч: 210, день: 510",
        "day 510 kWh night 210 kWh",
        "D\nдень 510\nніч 210",
    ],
)
def test_values_named_by_their_zones_go_to_those_zones(typed: str) -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send(typed.removeprefix("D\n"))
    assert chat.stage() is Stage.CONFIRM
    assert chat.state.values == ("510.0", "210.0")


@pytest.mark.parametrize("typed", ["пік 510 ніч 210", "ніч 210 ніч 220", "half-peak 510"])
def test_zone_words_that_do_not_fit_the_meter_say_its_zones(typed: str) -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send(typed)
    assert chat.said.startswith(translate("dialog.zone_words_unclear", "uk", zones="день, ніч"))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("", "")


def test_a_value_with_its_unit_is_the_value() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.send("1 100,5 кВт·год")
    assert chat.stage() is Stage.CONFIRM and chat.state.values == ("1100.5",)


def test_a_zone_named_alone_is_entered_and_the_other_asked() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("ніч 210")
    assert chat.stage() is Stage.ENTER_ZONE
    assert chat.state.values == ("", "210.0") and chat.state.zone_index == 0
    chat.send("день 510")
    assert chat.stage() is Stage.CONFIRM and chat.state.values == ("510.0", "210.0")


def test_a_corrections_receipt_names_the_receipt_it_replaces() -> None:
    corrected = replace(STORED, replaced=("5EJJ5AM82",))
    chat = at_menu(Chat(facts(account()), submitting(corrected)))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap(chat.payloads[0]))
    assert "Він замінює показник із квитанцією 5EJJ5AM82." in chat.said


def test_a_receipt_code_mistyped_at_the_menu_is_told_what_one_looks_like() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send("5EJJ5AM8")  # a character short
    wrong = Problem(Code.RECEIPT_FORMAT, {"length": 9})
    assert chat.said.startswith(render(wrong, "uk"))
    assert chat.stage() is Stage.MENU


def test_a_value_that_is_not_a_number_stays_on_the_same_zone() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("510")
    chat.send("двісті")
    assert render(Problem(Code.VALUE_NOT_A_NUMBER), "uk") in chat.said
    assert chat.state.zone_index == 1


def test_a_rejection_by_the_service_asks_for_the_zone_again() -> None:
    rejected = Submitted(
        stored=False,
        problems=(Problem(Code.READING_TOO_LOW, {"zone": "total", "previous": "1200.0"}, "total"),),
    )
    chat = at_menu(Chat(facts(account()), submitting(rejected)))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    assert chat.stage() is Stage.ENTER_ZONE
    assert "1200.0" in chat.said or "1200,0" in chat.said


def test_warns_of_swapped_zones_in_the_confirmation() -> None:
    two = meter(last=("1000.0", "500.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("510")
    chat.send("1010")
    assert chat.stage() is Stage.CONFIRM
    assert "переплутано" in chat.said
    assert "спожито" not in chat.said  # a zone's own would be the swapped pair's
    assert "Споживання з попереднього показника: 20,0 кВт·год." in chat.said


def test_a_flagged_reading_offers_to_attach_a_photo() -> None:
    flagged = replace(STORED, status="flagged", flags=frozenset({Flag.ZONES_SWAPPED}))

    def answer(action: Action, chat: Chat) -> ActionResult:
        if isinstance(action, AttachPhoto):
            assert action.photo_ref == "file-1"
            assert action.reading_id == reading_id_for(USER, 1)
            return Done()
        return flagged

    chat = at_menu(Chat(facts(account()), answer))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    assert chat.stage() is Stage.AWAIT_PHOTO
    assert translate("dialog.photo_offer", "uk") in chat.said
    assert translate("dialog.in_window", "uk") not in chat.said  # no promise before the check
    chat.send(Incoming(IncomingKind.UNREADABLE))  # a sticker, or a voice message
    assert translate("dialog.photo_as_picture", "uk") in chat.said
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-1"))
    assert translate("dialog.photo_attached", "uk") in chat.said
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-1"))  # another, closer one
    assert translate("dialog.photo_attached", "uk") in chat.said
    assert translate("dialog.photo_unexpected", "uk") not in chat.said
    assert [type(a) for a in chat.actions].count(AttachPhoto) == 2
    chat.send(tap("menu:submit"))  # and the menu works as ever
    assert chat.stage() is Stage.ENTER_ZONE


def test_a_photo_while_the_next_meter_is_chosen_is_not_taken_for_the_flagged_reading() -> None:
    flagged = replace(STORED, status="flagged", flags=frozenset({Flag.ZONES_SWAPPED}))
    chat = at_menu(Chat(facts(account(1, meter(7), meter(8, serial="B-8"))), lambda a, c: flagged))
    chat.send(tap("menu:submit"))
    chat.send(tap("meter:7"))
    chat.send("1100")
    chat.send(tap("confirm"))
    chat.send(tap("menu:submit"))  # choosing the next meter now
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-of-meter-8"))
    assert chat.stage() is Stage.CHOOSE_METER
    assert translate("dialog.photo_mid_step", "uk") in chat.said
    assert not any(isinstance(a, AttachPhoto) for a in chat.actions)


def test_a_photo_file_over_the_limit_is_refused_at_once_saying_how_to_send_it() -> None:
    flagged = replace(STORED, status="flagged", flags=frozenset({Flag.ZONES_SWAPPED}))
    chat = at_menu(Chat(facts(account()), lambda a, c: flagged))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    chat.send(Incoming(IncomingKind.PHOTO_TOO_LARGE))
    assert translate("evidence.too_large", "uk", max_mb=5) in chat.said
    assert translate("dialog.photo_as_photo", "uk") in chat.said
    assert not any(isinstance(a, AttachPhoto) for a in chat.actions)
    assert chat.stage() is Stage.AWAIT_PHOTO  # a smaller one still goes with the reading


def test_a_photo_of_a_reading_reviewed_meanwhile_is_not_wanted_and_not_asked_again() -> None:
    flagged = replace(STORED, status="flagged", flags=frozenset({Flag.ZONES_SWAPPED}))

    def answer(action: Action, chat: Chat) -> ActionResult:
        if isinstance(action, AttachPhoto):
            return Done(ok=False, reason=NOT_FLAGGED)
        return flagged

    chat = at_menu(Chat(facts(account()), answer))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-1"))
    assert translate("dialog.photo_unexpected", "uk") in chat.said
    assert chat.stage() is Stage.MENU and chat.state.reading_id == ""
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-2"))
    assert [type(a) for a in chat.actions].count(AttachPhoto) == 1


def test_someone_elses_contact_and_a_sticker_are_answered_with_what_to_do() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:submit"))
    chat.send(Incoming(IncomingKind.FOREIGN_CONTACT))
    assert translate("dialog.contact_not_own", "uk") in chat.said
    assert chat.stage() is Stage.ASK_ACCOUNT and chat.actions == []
    chat.send(Incoming(IncomingKind.UNREADABLE))
    assert translate("dialog.unreadable", "uk") in chat.said
    assert chat.stage() is Stage.ASK_ACCOUNT


@pytest.mark.parametrize("voice", [False, True])
def test_a_reading_far_above_usual_is_told_it_will_be_checked_and_a_photo_asked_once(
    voice: bool,
) -> None:
    high = Problem(Code.READING_HIGH_CONSUMPTION, {"consumption": "900", "days": 30})
    flagged = replace(
        STORED, status="flagged", flags=frozenset({Flag.HIGH_CONSUMPTION}), notices=(high,)
    )
    chat = at_menu(Chat(facts(account(), voice=voice), submitting(flagged)))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("confirm"))
    assert render(high, "uk") in chat.said
    photo_asks = chat.said.count("фото")
    assert photo_asks == (0 if voice else 1)  # no photo on the phone; in a chat, one offer


def test_the_confirmation_warns_of_a_consumption_far_above_the_meters_history() -> None:
    # Month-end readings from April to September at 10 kWh a day, the last 1000.0 kWh.
    month_ends = [date(2026, m + 1, 1) - timedelta(days=1) for m in range(4, 10)]
    recent = tuple(
        PastReading(day, {Zone.TOTAL: Decimal(1000 - 10 * (month_ends[-1] - day).days)}, "", True)
        for day in reversed(month_ends)
    )
    with_history = replace(meter(), recent=recent)
    chat = at_menu(Chat(facts(account(1, with_history))))
    chat.send(tap("menu:submit"))
    chat.send("1400")  # 400 kWh in 30 days: usual enough
    assert chat.stage() is Stage.CONFIRM
    assert translate("dialog.preview_high", "uk") not in chat.said
    chat.send(tap("reenter"))
    chat.send("2500")  # 50 kWh a day, five times the usual, under the household cap
    assert chat.stage() is Stage.CONFIRM
    assert translate("dialog.preview_high", "uk") in chat.said


def test_a_photo_out_of_place_is_explained() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(Incoming(IncomingKind.PHOTO, photo_ref="file-1"))
    assert translate("dialog.photo_unexpected", "uk") in chat.said
    assert chat.actions == []


def test_chooses_among_several_accounts_and_meters() -> None:
    first = account(1, meter(7), number="0000000001")
    second = account(2, meter(8, serial="A-8"), meter(9, serial="B-9"), number="0000000002")
    chat = at_menu(Chat(facts(first, second)))
    chat.send(tap("menu:submit"))
    assert chat.stage() is Stage.CHOOSE_ACCOUNT
    assert chat.payloads[:2] == ["acc:1", "acc:2"]
    chat.send(tap("acc:2"))
    assert chat.stage() is Stage.CHOOSE_METER and chat.payloads[:2] == ["meter:8", "meter:9"]
    chat.send(tap("meter:9"))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.meter_id == 9
    chat.send(tap("back"))
    assert chat.stage() is Stage.CHOOSE_METER
    chat.send(tap("back"))
    assert chat.stage() is Stage.CHOOSE_ACCOUNT
    chat.send(tap("back"))
    assert chat.stage() is Stage.MENU


@pytest.mark.parametrize(
    ("moves", "stage"),
    [
        (["menu:submit"], Stage.ASK_ACCOUNT),
        (["menu:submit", "0123456789"], Stage.ASK_SURNAME),
        (["menu:status"], Stage.ASK_RECEIPT),
        (["menu:language"], Stage.LANGUAGE),
    ],
)
@pytest.mark.parametrize("word", ["cancel", "скасувати", "Відміна"])
def test_cancel_works_from_every_step_before_verification(
    moves: list[str], stage: Stage, word: str
) -> None:
    chat = at_menu(Chat(facts()))
    for move in moves:
        chat.send(tap(move) if ":" in move else move)
    assert chat.stage() is stage
    chat.send(word)
    assert chat.stage() is Stage.MENU
    assert translate("dialog.cancelled", "uk") in chat.said


@pytest.mark.parametrize(
    ("moves", "stage"),
    [
        (["menu:submit"], Stage.ENTER_ZONE),
        (["menu:submit", "510"], Stage.ENTER_ZONE),
        (["menu:submit", "510", "210"], Stage.CONFIRM),
    ],
)
def test_cancel_works_from_every_step_of_an_entry(moves: list[str], stage: Stage) -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("500.0", "200.0"))))))
    for move in moves:
        chat.send(tap(move) if ":" in move else move)
    assert chat.stage() is stage
    chat.send(tap("cancel"))
    assert chat.stage() is Stage.MENU and chat.state.values == ()


def test_back_goes_one_step_back() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("500.0", "200.0"))))))
    chat.send(tap("menu:submit"))
    chat.send("510")
    chat.send("210")
    assert chat.stage() is Stage.CONFIRM
    chat.send("назад")
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 1
    chat.send(tap("back"))
    assert chat.state.zone_index == 0 and chat.state.values == ("", "")
    chat.send(tap("back"))
    assert chat.stage() is Stage.MENU


def test_back_from_the_surname_asks_the_account_again() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:submit"))
    chat.send("0123456789")
    chat.send("back")
    assert chat.stage() is Stage.ASK_ACCOUNT and chat.state.pending_account == ""


def test_an_idle_dialog_expires_back_to_the_menu() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.wait(31)
    chat.send("1100")
    assert chat.stage() is Stage.MENU
    assert translate("dialog.expired", "uk") in chat.said
    assert chat.actions == []


def test_an_account_number_sent_after_the_dialog_expired_is_taken_as_at_the_menu() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:submit"))  # asked for the account number; went to find the bill
    chat.wait(31)
    chat.send("0123456789")
    assert translate("dialog.expired", "uk") in chat.said
    assert chat.stage() is Stage.ASK_SURNAME and chat.state.pending_account == "0123456789"


def test_a_first_message_that_is_a_receipt_or_an_account_number_is_answered_after_hello() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        assert action == LookupReceipt("ACDEFHJKM")
        return Found((ReceiptStatus("ACDEFHJKM", "flagged", "2026-10", "2026-10-30", True),))

    looked_up = Chat(facts(), answer)
    looked_up.send("ACDEFHJKM")
    assert translate("dialog.greeting", "uk") in looked_up.replies[0].text
    assert translate("dialog.status.flagged", "uk") in looked_up.said
    verifying = Chat(facts())
    verifying.send("0123456789")
    assert translate("dialog.greeting", "uk") in verifying.replies[0].text
    assert verifying.stage() is Stage.ASK_SURNAME


def test_a_dialog_within_half_an_hour_goes_on() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.wait(29)
    chat.send("1100")
    assert chat.stage() is Stage.CONFIRM


def test_switches_to_english_and_back() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send("English")
    assert chat.actions[-1] == SetLanguage("en")
    assert "English" in chat.said and chat.replies[-1].locale == "en"
    chat.send(tap("menu:submit"))
    assert "Enter the meter reading" in chat.said
    chat.send(tap("lang:uk"))  # mid-entry: the same question, in Ukrainian
    assert chat.actions[-1] == SetLanguage("uk")
    assert "Введіть показник лічильника" in chat.said
    chat.send(tap("cancel"))
    chat.send(tap("menu:language"))
    chat.send(tap("lang:en"))  # from the language menu: back to the menu
    assert translate("dialog.menu", "en") in chat.said


def test_speaks_the_users_remembered_language() -> None:
    chat = Chat(facts(language="en"))
    chat.send("hi")
    assert translate("dialog.greeting", "en") in chat.said


def test_a_language_chosen_on_the_phone_replaces_the_dialogs_own() -> None:
    chat = Chat(facts(language="uk"))
    chat.send(Incoming(IncomingKind.START, language_hint="uk", language_chosen=True))
    assert chat.replies[-1].locale == "uk"
    chat.send(Incoming(IncomingKind.START, language_hint="en", language_chosen=True))
    assert translate("dialog.greeting", "en") in chat.said
    assert chat.replies[-1].locale == "en"
    chat.send(tap("menu:submit"))
    assert chat.replies[-1].locale == "en"


def test_a_messenger_clients_language_does_not_override_the_dialogs() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(Incoming(IncomingKind.START, language_hint="en"))
    assert chat.replies[-1].locale == "uk"


def test_switches_reminders_as_the_button_says_however_often_it_is_pressed() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:reminders:off"))
    assert chat.actions[-1] == SetReminders(False)
    # The menu sent with the answer offers to switch them back on, not off again.
    assert chat.replies[-1].text.startswith(translate("dialog.reminders_off", "uk"))
    [label] = [
        b.label for row in chat.replies[-1].buttons for b in row if b.payload == "menu:reminders:on"
    ]
    assert label == translate("dialog.button.reminders_on", "uk")
    chat.facts = replace(chat.facts, reminders=False)
    chat.send(tap("menu:reminders:off"))  # a second tap, or an earlier menu's button
    assert chat.actions[-1] == SetReminders(False)
    chat.send(translate("dialog.button.reminders_on", "uk"))  # the label typed
    assert chat.actions[-1] == SetReminders(True)


def test_tells_when_to_submit() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:window"))
    assert "3 листопада 2026" in chat.said


def test_looks_up_a_receipt_typed_at_the_menu() -> None:
    def answer(action: Action, chat: Chat) -> ActionResult:
        assert action == LookupReceipt("ACDEFHJKM")
        return Found((ReceiptStatus("ACDEFHJKM", "flagged", "2026-10", "2026-10-30", True),))

    chat = at_menu(Chat(facts(), answer))
    chat.send("acd-efh-jkm")
    assert "ACDEFHJKM" in chat.said and translate("dialog.status.flagged", "uk") in chat.said
    assert chat.stage() is Stage.MENU


@pytest.mark.parametrize("typed", ["N0PE12345", "ACDEFHJ7", "acdefhjkm77"])
def test_a_mistyped_receipt_code_is_told_its_shape(typed: str) -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:status"))
    chat.send(typed)
    assert render(Problem(Code.RECEIPT_FORMAT, {"length": 9}), "uk") in chat.said
    assert chat.stage() is Stage.ASK_RECEIPT and LATEST in chat.payloads
    assert chat.actions == []


def test_an_unknown_receipt_is_said_so() -> None:
    chat = at_menu(Chat(facts(), lambda action, chat: Found()))
    chat.send("ACDEFHJKM")
    assert translate("dialog.receipt_not_found", "uk") in chat.said


@pytest.mark.parametrize(
    ("caller", "notice"), [("+380671112233", "guest_notice"), ("", "guest_notice_hidden")]
)
def test_a_caller_not_verified_is_told_why_their_number_proves_nothing(
    caller: str, notice: str
) -> None:
    guest = account(5, meter(last=("4321.0",)), verified=False)

    def answer(action: Action, chat: Chat) -> ActionResult:
        chat.facts = replace(chat.facts, guest=guest)
        return Verified(guest_account_id=5)

    chat = at_menu(Chat(facts(voice=True, caller_phone=caller), answer))
    chat.send(tap("menu:submit"))
    chat.send("0123456789")
    assert translate(f"dialog.{notice}", "uk") in chat.said


def test_an_unverified_caller_submits_without_hearing_account_data() -> None:
    guest = account(5, meter(last=("4321.0",)), verified=False)

    def answer(action: Action, chat: Chat) -> ActionResult:
        if isinstance(action, VerifyCaller):
            assert action == VerifyCaller("0123456789", "+380671112233")
            chat.facts = replace(chat.facts, guest=guest)
            return Verified(guest_account_id=5)
        assert isinstance(action, SubmitReading) and action.unverified
        return replace(STORED, status="flagged", flags=frozenset({Flag.UNVERIFIED_SUBMITTER}))

    chat = at_menu(Chat(facts(voice=True, caller_phone="+380671112233"), answer))
    chat.send(tap("menu:submit"))
    assert not chat.replies[-1].request_contact
    chat.send("0123456789")
    assert chat.stage() is Stage.ENTER_ZONE
    assert "4321" not in chat.said and "SN-001" not in chat.said
    chat.send("4400.5")  # as the phone line hands on 4400*5
    assert chat.stage() is Stage.CONFIRM and "78" not in chat.said
    chat.send(tap("confirm"))
    assert translate("dialog.unverified_check", "uk") in chat.said
    assert chat.stage() is Stage.MENU  # no photo on the phone


def test_an_unverified_caller_tells_the_meters_apart_by_their_zones_not_their_serials() -> None:
    guest = account(
        5, meter(7, ("4321.0",), serial="SN-A"), meter(8, ("10.0", "20.0"), serial="SN-B"),
        verified=False,
    )  # fmt: skip

    def answer(action: Action, chat: Chat) -> ActionResult:
        chat.facts = replace(chat.facts, guest=guest)
        return Verified(guest_account_id=5)

    chat = at_menu(Chat(facts(voice=True, caller_phone="+380671112233"), answer))
    chat.send(tap("menu:submit"))
    chat.send("0123456789")
    labels = [b.label for row in chat.replies[-1].buttons for b in row]
    assert labels[:2] == ["Лічильник 1, однозонний", "Лічильник 2, зони: день, ніч"]
    assert "SN-" not in chat.said


def test_the_phone_line_names_the_key_that_enters_swapped_zones_again() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("1000.0", "500.0"))), voice=True)))
    chat.send(tap("menu:submit"))
    chat.send("510")  # the night's value keyed as the day's, and the other way round
    chat.send("1010")
    assert chat.stage() is Stage.CONFIRM
    assert "натисніть 2, щоб ввести знову" in chat.replies[-1].text
    assert "«Ввести знову»" not in chat.replies[-1].text


def test_the_phone_line_says_a_value_is_too_low_once_then_asks_again() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("5000.0",))), voice=True)))
    chat.send(tap("menu:submit"))
    chat.send("4000")
    assert chat.stage() is Stage.ENTER_ZONE
    said = chat.replies[-2].text
    assert said.startswith("Показник менший за попередній (5000,0).")
    assert "надішліть ще раз" not in said


def test_state_survives_json_and_an_old_version_starts_again() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("500.0", "200.0"))))))
    chat.send(tap("menu:submit"))
    chat.send("510")
    stored = chat.state.to_json()
    assert DialogState.from_json(stored) == chat.state
    assert DialogState.from_json({**stored, "version": 0}) == DialogState()
    assert DialogState.from_json({"version": 1, "stage": "nonsense"}) == DialogState()


def test_the_stored_state_has_every_field_of_the_state() -> None:
    state = DialogState(values=("1.0", ""), account_id=7, meter_id=9, guest_account_id=3)
    stored = state.to_json()
    assert set(stored) == {f.name for f in fields(DialogState)}
    assert json.loads(json.dumps(stored)) == stored
    assert DialogState.from_json(stored) == state


def test_a_meter_without_decimals_is_asked_for_whole_numbers() -> None:
    whole = meter(last=("51078",), decimals=0)
    chat = at_menu(Chat(facts(account(1, whole))))
    chat.send(tap("menu:submit"))
    assert translate("dialog.enter_format_whole", "uk") in chat.said
    assert chat.replies[-1].input_hint == "digits"  # the phone line offers no decimal point


def test_a_reading_above_the_household_cap_is_told_so_once() -> None:
    high = Problem(Code.READING_HIGH_CONSUMPTION, {"consumption": "9000", "days": 30})
    cap = Problem(Code.READING_ABOVE_HOUSEHOLD_CAP, {"consumption": "9000", "days": 30})
    flagged = replace(
        STORED,
        status="flagged",
        flags=frozenset({Flag.HIGH_CONSUMPTION, Flag.ABOVE_HOUSEHOLD_CAP}),
        notices=(high, cap),
    )
    chat = at_menu(Chat(facts(account()), submitting(flagged)))
    chat.send(tap("menu:submit"))
    chat.send("10000")
    chat.send(tap("confirm"))
    assert render(cap, "uk") in chat.said and render(high, "uk") not in chat.said


def test_a_greeting_at_the_menu_is_greeted_back() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send("Привіт!")
    assert chat.replies[0].text.startswith(translate("dialog.greeting", "uk"))
    assert translate("dialog.not_understood", "uk") not in chat.said


def test_a_value_typed_at_the_confirmation_replaces_the_one_shown() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send("1010,5")  # the customer saw the typo and typed it again
    assert chat.stage() is Stage.CONFIRM and "1010,5" in chat.said
    chat.send("так")
    action = chat.actions[-1]
    assert isinstance(action, SubmitReading) and action.values == {Zone.TOTAL: Decimal("1010.5")}


def test_a_shared_phone_in_the_middle_of_a_reading_keeps_the_reading() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("510")
    chat.send(Incoming(IncomingKind.CONTACT, phone="+380501234567"))  # Telegram's button
    assert translate("dialog.contact_mid_entry", "uk") in chat.said
    assert chat.actions == [] and chat.state.zone_index == 1
    chat.send("210")
    assert chat.stage() is Stage.CONFIRM


def test_values_sent_on_lines_of_their_own_fill_the_zones_in_order() -> None:
    three = meter(last=("4000.0", "8500.0", "1200.0"), digits=8)
    chat = at_menu(Chat(facts(account(1, three))))
    chat.send(tap("menu:submit"))
    chat.send("4070\n8510\n\n1210")
    assert chat.stage() is Stage.CONFIRM
    assert chat.state.values == ("4070.0", "8510.0", "1210.0")


def test_values_spaced_apart_on_one_line_fill_the_zones_too() -> None:
    three = meter(last=("400.0", "850.0", "120.0"), digits=8)
    chat = at_menu(Chat(facts(account(1, three))))
    chat.send(tap("menu:submit"))
    chat.send("500 1050")  # not 5001050 for the peak
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 2
    assert chat.state.values == ("500.0", "1050.0", "")


def test_more_numbers_on_a_line_than_zones_left_are_told_as_several() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("1000.0",), digits=8)))))
    chat.send(tap("menu:submit"))
    chat.send("54100 54200")  # not "too many digits" for 5410054200
    assert render(Problem(Code.VALUE_SEVERAL), "uk") in chat.said
    chat.send("4070, 5")  # a space after the comma: one value
    assert chat.stage() is Stage.CONFIRM and chat.state.values == ("4070.5",)


def test_a_refused_value_among_several_lines_keeps_the_ones_before_it() -> None:
    three = meter(last=("4000.0", "8500.0", "1200.0"))
    chat = at_menu(Chat(facts(account(1, three))))
    chat.send(tap("menu:submit"))
    chat.send("4070\nвісім")
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.zone_index == 1
    assert chat.state.values[0] == "4070.0"
    assert render(Problem(Code.VALUE_NOT_A_NUMBER), "uk") in chat.said


def test_more_values_than_zones_left_are_never_one_number() -> None:
    chat = at_menu(Chat(facts(account(1, meter(last=("1000.0",), digits=8)))))
    chat.send(tap("menu:submit"))
    chat.send("1070\n8510")
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("",)
    assert render(Problem(Code.VALUE_SEVERAL), "uk") in chat.said


def test_every_zones_value_sent_again_after_a_refusal_replaces_them_all() -> None:
    two = meter(last=("4000.0", "8500.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("3900")  # the day lower than before: refused once both are in
    chat.send("8510")
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("", "8510.0")
    chat.send("4070\n8600")
    assert chat.stage() is Stage.CONFIRM
    assert chat.state.values == ("4070.0", "8600.0")


def test_thanks_at_the_menu_is_answered_kindly() -> None:
    chat = at_menu(Chat(facts()))
    chat.send("Дякую!")
    assert translate("dialog.thanks", "uk") in chat.said
    assert translate("dialog.not_understood", "uk") not in chat.said
    assert chat.stage() is Stage.MENU


def test_reminders_are_offered_once_an_account_is_linked() -> None:
    new = at_menu(Chat(facts()))
    assert not any(p.startswith("menu:reminders") for p in new.payloads)
    linked = at_menu(Chat(facts(account())))
    assert "menu:reminders:off" in linked.payloads


def test_a_one_zone_reading_is_shown_in_one_line_to_confirm() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.send("1100,5")
    expected = translate("dialog.confirm_one", "uk", value="1100,5", used="100,5")
    assert chat.said.startswith(expected)
    assert "Показник: 1100,5" not in chat.said  # not "check the reading: reading: …"


def test_no_consumption_on_two_zones_is_said_once() -> None:
    two = meter(last=("500.0", "200.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send(tap("zero"))
    assert chat.said.startswith(translate("dialog.confirm_title", "uk") + "\nДень: 500,0")
    assert translate("dialog.preview_zero", "uk") in chat.said
    assert "Споживання з попереднього показника: 0" not in chat.said


def test_a_refusal_says_what_to_do_once() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.send("900")
    assert translate("dialog.enter_again", "uk") not in chat.said
    assert "надішліть ще раз" in chat.said


def test_an_earlier_previews_confirm_does_not_confirm_values_changed_since() -> None:
    chat = at_menu(Chat(facts(account()), submitting()))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    first = chat.payloads[0]
    chat.send("1200")  # typed at the confirmation: a new preview
    second = chat.payloads[0]
    assert first != second
    chat.send(tap(first))  # tapped under the first preview, or as 1200 was being typed
    assert chat.actions == []
    assert translate("dialog.confirm_changed", "uk") in chat.said and "1200,0" in chat.said
    assert chat.stage() is Stage.CONFIRM
    chat.send(tap(chat.payloads[0]))
    action = chat.actions[-1]
    assert isinstance(action, SubmitReading) and action.values == {Zone.TOTAL: Decimal("1200.0")}


def test_the_language_asked_in_the_middle_of_a_reading_can_be_cancelled() -> None:
    chat = at_menu(Chat(facts(account())))
    chat.send(tap("menu:submit"))
    chat.send("1100")
    chat.send(tap("menu:language"))
    assert "cancel" in chat.payloads and "back" not in chat.payloads
    chat.send(tap("cancel"))
    assert chat.stage() is Stage.MENU


def test_on_the_phone_meters_are_told_apart_by_their_numbers_end_and_zones() -> None:
    two = account(
        1, meter(7, serial="EM-7410726"), meter(8, ("10.0", "5.0"), serial="GAMA-300-4825")
    )
    chat = at_menu(Chat(facts(two, voice=True, caller_phone="+380671112233")))
    chat.send(tap("menu:submit"))
    labels = [b.label for r in chat.replies for row in r.buttons for b in row]
    assert translate("dialog.meter_ending_one_zone", "uk", ending="0-7-2-6") in labels
    zones = "день, ніч"
    assert translate("dialog.meter_ending_zones", "uk", ending="4-8-2-5", zones=zones) in labels
    in_chat = at_menu(Chat(facts(two)))
    in_chat.send(tap("menu:submit"))
    assert "EM-7410726" in [b.label for r in in_chat.replies for row in r.buttons for b in row]


def test_leaving_the_account_question_puts_its_keyboard_away() -> None:
    chat = at_menu(Chat(facts()))
    chat.send(tap("menu:link"))
    assert chat.replies[-1].request_contact
    chat.send("Скасувати")  # the reply keyboard's button sends its label
    said, menu_reply = chat.replies
    assert said.hide_keyboard and said.text == translate("dialog.cancelled", "uk")
    assert said.buttons == () and "menu:submit" in [
        b.payload for r in menu_reply.buttons for b in r
    ]

    def cooldown(action: Action, chat: Chat) -> ActionResult:
        return Verified(problem=Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60}))

    locked = at_menu(Chat(facts(), cooldown))
    locked.send(tap("menu:link"))
    locked.send("0123456789")
    locked.send("Шевченко")
    assert locked.replies[0].hide_keyboard and locked.stage() is Stage.MENU
    backed = at_menu(Chat(facts()))
    backed.send(tap("menu:link"))
    backed.send(tap("back"))  # the menu alone: a word before it takes the keyboard away
    okay, *_ = backed.replies
    assert okay.hide_keyboard and okay.text == translate("dialog.okay", "uk")
    assert backed.stage() is Stage.MENU and "menu:submit" in backed.payloads
    on_phone = at_menu(Chat(facts(voice=True, caller_phone="+380671112233")))
    on_phone.send(tap("menu:submit"))
    on_phone.send(tap("cancel"))
    assert not any(r.hide_keyboard for r in on_phone.replies)


def test_when_to_submit_asked_in_the_middle_of_a_reading_keeps_it() -> None:
    two = meter(last=("4000.0", "8500.0"))
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("4070")
    chat.send(tap("menu:window"))  # Messenger's persistent menu
    assert chat.said.startswith(menu.window_text(Turn(chat.facts, "uk", chat.now)))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.values == ("4070.0", "")
    assert "ніч" in chat.said
    chat.send(tap("menu:contacts"))
    assert translate("dialog.contacts", "uk") in chat.said
    chat.send("8510")
    assert chat.stage() is Stage.CONFIRM


def test_the_meters_to_choose_from_are_listed_with_their_zones() -> None:
    two = account(1, meter(7, serial="EM-7410726"), meter(8, ("10.0", "5.0"), serial="GAMA-300"))
    chat = at_menu(Chat(facts(two)))
    chat.send(tap("menu:submit"))
    assert "EM-7410726 — однозонний" in chat.said
    assert "GAMA-300 — зони: день, ніч" in chat.said


def test_a_reminders_button_starts_the_submission_on_the_account_it_names() -> None:
    home = account(1, meter(7, serial="SN-001"))
    cottage = account(2, meter(8, serial="SN-002"), number="0123456790")
    chat = at_menu(Chat(facts(home, cottage)))
    chat.send(tap("menu:submit:2"))
    assert chat.stage() is Stage.ENTER_ZONE and chat.state.meter_id == 8
    chat.send("1100")
    chat.send(tap("menu:submit:2"))  # tapped again while entering it: nothing lost
    assert chat.stage() is Stage.CONFIRM and chat.state.values == ("1100.0",)
    assert translate("dialog.reminder_going_on", "uk") in chat.said
    closed = Chat(facts(home))  # the reminder's account closed or unlinked since
    closed.send("привіт")
    closed.send(tap("menu:submit:2"))
    assert translate("dialog.reminded_account_gone", "uk") in closed.said
    assert closed.stage() is Stage.MENU and closed.state.meter_id is None
    first = Chat(facts(home, cottage))  # the first message of a chat with no state left
    first.send(tap("menu:submit:2"))
    assert translate("dialog.greeting", "uk") in first.said and first.state.meter_id == 8


def test_spaced_numbers_that_could_be_thousands_are_read_as_the_last_readings_suggest() -> None:
    two = meter(last=("140.0", "95.0"), digits=8)
    chat = at_menu(Chat(facts(account(1, two))))
    chat.send(tap("menu:submit"))
    chat.send("150 100")  # the day and the night, not a day of 150100
    assert chat.stage() is Stage.CONFIRM and chat.state.values == ("150.0", "100.0")
    big = meter(last=("12000.0", "9000.0"), digits=8)
    grouped = at_menu(Chat(facts(account(1, big))))
    grouped.send(tap("menu:submit"))
    grouped.send("12 345")  # thousands grouped: the day 12345
    assert grouped.stage() is Stage.ENTER_ZONE and grouped.state.values == ("12345.0", "")
    three = meter(last=("100.0", "300.0", "500.0"), digits=8)
    peak = at_menu(Chat(facts(account(1, three))))
    peak.send(tap("menu:submit"))
    peak.send("120 340 560")
    assert peak.stage() is Stage.CONFIRM and peak.state.values == ("120.0", "340.0", "560.0")


def test_a_reading_left_behind_by_a_command_is_said_not_sent() -> None:
    home = account(1, meter(7, ("4000.0", "8500.0")))
    cottage = account(2, meter(8, serial="SN-002"), number="0123456790")
    chat = at_menu(Chat(facts(home, cottage)))
    chat.send(tap("menu:submit:1"))
    chat.send("4070")
    chat.send(tap("menu:window"))  # answered, nothing left behind
    assert translate("dialog.entry_dropped", "uk") not in chat.said
    chat.send(tap("menu:submit:2"))  # another account's reminder
    assert chat.said.startswith(translate("dialog.entry_dropped", "uk"))
    assert chat.state.meter_id == 8
    chat.send(tap("menu"))  # nothing typed yet for this one: nothing to say
    assert translate("dialog.entry_dropped", "uk") not in chat.said
