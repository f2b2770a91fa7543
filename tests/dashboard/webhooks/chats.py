"""Customers talking to the real webhooks of the app, one class per platform.

Each `says` / `presses` posts one update in the platform's documented format (signed the
platform's way) and returns the replies the app queued in the outbox for that customer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
from tests.dashboard.webhooks.conftest import APP_SECRET, TELEGRAM_SECRET, VIBER_TOKEN

from pokaznyk_core.outbox import send_due
from pokaznyk_core.outbox.ratelimit import RateLimiter
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.tables import DialogState, OutboxMessage
from pokaznyk_core.testing import MeterFixture

Replies = list[dict[str, Any]]
_ids = count(100_000)


def payloads(replies: Replies) -> list[str]:
    """The button payloads offered by `replies`."""
    return [b["payload"] for reply in replies for row in reply["buttons"] for b in row]


def confirm_button(replies: Replies) -> str:
    """The payload of the confirmation's button (it names the values shown)."""
    return next(p for p in payloads(replies) if p.startswith("confirm:"))


def texts(replies: Replies) -> str:
    """All the replies' words, one after another."""
    return "\n".join(r["text"] for r in replies)


async def send_once(context: ServiceContext) -> int:
    """One round of the outbox worker's `send_due`; how many messages were delivered.

    The per-chat pacing (about one message a second on Telegram) is real time; the
    tests leave it out so that a dialog's replies go at once.
    """
    async with httpx.AsyncClient() as client:
        return await send_due(context, client, limiter=RateLimiter(limits={}))


async def deliver_outbox(context: ServiceContext) -> int:
    """Run `send_due` until nothing more is due; returns how many were delivered."""
    delivered = 0
    async with httpx.AsyncClient() as client:
        for _ in range(20):
            sent = await send_due(context, client, limiter=RateLimiter(limits={}))
            if not sent:
                return delivered
            delivered += sent
    raise AssertionError("the outbox never ran dry")


@dataclass
class Chat:
    """What every platform's customer shares: their outbox replies and dialog state."""

    web: httpx.AsyncClient
    user_id: str
    channel: str = ""
    last_status: int = 0

    async def outbox_rows(self) -> list[dict[str, Any]]:
        """Every outbox row for this customer, oldest first."""
        rows: list[dict[str, Any]] = await (
            OutboxMessage.select()
            .where(OutboxMessage.channel == self.channel)
            .where(OutboxMessage.recipient == self.user_id)
            .order_by(OutboxMessage.id)
        )
        return rows

    async def replies(self) -> Replies:
        """Every reply queued for this customer, oldest first."""
        found = [json.loads(r["payload"]).get("reply") for r in await self.outbox_rows()]
        return [r for r in found if r is not None]

    async def dialog(self) -> tuple[int, dict[str, Any]]:
        """(version, state) of this customer's stored dialog."""
        row = await (
            DialogState.select(DialogState.version, DialogState.state)
            .where(DialogState.channel == self.channel)
            .where(DialogState.platform_user_id == self.user_id)
            .first()
        )
        assert row is not None
        state = row["state"]
        return int(row["version"]), json.loads(state) if isinstance(state, str) else state

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Replies:
        """Post one raw update; the replies it queued."""
        seen = len(await self.replies())
        response = await self.web.post(path, content=body, headers=headers)
        self.last_status = response.status_code
        return (await self.replies())[seen:]

    def pressing(self, payload: str) -> tuple[str, bytes, dict[str, str]]:
        """(path, body, headers) of one signed request: this customer pressed a button."""
        raise NotImplementedError

    def photo_request(self, ref: str) -> tuple[str, bytes, dict[str, str]]:
        """(path, body, headers) of one signed request carrying a photo known as `ref`."""
        raise NotImplementedError

    async def says(self, text: str) -> Replies:
        raise NotImplementedError

    async def presses(self, payload: str) -> Replies:
        replies = await self.post(*self.pressing(payload))
        assert self.last_status == 200
        return replies

    async def sends_photo(self, ref: str) -> Replies:
        """Send a picture of the meter; the replies it queued."""
        replies = await self.post(*self.photo_request(ref))
        assert self.last_status == 200
        return replies

    async def verifies(self, fixture: MeterFixture) -> Replies:
        """Menu → submit → account number → surname; returns the first zone's prompt."""
        await self.says("/start")
        await self.presses("menu:submit")
        await self.says(fixture.account_number)
        return await self.says(fixture.surname)

    async def submits(self, *values: str) -> Replies:
        """Type each zone's value, then confirm the preview; returns the receipt replies."""
        preview: Replies = []
        for value in values:
            preview = await self.says(value)
        return await self.presses(confirm_button(preview))


@dataclass
class TelegramChat(Chat):
    """A private chat with the bot: Update JSON with the secret-token header."""

    channel: str = "telegram"
    secret: str = TELEGRAM_SECRET
    user: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user = {
            "id": int(self.user_id),
            "is_bot": False,
            "first_name": "Олена",
            "language_code": "uk",
        }

    def message(self, **content: Any) -> dict[str, Any]:
        """A message Update from this customer with `content` (text, photo, contact…)."""
        chat = {"id": self.user["id"], "type": "private", "first_name": "Олена"}
        message = {"message_id": next(_ids), "from": self.user, "chat": chat, "date": 1}
        return {"update_id": next(_ids), "message": {**message, **content}}

    def button(self, payload: str) -> dict[str, Any]:
        """A callback_query Update: this customer pressed an inline button."""
        query = {
            "id": f"cbq-{next(_ids)}",
            "from": self.user,
            "chat_instance": "ci-1",
            "data": payload,
            "message": {"message_id": 1, "date": 1, "chat": {"id": self.user["id"]}},
        }
        return {"update_id": next(_ids), "callback_query": query}

    async def send(self, update: dict[str, Any], secret: str | None = None) -> Replies:
        """Post one Update; the replies it queued."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret or self.secret}
        return await self.post("/webhooks/telegram", json.dumps(update).encode(), headers)

    async def says(self, text: str) -> Replies:
        replies = await self.send(self.message(text=text))
        assert self.last_status == 200
        return replies

    def signed(self, update: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        return "/webhooks/telegram", json.dumps(update).encode(), headers

    def pressing(self, payload: str) -> tuple[str, bytes, dict[str, str]]:
        return self.signed(self.button(payload))

    def photo_request(self, ref: str) -> tuple[str, bytes, dict[str, str]]:
        sizes = [
            {"file_id": f"{ref}-small", "file_unique_id": "s", "width": 90, "height": 67},
            {"file_id": ref, "file_unique_id": "l", "width": 1280, "height": 960},
        ]
        return self.signed(self.message(photo=sizes))


def viber_signature(body: bytes, token: str = VIBER_TOKEN) -> str:
    """X-Viber-Content-Signature: hex HMAC-SHA256 of the raw body keyed with the token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class ViberChat(Chat):
    """A Viber user: signed `message` callbacks; buttons come back as their ActionBody."""

    channel: str = "viber"

    def callback(self, message: dict[str, Any], token: int | None = None) -> dict[str, Any]:
        """A `message` callback from this user."""
        sender = {"id": self.user_id, "name": "Олена", "language": "uk", "api_version": 10}
        return {
            "event": "message",
            "timestamp": 1_790_000_000_000,
            "chat_hostname": "SN-CHAT-01_",
            "message_token": token if token is not None else next(_ids),
            "sender": sender,
            "message": message,
            "silent": False,
        }

    def signed(
        self, callback: dict[str, Any], signature: str | None = None
    ) -> tuple[str, bytes, dict[str, str]]:
        body = json.dumps(callback, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Viber-Content-Signature": signature or viber_signature(body),
        }
        return "/webhooks/viber", body, headers

    async def send(self, callback: dict[str, Any], signature: str | None = None) -> Replies:
        """Post one callback, signed unless `signature` is given."""
        return await self.post(*self.signed(callback, signature))

    async def says(self, text: str) -> Replies:
        replies = await self.send(self.callback({"type": "text", "text": text}))
        assert self.last_status == 200
        return replies

    def pressing(self, payload: str) -> tuple[str, bytes, dict[str, str]]:
        return self.signed(self.callback({"type": "text", "text": f"btn:{payload}"}))

    def photo_request(self, ref: str) -> tuple[str, bytes, dict[str, str]]:
        picture = {"type": "picture", "text": "", "media": ref, "thumbnail": ref + "?thumb"}
        return self.signed(self.callback(picture))


def hub_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class MessengerChat(Chat):
    """A Messenger user (PSID): signed page events; quick replies carry the payload."""

    channel: str = "messenger"

    def event(self, message: dict[str, Any]) -> dict[str, Any]:
        """A page event with one `message` from this user."""
        messaging = {
            "sender": {"id": self.user_id},
            "recipient": {"id": "PAGE-1"},
            "timestamp": 1_790_000_000_000,
            "message": {"mid": f"m_{next(_ids)}", **message},
        }
        return {
            "object": "page",
            "entry": [{"id": "PAGE-1", "time": 1_790_000_000_000, "messaging": [messaging]}],
        }

    def signed(
        self, event: dict[str, Any], signature: str | None = None
    ) -> tuple[str, bytes, dict[str, str]]:
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature or hub_signature(body),
        }
        return "/webhooks/messenger", body, headers

    async def send(self, event: dict[str, Any], signature: str | None = None) -> Replies:
        """Post one page event, signed unless `signature` is given."""
        return await self.post(*self.signed(event, signature))

    async def says(self, text: str) -> Replies:
        replies = await self.send(self.event({"text": text}))
        assert self.last_status == 200
        return replies

    def pressing(self, payload: str) -> tuple[str, bytes, dict[str, str]]:
        quick = {"text": payload, "quick_reply": {"payload": f"btn:{payload}"}}
        return self.signed(self.event(quick))

    def photo_request(self, ref: str) -> tuple[str, bytes, dict[str, str]]:
        image = {"type": "image", "payload": {"url": ref}}
        return self.signed(self.event({"attachments": [image]}))
