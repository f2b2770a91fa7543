"""The phone line: Twilio's signature, keypad digits to dialog messages, replies to TwiML."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET

import pytest

from pokaznyk_core.channels import ivr
from pokaznyk_core.dialog.messages import Button, IncomingKind, Reply

EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def test_computes_twilios_documented_example_signature() -> None:
    assert (
        ivr.signature(EXAMPLE_URL, EXAMPLE_PARAMS.items(), "12345")
        == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


def test_signature_matches_the_documented_formula_for_any_parameters() -> None:
    params = {"b": "2", "a": "1", "Digits": "5*3#"}
    data = "https://x.test/ivr/gather?p=1" + "Digits5*3#" + "a1" + "b2"
    expected = base64.b64encode(hmac.new(b"tok", data.encode(), hashlib.sha1).digest()).decode()
    assert ivr.signature("https://x.test/ivr/gather?p=1", params.items(), "tok") == expected


def test_verifies_the_example_and_refuses_a_changed_digit() -> None:
    assert ivr.verify(EXAMPLE_URL, EXAMPLE_PARAMS.items(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345")
    changed = {**EXAMPLE_PARAMS, "Digits": "1235"}
    assert not ivr.verify(EXAMPLE_URL, changed.items(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345")
    assert not ivr.verify(EXAMPLE_URL, EXAMPLE_PARAMS.items(), None, "12345")
    assert not ivr.verify(EXAMPLE_URL, EXAMPLE_PARAMS.items(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "")


def confirm_reply() -> Reply:
    return Reply(
        text="День 1234,5. Правильно?",
        buttons=((Button("підтвердити", "confirm"), Button("ввести знову", "reenter")),),
    )


def test_maps_keypad_digits_to_the_buttons_in_order() -> None:
    prompt = ivr.VoicePrompt.of(confirm_reply())
    one = ivr.incoming_of_digits(prompt, "1")
    two = ivr.incoming_of_digits(prompt, "2")
    assert not isinstance(one, str) and one.kind is IncomingKind.BUTTON and one.payload == "confirm"
    assert not isinstance(two, str) and two.payload == "reenter"


def test_zero_or_silence_repeats_the_prompt_and_an_unknown_key_is_said_to_be_none() -> None:
    prompt = ivr.VoicePrompt.of(confirm_reply())
    assert ivr.incoming_of_digits(prompt, "0") == ivr.REPEAT
    assert ivr.incoming_of_digits(prompt, "") == ivr.REPEAT
    assert ivr.incoming_of_digits(prompt, "7") == ivr.NO_SUCH_KEY
    assert ivr.notice(ivr.NO_SUCH_KEY, "uk").text == "Такого варіанта немає."


def test_any_number_of_keys_at_a_one_key_prompt_is_no_choice() -> None:
    prompt = ivr.VoicePrompt.of(confirm_reply())
    assert ivr.incoming_of_digits(prompt, "1" * 5000) == ivr.NO_SUCH_KEY  # a PBX's burst
    assert ivr.incoming_of_digits(prompt, "²") == ivr.NO_SUCH_KEY


def test_the_star_key_alone_where_it_repeats_nothing_is_told_so() -> None:
    prompt = ivr.VoicePrompt(hint="digits_decimal", choices=(), locale="en")
    assert ivr.incoming_of_digits(prompt, "*#") == ivr.NO_STAR
    assert "star key cannot repeat" in ivr.notice(ivr.NO_STAR, "en").text
    account_prompt = ivr.VoicePrompt(hint="digits", choices=(), locale="en")
    read = ivr.incoming_of_digits(account_prompt, "*#")  # no value asked: no word of values
    assert not isinstance(read, str) and read.text == "."
    with_star = ivr.VoicePrompt(hint="digits_decimal", choices=(), locale="en", star="zero")
    pressed = ivr.incoming_of_digits(with_star, "*#")
    assert not isinstance(pressed, str) and pressed.payload == "zero"


def test_english_minutes_are_said_in_words() -> None:
    assert ivr.speakable("Try again in 60 min.", "en") == "Try again in 60 minutes."
    assert ivr.speakable("Try again in 1 min.", "en") == "Try again in 1 minute."


def test_reads_the_star_key_as_the_decimal_point_in_a_meter_value() -> None:
    prompt = ivr.VoicePrompt.of(Reply(text="Показник зони день", input_hint="digits_decimal"))
    incoming = ivr.incoming_of_digits(prompt, "1234*5#")
    assert not isinstance(incoming, str)
    assert incoming.kind is IncomingKind.TEXT
    assert incoming.text == "1234.5"


def test_reads_an_account_number_ending_in_hash() -> None:
    prompt = ivr.VoicePrompt.of(Reply(text="Номер рахунку", input_hint="digits"))
    incoming = ivr.incoming_of_digits(prompt, "0123456789#")
    assert not isinstance(incoming, str) and incoming.text == "0123456789"


def test_renders_a_choice_as_a_one_key_gather_in_ukrainian() -> None:
    twiml = ivr.render([confirm_reply()], "/ivr/gather?p=5", redirect_url="/ivr/gather?p=5&t=1")
    root = ET.fromstring(twiml)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == "/ivr/gather?p=5"
    says = gather.findall("Say")
    assert says[0].get("language") == "uk-UA"
    assert says[0].get("voice") == "Google.uk-UA-Standard-A"
    spoken = " ".join(s.text or "" for s in says)
    assert "натисніть 1" in spoken and "натисніть 2" in spoken and "натисніть 0" in spoken
    assert root.find("Redirect") is not None


def test_renders_a_value_entry_with_hash_as_the_end_key_in_english() -> None:
    reply = Reply(text="Enter the day reading", input_hint="digits_decimal", locale="en")
    gather = ET.fromstring(ivr.render([reply], "/ivr/gather?p=6")).find("Gather")
    assert gather is not None
    assert gather.get("finishOnKey") == "#"
    assert gather.findall("Say")[0].get("language") == "en-US"


def test_reads_the_receipt_number_digit_by_digit_and_hangs_up_at_the_end() -> None:
    twiml = ivr.render([Reply(text="Прийнято. Квитанція 7KQ3M9XA.")], "/ivr/gather?p=7")
    root = ET.fromstring(twiml)
    assert "7, K, Q, 3, M, 9, X, A" in (root.findall("Say")[0].text or "")
    assert root.find("Hangup") is not None
    assert root.find("Gather") is None


def test_types_digits_into_an_entry_prompt_even_when_it_has_navigation_buttons() -> None:
    reply = Reply(text="Номер рахунку", buttons=((Button("Назад", "back"),),), input_hint="digits")
    prompt = ivr.VoicePrompt.of(reply)
    incoming = ivr.incoming_of_digits(prompt, "1#")
    assert (
        not isinstance(incoming, str)
        and incoming.kind is IncomingKind.TEXT
        and incoming.text == "1"
    )
    spoken = ET.fromstring(ivr.render([reply], "/a")).find("Gather")
    assert spoken is not None and spoken.get("finishOnKey") == "#"
    assert "Назад" not in ivr.render([reply], "/a")


def test_reads_the_receipt_the_dialog_marks_for_speech_one_character_at_a_time() -> None:
    reply = Reply(text="Квитанція ABCDEFG.", speech=tuple("ABCDEFG"))
    said = ET.fromstring(ivr.render([reply], "/a")).findall("Say")[0].text or ""
    assert "A, B, C, D, E, F, G" in said
    assert said.startswith("Квитанція")


def test_says_abbreviations_in_words_and_spells_a_code_of_letters_only() -> None:
    said = ivr.speakable("Квитанція AKQKKNRUD: за 30\u202fдн. до 3 грудня 2026\u202fр., 60 хв.")
    assert "A, K, Q, K, K, N, R, U, D" in said
    assert "30 днів" in said and "2026 року" in said and "60 хвилин" in said
    assert ivr.speakable("Used 120 kWh.", "en") == "Used 120 kilowatt hours."
    assert ivr.speakable("Показник 51200") == "Показник 51200"  # a value is said as a number


@pytest.mark.parametrize(
    ("serial", "spelled"),
    [
        ("NIK2102-925465", "N, I, K, 2, 1, 0, 2, 9, 2, 5, 4, 6, 5"),
        ("GAMA-300-160769", "G, A, M, A, 3, 0, 0, 1, 6, 0, 7, 6, 9"),
        ("EM-0041435", "E, M, 0, 0, 4, 1, 4, 3, 5"),
        ("0041435", "0, 0, 4, 1, 4, 3, 5"),
    ],
)
def test_spells_a_meter_serial_whole_with_its_leading_zeros(serial: str, spelled: str) -> None:
    assert ivr.speakable(f"Лічильник {serial}: натисніть 1") == f"Лічильник {spelled}: натисніть 1"


def test_spells_a_serial_at_the_end_of_a_sentence_but_no_thousands_group() -> None:
    assert ivr.speakable("Лічильник 0041435.") == "Лічильник 0, 0, 4, 1, 4, 3, 5."
    assert ivr.speakable("Спожито 1\u202f023 кВт·год.") == "Спожито 1 023 кіловат-години."


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("0 800 300 015", "0, 8, 0, 0, 3, 0, 0, 0, 1, 5"),
        ("+380 44 123-45-67", "3, 8, 0, 4, 4, 1, 2, 3, 4, 5, 6, 7"),
    ],
)
def test_reads_a_phone_number_digit_by_digit(written: str, spoken: str) -> None:
    assert ivr.speakable(f"Телефонуйте: {written}.") == f"Телефонуйте: {spoken}."


def test_a_line_that_ends_without_a_stop_is_said_with_one() -> None:
    said = ivr.speakable("Спробуйте ще раз через 60 хв\n\nЩо бажаєте зробити?\n1) день")
    assert said == "Спробуйте ще раз через 60 хвилин. Що бажаєте зробити? 1) день"
    listed = ivr.speakable("Попередній показник: 14810,3 (3 листопада 2026 р.)\nДалі:\nдень")
    assert listed == "Попередній показник: 14810,3 (3 листопада 2026 року). Далі: день"


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1 кВт·год", "1 кіловат-годину"),
        ("21 кВт·год", "21 кіловат-годину"),
        ("22 кВт·год", "22 кіловат-години"),
        ("12 кВт·год", "12 кіловат-годин"),
        ("111 кВт·год", "111 кіловат-годин"),
        ("2,5 кВт·год", "2,5 кіловат-години"),
        ("1 хв.", "1 хвилину"),
        ("3 дн.", "3 дні"),
    ],
)
def test_says_a_unit_in_the_form_its_number_wants(written: str, spoken: str) -> None:
    assert ivr.speakable(f"Спожито {written}") == f"Спожито {spoken}"
    assert ivr.speakable("Used 1 kWh.", "en") == "Used 1 kilowatt hour."


def test_offers_each_language_in_its_own_language_and_voice() -> None:
    choose = Reply(
        text="Оберіть мову.",
        buttons=((Button("Українська", "lang:uk"),), (Button("English", "lang:en"),)),
        locale="uk",
    )
    root = ET.fromstring(ivr.render([choose], "/ivr/gather?p=1"))
    said = [(s.get("language"), s.text) for s in root.iter("Say")]
    assert ("uk-UA", "Українська — натисніть 1.") in said
    assert ("en-US", "English: press 2.") in said
