"""Telegram Bot API: the secret-token header, Update JSON in, sendMessage JSON out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pokaznyk_core.channels import (
    IGNORED,
    InboundMessage,
    InvalidUpdateError,
    ParseResult,
    digits_of,
    secrets_match,
)
from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply
from pokaznyk_core.domain.readings import MAX_PHOTO_BYTES, PHOTO_TYPES
from pokaznyk_core.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, translate

SECRET_HEADER = "x-telegram-bot-api-secret-token"

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "", "dialog.button.menu"),
    ("submit", x.MENU_SUBMIT, "dialog.button.submit"),
    ("readings", x.MENU_STATUS, "dialog.button.status"),
    ("window", x.MENU_WINDOW, "dialog.button.window"),
    ("language", x.MENU_LANGUAGE, "dialog.button.language"),
    ("cancel", x.CANCEL, "dialog.button.cancel"),
)
"""The bot's command menu (Telegram's "Menu" button): the command, the menu button it
presses, and the catalogue key of its description. /start is the greeting itself."""
_PRESSES = {f"/{command}": payload for command, payload, _key in COMMANDS if payload}


def set_commands_requests() -> list[dict[str, Any]]:
    """The setMyCommands requests: the menu in Ukrainian for everyone, and in English for
    clients whose language is English."""
    requests = []
    for locale in SUPPORTED_LOCALES:
        commands = [
            {"command": command, "description": translate(key, locale)}
            for command, _payload, key in COMMANDS
        ]
        request: dict[str, Any] = {"commands": commands}
        if locale != DEFAULT_LOCALE:
            request["language_code"] = locale
        requests.append(request)
    return requests


SHARE_PHONE_LABEL = {"uk": "📱 Поділитися номером", "en": "📱 Share my phone number"}


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when the update carries our secret token (set with setWebhook)."""
    del body  # Telegram signs nothing; the secret header is the whole check
    return secrets_match(headers.get(SECRET_HEADER), secret)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidUpdateError(f"{what} is not an object")
    return value


def _user_id(sender: dict[str, Any]) -> int:
    user_id = sender.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InvalidUpdateError("from.id is not a number")
    return user_id


def _name(sender: dict[str, Any]) -> str:
    parts = [sender.get("first_name"), sender.get("last_name")]
    return " ".join(str(p) for p in parts if isinstance(p, str) and p)


def _language(sender: dict[str, Any]) -> str | None:
    code = sender.get("language_code")
    return code if isinstance(code, str) and code else None


_UNREADABLE = frozenset(
    {
        "sticker",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "document",
        "location",
        "venue",
        "dice",  # a lone 🎲, 🎯, ⚽, 🏀, 🎳 or 🎰 is sent as one
        "poll",
        "game",
        "story",
    }
)
"""A customer's messages the dialog cannot read: answered with what it can."""


def _incoming_of_message(
    message: dict[str, Any], sender_id: int, hint: str | None
) -> Incoming | None:
    contact = message.get("contact")
    if isinstance(contact, dict):
        phone = contact.get("phone_number")
        if contact.get("user_id") == sender_id and isinstance(phone, str) and digits_of(phone):
            return Incoming(
                kind=IncomingKind.CONTACT, phone="+" + digits_of(phone), language_hint=hint
            )
        # someone else's contact is never proof of anything: the dialog says so
        return Incoming(kind=IncomingKind.FOREIGN_CONTACT, language_hint=hint)
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = photos[-1]
        file_id = largest.get("file_id") if isinstance(largest, dict) else None
        if isinstance(file_id, str):
            return Incoming(kind=IncomingKind.PHOTO, photo_ref=file_id, language_hint=hint)
    document = message.get("document")
    if isinstance(document, dict):  # a picture sent as a file is a photo too
        file_id, mime = document.get("file_id"), document.get("mime_type")
        if isinstance(file_id, str) and mime in PHOTO_TYPES:  # HEIC, GIF…: not a photo
            size = document.get("file_size")
            if isinstance(size, int) and size > MAX_PHOTO_BYTES:  # refused now, not later
                return Incoming(kind=IncomingKind.PHOTO_TOO_LARGE, language_hint=hint)
            return Incoming(kind=IncomingKind.PHOTO, photo_ref=file_id, language_hint=hint)
    text = message.get("text")
    if not isinstance(text, str):
        if any(kind in message for kind in _UNREADABLE):
            return Incoming(kind=IncomingKind.UNREADABLE, language_hint=hint)
        return None
    command = text.strip().split(maxsplit=1)[0].split("@", 1)[0].lower() if text.strip() else ""
    if command == "/start":
        return Incoming(kind=IncomingKind.START, text=text, language_hint=hint)
    if command in _PRESSES:  # a command of the menu: the same as its button
        return Incoming(kind=IncomingKind.BUTTON, payload=_PRESSES[command], language_hint=hint)
    return Incoming(kind=IncomingKind.TEXT, text=text, language_hint=hint)


def parse(payload: Any) -> ParseResult:
    """The customer message in a Telegram Update, or IGNORED for updates we do not handle."""
    update = _object(payload, "the update")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise InvalidUpdateError("update_id is missing")
    key = str(update_id)
    if "message" in update:
        message = _object(update["message"], "message")
        sender = _object(message.get("from"), "message.from")
        chat = _object(message.get("chat"), "message.chat")
        if chat.get("type") != "private" or sender.get("is_bot") is True:
            return IGNORED
        sender_id = _user_id(sender)
        incoming = _incoming_of_message(message, sender_id, _language(sender))
        if incoming is None:
            return IGNORED
        return [InboundMessage(str(sender_id), incoming, key, _name(sender))]
    if "edited_message" in update:  # a correction typed into an earlier message
        edit = update["edited_message"]
        editor = edit.get("from") if isinstance(edit, dict) else None
        where = edit.get("chat") if isinstance(edit, dict) else None
        if not isinstance(editor, dict) or not isinstance(where, dict):
            return IGNORED
        if where.get("type") != "private" or editor.get("is_bot") is True:
            return IGNORED
        edited = Incoming(kind=IncomingKind.EDITED, language_hint=_language(editor))
        return [InboundMessage(str(_user_id(editor)), edited, key, _name(editor))]
    if "callback_query" in update:
        query = _object(update["callback_query"], "callback_query")
        sender = _object(query.get("from"), "callback_query.from")
        query_id = query.get("id")
        data = query.get("data")
        if not isinstance(query_id, str):
            raise InvalidUpdateError("callback_query.id is missing")
        if not isinstance(data, str):
            return IGNORED  # a game button; nothing of ours
        incoming = Incoming(kind=IncomingKind.BUTTON, payload=data, language_hint=_language(sender))
        return [
            InboundMessage(
                str(_user_id(sender)), incoming, key, _name(sender), callback_id=query_id
            )
        ]
    return IGNORED


def _inline_keyboard(reply: Reply) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.payload[:64]} for b in row]
            for row in reply.buttons
            if row
        ]
    }


def _reply_keyboard(rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}


def _typed_rows(reply: Reply) -> list[list[dict[str, Any]]]:
    """A reply's buttons as reply-keyboard buttons, which send their label as a message
    (the dialog reads Back and Cancel typed as it reads them tapped)."""
    return [[{"text": b.label} for b in row] for row in reply.buttons if row]


def render(reply: Reply, chat_id: str) -> dict[str, Any]:
    """The sendMessage request for `reply` to a private chat.

    A reply that asks for the phone gets a one-time reply keyboard with a request_contact
    button, its other buttons (Back, Cancel) below it as buttons that send their label
    (Telegram allows one keyboard per message); one that hides the share-phone button
    again gets a reply keyboard of its own buttons instead, or none; other buttons become
    an inline keyboard.
    """
    request: dict[str, Any] = {
        "chat_id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
    }
    request["text"] = reply.text or "…"
    if reply.request_contact:
        label = SHARE_PHONE_LABEL.get(reply.locale, SHARE_PHONE_LABEL["uk"])
        request["reply_markup"] = _reply_keyboard(
            [[{"text": label, "request_contact": True}], *_typed_rows(reply)]
        )
    elif reply.hide_keyboard and any(reply.buttons):
        # The share-phone button goes; the others come as buttons that send their label.
        request["reply_markup"] = _reply_keyboard(_typed_rows(reply))
    elif reply.hide_keyboard:
        request["reply_markup"] = {"remove_keyboard": True}
    elif any(reply.buttons):
        request["reply_markup"] = _inline_keyboard(reply)
    return request


def answer_callback(callback_id: str) -> dict[str, Any]:
    """The answerCallbackQuery request that stops the button's spinner."""
    return {"callback_query_id": callback_id}


def set_webhook_request(url: str, secret: str) -> dict[str, Any]:
    """The setWebhook request: our URL, the secret header and the updates we handle."""
    return {
        "url": url,
        "secret_token": secret,
        "allowed_updates": ["message", "callback_query"],
    }
