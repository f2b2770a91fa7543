"""Messenger: the verification challenge, X-Hub-Signature-256, events and the Send API."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pokaznyk_core.channels import IGNORED, InvalidUpdateError, messenger
from pokaznyk_core.dialog import texts
from pokaznyk_core.dialog.messages import Button, IncomingKind, Reply
from pokaznyk_core.i18n import catalogue


def event(**kind: Any) -> dict[str, Any]:
    messaging = {"sender": {"id": "PSID1"}, "recipient": {"id": "PAGE"}, "timestamp": 1700, **kind}
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1700, "messaging": [messaging]}]}


def test_answers_the_challenge_only_for_subscribe_with_the_right_token() -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert messenger.challenge(good, "vt") == "1158201444"
    assert messenger.challenge({**good, "hub.verify_token": "no"}, "vt") is None
    assert messenger.challenge({**good, "hub.mode": "unsubscribe"}, "vt") is None
    assert messenger.challenge(good, "") is None


def test_accepts_the_sha256_signature_of_the_raw_body() -> None:
    body = b'{"object":"page","entry":[]}'
    header = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert messenger.verify({"x-hub-signature-256": header}, body, "app-secret")
    assert not messenger.verify({"x-hub-signature-256": header}, body + b" ", "app-secret")
    assert not messenger.verify({}, body, "app-secret")


def test_reads_a_text_message_keyed_by_its_mid() -> None:
    [inbound] = messenger.parse(event(message={"mid": "m_1", "text": "0123456789"}))
    assert inbound.platform_user_id == "PSID1"
    assert inbound.update_key == "m_1"
    assert inbound.incoming.kind is IncomingKind.TEXT


def test_reads_a_quick_reply_as_a_button() -> None:
    [inbound] = messenger.parse(
        event(message={"mid": "m_2", "text": "Так", "quick_reply": {"payload": "btn:confirm"}})
    )
    assert inbound.incoming.kind is IncomingKind.BUTTON
    assert inbound.incoming.payload == "confirm"


def test_reads_the_phone_number_quick_reply_as_a_contact() -> None:
    quick = {"payload": "+380501234567"}
    [inbound] = messenger.parse(
        event(message={"mid": "m_3", "text": "+380501234567", "quick_reply": quick})
    )
    assert inbound.incoming.kind is IncomingKind.CONTACT
    assert inbound.incoming.phone == "+380501234567"


def test_reads_the_get_started_postback_as_the_start() -> None:
    [inbound] = messenger.parse(
        event(postback={"title": "Почати", "payload": "GET_STARTED", "mid": "m_4"})
    )
    assert inbound.incoming.kind is IncomingKind.START
    assert inbound.update_key == "m_4"


def test_ignores_echoes_and_delivery_reports() -> None:
    assert messenger.parse(event(message={"mid": "m_5", "text": "x", "is_echo": True})) == IGNORED
    assert messenger.parse(event(delivery={"mids": ["m_1"], "watermark": 1})) == IGNORED


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "user", "entry": []},
        {"object": "page", "entry": [{"messaging": [{"message": {"mid": "m.1", "text": "x"}}]}]},
    ],
)
def test_refuses_a_body_that_is_not_a_page_event(payload: Any) -> None:
    with pytest.raises(InvalidUpdateError):
        messenger.parse(payload)


def test_renders_buttons_as_at_most_thirteen_short_quick_replies() -> None:
    buttons = tuple((Button(f"Дуже довга назва кнопки номер {i}", f"p{i}"),) for i in range(20))
    request = messenger.render(
        Reply(text="Оберіть", buttons=buttons, request_contact=True), "PSID1"
    )
    assert request["messaging_type"] == "RESPONSE"
    assert request["recipient"] == {"id": "PSID1"}
    quick = request["message"]["quick_replies"]
    assert len(quick) == 13
    assert quick[0] == {"content_type": "user_phone_number"}
    assert all(len(q["title"]) <= 20 for q in quick[1:])
    assert quick[1]["payload"] == "btn:p0"


def test_choices_beyond_thirteen_are_named_in_the_text_and_cancel_stays_a_button() -> None:
    accounts = tuple((Button(f"00000000{i:02d}", f"acc:{i}"),) for i in range(1, 16))
    nav = (Button("Назад", "back"), Button("Скасувати", "cancel"))
    request = messenger.render(Reply(text="Для якого рахунку?", buttons=(*accounts, nav)), "P")

    quick = request["message"]["quick_replies"]
    assert len(quick) == 13
    assert [q["payload"] for q in quick[-2:]] == ["btn:back", "btn:cancel"]
    shown = {q["title"] for q in quick}
    text = request["message"]["text"]
    assert all(b.label in shown or b.label in text for (b,) in accounts)
    assert "0000000015" in text and "0000000001" not in text


@pytest.mark.parametrize("locale", ["uk", "en"])
def test_every_dialog_button_fits_a_quick_reply_in_whole_words(locale: str) -> None:
    keys = sorted(
        key.removeprefix("dialog.button.")
        for key in catalogue(locale)
        if key.startswith("dialog.button.")
    )
    buttons = tuple((texts.button(locale, key, key),) for key in keys)
    for start in range(0, len(buttons), 13):
        reply = Reply(text="Оберіть", buttons=buttons[start : start + 13], locale=locale)
        for quick, (button,) in zip(
            messenger.render(reply, "PSID1")["message"]["quick_replies"],
            buttons[start : start + 13],
            strict=True,
        ):
            assert quick["title"] in (button.label, button.short), quick["title"]
            assert 1 <= len(quick["title"]) <= 20
    # A label of the service's own data (an address) is cut after a whole word.
    address = Button("4110000001, вул. Шевченка, 12", "acc:1")
    title = messenger.render(Reply(text="?", buttons=((address,),)), "P")["message"][
        "quick_replies"
    ][0]["title"]
    assert title == "4110000001, вул…" and len(title) <= 20


def test_a_button_keeps_its_short_label_through_the_outbox() -> None:
    reply = Reply(text="?", buttons=((texts.button("uk", "zero", "zero"),),))
    assert Reply.from_json(reply.to_json()) == reply
    assert reply.buttons[0][0].short == "Без споживання"


def test_a_message_the_page_starts_may_go_only_within_a_day_of_the_persons_last() -> None:
    now = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
    assert messenger.may_start_message(now - timedelta(hours=2), now)
    assert messenger.may_start_message(now - timedelta(hours=23, minutes=30), now)
    assert not messenger.may_start_message(
        now - timedelta(hours=23, minutes=30), now, margin=timedelta(hours=1)
    )
    assert not messenger.may_start_message(now - timedelta(hours=24), now)
    assert not messenger.may_start_message(None, now)


def test_reads_a_like_sticker_or_an_audio_as_unreadable_and_a_picture_as_a_photo() -> None:
    like = {
        "type": "image",
        "payload": {"url": "https://cdn/369239263222822.png", "sticker_id": 369239263222822},
    }
    audio = {"type": "audio", "payload": {"url": "https://cdn/a.mp4"}}
    picture = {"type": "image", "payload": {"url": "https://cdn/meter.jpg"}}
    for attachment, kind in (
        (like, IncomingKind.UNREADABLE),
        (audio, IncomingKind.UNREADABLE),
        (picture, IncomingKind.PHOTO),
    ):
        [inbound] = messenger.parse(event(message={"mid": "m_9", "attachments": [attachment]}))
        assert inbound.incoming.kind is kind


def test_an_optin_beside_a_message_is_ignored_and_the_message_read() -> None:
    """An opt-in names its sender by `user_ref`, not by id: an event the service does not
    handle, which must not make the batch it came in invalid."""
    body = event(message={"mid": "m.1", "text": "привіт"})
    body["entry"][0]["messaging"].append(
        {
            "sender": {"user_ref": "UREF1"},
            "optin": {"ref": "x", "user_ref": "UREF1"},
            "timestamp": 1,
        }
    )
    result = messenger.parse(body)
    assert result is not IGNORED
    [message] = list(result)
    assert message.incoming.text == "привіт"
    optin_only = event(optin={"ref": "x", "user_ref": "UREF1"})
    optin_only["entry"][0]["messaging"][0]["sender"] = {"user_ref": "UREF1"}
    assert messenger.parse(optin_only) is IGNORED


def test_the_signature_is_read_in_either_case_of_hex() -> None:
    body = b'{"object":"page","entry":[]}'
    upper = messenger.signature(body, "app-secret").upper()
    assert messenger.verify({messenger.SIGNATURE_HEADER: upper}, body, "app-secret")
    assert not messenger.verify({messenger.SIGNATURE_HEADER: upper}, body, "other")
