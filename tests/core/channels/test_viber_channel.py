"""Viber: the content signature, callbacks to dialog messages, replies to send_message."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from pokaznyk_core.channels import (
    IGNORED,
    InboundMessage,
    InvalidUpdateError,
    SubscriptionChange,
    viber,
)
from pokaznyk_core.dialog.messages import Button, IncomingKind, Reply

SENDER = {"id": "01234567890A=", "name": "Олена", "language": "uk", "api_version": 8}


def message(content: dict[str, Any], token: int = 4912661846655238145) -> dict[str, Any]:
    return {
        "event": "message",
        "timestamp": 1,
        "message_token": token,
        "sender": SENDER,
        "message": content,
    }


def only(result: Any) -> Any:
    assert result != IGNORED
    assert len(result) == 1
    return result[0]


def test_accepts_a_body_signed_with_the_auth_token() -> None:
    body = b'{"event":"webhook"}'
    sig = hmac.new(b"tok", body, hashlib.sha256).hexdigest()
    assert viber.verify({"x-viber-content-signature": sig}, body, "tok")


def test_refuses_a_signature_of_another_body_or_key() -> None:
    body = b'{"event":"webhook"}'
    assert not viber.verify(
        {"x-viber-content-signature": viber.signature(body, "other")}, body, "tok"
    )
    assert not viber.verify(
        {"x-viber-content-signature": viber.signature(b"{}", "tok")}, body, "tok"
    )
    assert not viber.verify({}, body, "tok")
    assert not viber.verify({"x-viber-content-signature": viber.signature(body, "")}, body, "")


def test_reads_a_text_message_keyed_by_its_message_token() -> None:
    inbound = only(viber.parse(message({"type": "text", "text": "Коваленко"}, token=99)))
    assert isinstance(inbound, InboundMessage)
    assert inbound.platform_user_id == SENDER["id"]
    assert inbound.update_key == "99"
    assert inbound.incoming.kind is IncomingKind.TEXT
    assert inbound.incoming.text == "Коваленко"


def test_reads_a_pressed_keyboard_button_as_a_button() -> None:
    inbound = only(viber.parse(message({"type": "text", "text": "btn:confirm"})))
    assert inbound.incoming.kind is IncomingKind.BUTTON
    assert inbound.incoming.payload == "confirm"


def test_a_shared_contact_proves_nothing_on_viber() -> None:
    for name in ("Олена", "Сусід"):  # the sender's own name, or anyone else's
        inbound = only(
            viber.parse(
                message(
                    {"type": "contact", "contact": {"name": name, "phone_number": "380501234567"}}
                )
            )
        )
        assert inbound.incoming.kind is IncomingKind.CONTACT
        assert inbound.incoming.phone == ""


def test_reads_a_picture_as_a_photo() -> None:
    inbound = only(
        viber.parse(message({"type": "picture", "media": "https://dl/p.jpg", "text": ""}))
    )
    assert inbound.incoming.kind is IncomingKind.PHOTO
    assert inbound.incoming.photo_ref == "https://dl/p.jpg"


def test_reads_conversation_started_as_the_start() -> None:
    event = {
        "event": "conversation_started",
        "timestamp": 1,
        "message_token": 5,
        "type": "open",
        "user": SENDER,
        "subscribed": False,
    }
    inbound = only(viber.parse(event))
    assert inbound.incoming.kind is IncomingKind.START


def test_reads_unsubscribed_as_a_subscription_change() -> None:
    change = only(
        viber.parse({"event": "unsubscribed", "timestamp": 1, "user_id": "abc", "message_token": 6})
    )
    assert change == SubscriptionChange("abc", subscribed=False)


@pytest.mark.parametrize("event", ["webhook", "delivered", "seen", "failed"])
def test_ignores_delivery_reports_and_the_webhook_check(event: str) -> None:
    assert viber.parse({"event": event, "timestamp": 1, "message_token": 1}) == IGNORED


@pytest.mark.parametrize(
    "payload", [[], {"timestamp": 1}, {"event": "message", "sender": {}, "message": {}}]
)
def test_refuses_a_body_that_is_not_a_callback(payload: Any) -> None:
    with pytest.raises(InvalidUpdateError):
        viber.parse(payload)


def test_renders_a_reply_with_a_keyboard_and_a_short_sender_name() -> None:
    reply = Reply(
        text="Усе правильно?", buttons=((Button("Так", "confirm"), Button("Ні", "reenter")),)
    )
    request = viber.render(reply, "user-1", "Показник — передача показників лічильника")
    assert request["receiver"] == "user-1"
    assert request["type"] == "text"
    assert len(request["sender"]["name"]) <= 28
    buttons = request["keyboard"]["Buttons"]
    assert [b["ActionBody"] for b in buttons] == ["btn:confirm", "btn:reenter"]
    assert all(b["ActionType"] == "reply" and b["Columns"] == 3 for b in buttons)
    # a button's body is hidden (Silent) only where the message asks for API version 6+
    assert all(b["Silent"] is True for b in buttons) and request["min_api_version"] >= 6
    assert "min_api_version" not in viber.render(Reply(text="Дякуємо"), "user-1", "Показник")


def test_offers_no_share_phone_button_since_viber_cannot_prove_the_number() -> None:
    request = viber.render(Reply(text="Номер?", request_contact=True), "u", "Показник")
    buttons = request.get("keyboard", {}).get("Buttons", [])
    assert all(b["ActionType"] != "share-phone" for b in buttons)


def test_reads_a_sticker_or_a_file_as_unreadable() -> None:
    for content in (
        {"type": "sticker", "sticker_id": 46105},
        {"type": "file", "media": "https://dl/f.pdf"},
    ):
        assert only(viber.parse(message(content))).incoming.kind is IncomingKind.UNREADABLE
