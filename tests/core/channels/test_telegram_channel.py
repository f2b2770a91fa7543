"""Telegram: the secret header, Update JSON to dialog messages, replies to sendMessage."""

from __future__ import annotations

from typing import Any

import pytest

from pokaznyk_core.channels import IGNORED, InboundMessage, InvalidUpdateError, telegram
from pokaznyk_core.dialog.messages import Button, IncomingKind, Reply

USER = {
    "id": 111,
    "is_bot": False,
    "first_name": "Олена",
    "last_name": "Коваленко",
    "language_code": "uk",
}
CHAT = {"id": 111, "type": "private", "first_name": "Олена"}


def update(message: dict[str, Any], update_id: int = 10) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": 5, "from": USER, "chat": CHAT, "date": 1, **message},
    }


def only(result: Any) -> InboundMessage:
    assert result != IGNORED
    assert len(result) == 1
    assert isinstance(result[0], InboundMessage)
    return result[0]


def test_accepts_the_secret_token_set_with_set_webhook() -> None:
    assert telegram.verify({"x-telegram-bot-api-secret-token": "s3cret"}, b"{}", "s3cret")


@pytest.mark.parametrize("headers", [{}, {"x-telegram-bot-api-secret-token": "wrong"}])
def test_refuses_a_missing_or_wrong_secret_token(headers: dict[str, str]) -> None:
    assert not telegram.verify(headers, b"{}", "s3cret")


def test_refuses_everything_when_no_secret_is_configured() -> None:
    assert not telegram.verify({"x-telegram-bot-api-secret-token": ""}, b"{}", "")


def test_reads_a_text_message_with_the_update_id_as_its_key() -> None:
    message = only(telegram.parse(update({"text": "0123456789"}, update_id=77)))
    assert message.platform_user_id == "111"
    assert message.update_key == "77"
    assert message.incoming.kind is IncomingKind.TEXT
    assert message.incoming.text == "0123456789"
    assert message.incoming.language_hint == "uk"
    assert message.display_name == "Олена Коваленко"


def test_reads_the_start_command_as_the_start_of_a_conversation() -> None:
    entities = [{"offset": 0, "length": 6, "type": "bot_command"}]
    message = only(telegram.parse(update({"text": "/start", "entities": entities})))
    assert message.incoming.kind is IncomingKind.START


def test_trusts_a_contact_only_when_it_is_the_senders_own() -> None:
    own = {"contact": {"phone_number": "380501234567", "first_name": "Олена", "user_id": 111}}
    message = only(telegram.parse(update(own)))
    assert message.incoming.kind is IncomingKind.CONTACT
    assert message.incoming.phone == "+380501234567"


def test_treats_someone_elses_contact_as_proving_nothing() -> None:
    other = {"contact": {"phone_number": "+380501234567", "first_name": "Іван", "user_id": 222}}
    message = only(telegram.parse(update(other)))
    assert message.incoming.kind is IncomingKind.FOREIGN_CONTACT
    assert message.incoming.phone == ""


def test_reads_a_pressed_inline_button_with_its_callback_query_id() -> None:
    query = {
        "id": "cb-1",
        "from": USER,
        "chat_instance": "x",
        "data": "confirm",
        "message": {"message_id": 4},
    }
    message = only(telegram.parse({"update_id": 11, "callback_query": query}))
    assert message.incoming.kind is IncomingKind.BUTTON
    assert message.incoming.payload == "confirm"
    assert message.callback_id == "cb-1"


def test_reads_a_photo_as_its_largest_file_id() -> None:
    photo = [{"file_id": "small", "width": 90}, {"file_id": "big", "width": 1280}]
    message = only(telegram.parse(update({"photo": photo})))
    assert message.incoming.kind is IncomingKind.PHOTO
    assert message.incoming.photo_ref == "big"


def test_reads_a_picture_sent_as_a_file_as_a_photo_and_a_sticker_as_unreadable() -> None:
    picture = {"document": {"file_id": "doc-1", "mime_type": "image/jpeg"}}
    assert only(telegram.parse(update(picture))).incoming.photo_ref == "doc-1"
    big = {"document": {"file_id": "doc-3", "mime_type": "image/jpeg", "file_size": 7_340_136}}
    assert only(telegram.parse(update(big))).incoming.kind is IncomingKind.PHOTO_TOO_LARGE
    heic = {"document": {"file_id": "doc-2", "mime_type": "image/heic"}}  # not taken later
    dice = {"dice": {"emoji": "🎲", "value": 3}}  # a lone 🎲 is sent as one
    poll = {"poll": {"id": "1", "question": "?", "options": []}}
    for other in ({"sticker": {}}, {"voice": {"file_id": "v"}}, {"location": {}}, heic, dice, poll):
        assert only(telegram.parse(update(other))).incoming.kind is IncomingKind.UNREADABLE


@pytest.mark.parametrize(
    "payload",
    [
        {"update_id": 1, "edited_message": {"text": "x"}},
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "from": USER,
                "chat": {"id": -5, "type": "group"},
                "text": "x",
            },
        },
        {  # a service message in the chat, not one the customer wrote
            "update_id": 1,
            "message": {
                "message_id": 1,
                "from": USER,
                "chat": CHAT,
                "message_auto_delete_timer_changed": {"message_auto_delete_time": 86400},
            },
        },
    ],
)
def test_ignores_updates_it_does_not_handle(payload: dict[str, Any]) -> None:
    assert telegram.parse(payload) == IGNORED


@pytest.mark.parametrize(
    "payload", [[], {"message": {}}, {"update_id": "x"}, {"update_id": 1, "message": {"text": "x"}}]
)
def test_refuses_a_body_that_is_not_an_update(payload: Any) -> None:
    with pytest.raises(InvalidUpdateError):
        telegram.parse(payload)


def test_renders_buttons_as_an_inline_keyboard_with_callback_data() -> None:
    reply = Reply(
        text="Усе правильно?", buttons=((Button("Так", "confirm"), Button("Ні", "reenter")),)
    )
    request = telegram.render(reply, "111")
    assert request == {
        "chat_id": 111,
        "text": "Усе правильно?",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "Так", "callback_data": "confirm"},
                    {"text": "Ні", "callback_data": "reenter"},
                ]
            ]
        },
    }


def test_renders_a_phone_request_as_a_one_time_reply_keyboard() -> None:
    request = telegram.render(Reply(text="Поділіться номером", request_contact=True), "111")
    keyboard = request["reply_markup"]
    assert keyboard["keyboard"][0][0]["request_contact"] is True
    assert keyboard["one_time_keyboard"] is True


def test_a_reply_that_hides_the_phone_button_keeps_back_and_cancel_as_reply_buttons() -> None:
    nav = ((Button("Назад", "back"), Button("Скасувати", "cancel")),)
    reply = Reply(text="Прізвище?", buttons=nav, hide_keyboard=True)
    markup = telegram.render(reply, "111")["reply_markup"]
    assert markup["keyboard"] == [[{"text": "Назад"}, {"text": "Скасувати"}]]
    assert Reply.from_json(reply.to_json()) == reply
    plain = Reply(text="Готово", hide_keyboard=True)
    assert telegram.render(plain, "111")["reply_markup"] == {"remove_keyboard": True}


def test_the_phone_question_offers_back_and_cancel_below_the_share_button() -> None:
    nav = ((Button("Назад", "back"), Button("Скасувати", "cancel")),)
    reply = Reply(text="Номер рахунку?", buttons=nav, request_contact=True)
    rows = telegram.render(reply, "111")["reply_markup"]["keyboard"]
    assert rows[0][0]["request_contact"] is True
    assert rows[1] == [{"text": "Назад"}, {"text": "Скасувати"}]


def test_renders_plain_text_without_a_keyboard() -> None:
    assert telegram.render(Reply(text="Дякуємо"), "111") == {"chat_id": 111, "text": "Дякуємо"}


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/submit", "menu:submit"),
        ("/submit@PokaznykBot", "menu:submit"),
        ("/readings", "menu:status"),
        ("/window", "menu:window"),
        ("/language", "menu:language"),
        ("/cancel", "cancel"),
        ("/Submit", "menu:submit"),
    ],
)
def test_a_command_of_the_menu_is_the_press_of_its_button(text: str, payload: str) -> None:
    incoming = only(telegram.parse(update({"text": text}))).incoming
    assert (incoming.kind, incoming.payload) == (IncomingKind.BUTTON, payload)


def test_an_unknown_command_is_text_the_dialog_answers() -> None:
    incoming = only(telegram.parse(update({"text": "/help"}))).incoming
    assert (incoming.kind, incoming.text) == (IncomingKind.TEXT, "/help")


def test_the_command_menu_is_set_in_ukrainian_for_everyone_and_in_english_for_english() -> None:
    everyone, english = telegram.set_commands_requests()
    assert "language_code" not in everyone and english["language_code"] == "en"
    names = [c["command"] for c in everyone["commands"]]
    assert names == [c["command"] for c in english["commands"]]
    assert names[:2] == ["start", "submit"]
    described = {c["command"]: c["description"] for c in everyone["commands"]}
    assert described["submit"] == "Передати показники"
    assert {c["command"]: c["description"] for c in english["commands"]}["submit"] == (
        "Submit readings"
    )
    parsed = {c: only(telegram.parse(update({"text": f"/{c}"}))).incoming for c in names}
    assert parsed["start"].kind is IncomingKind.START
    assert all(i.kind is IncomingKind.BUTTON for c, i in parsed.items() if c != "start")


def test_an_edited_message_is_read_as_an_edit_not_as_new_text() -> None:
    update = {
        "update_id": 7,
        "edited_message": {
            "message_id": 3,
            "from": USER,
            "chat": CHAT,
            "date": 1,
            "edit_date": 2,
            "text": "8870",
        },
    }
    result = telegram.parse(update)
    assert result is not IGNORED
    [message] = list(result)
    assert message.incoming.kind is IncomingKind.EDITED and message.incoming.text == ""
