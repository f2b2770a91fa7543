"""Every webhook's contract: 403 and nothing stored, 200 for redelivery, 400, 413, never 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from tests.dashboard.webhooks.conftest import (
    APP_SECRET,
    TELEGRAM_SECRET,
    VERIFY_TOKEN,
    VIBER_TOKEN,
)

from pokaznyk_core.storage.tables import DialogState, OutboxMessage, ProcessedUpdate

USER = {"id": 5551, "is_bot": False, "first_name": "Олена", "language_code": "uk"}


def tg_update(update_id: int, text: str = "/start", user_id: int = 5551) -> dict[str, Any]:
    sender = {**USER, "id": user_id}
    chat = {"id": user_id, "type": "private"}
    message = {"message_id": 1, "from": sender, "chat": chat, "date": 1, "text": text}
    return {"update_id": update_id, "message": message}


def tg_headers(secret: str | None = TELEGRAM_SECRET) -> dict[str, str]:
    return {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}


def viber_signed(body: bytes, token: str = VIBER_TOKEN) -> dict[str, str]:
    return {"X-Viber-Content-Signature": hmac.new(token.encode(), body, hashlib.sha256).hexdigest()}


def hub_signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


async def counts() -> tuple[int, int, int]:
    return (await OutboxMessage.count(), await ProcessedUpdate.count(), await DialogState.count())


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_telegram_refuses_a_missing_or_wrong_secret_and_stores_nothing(
    web: httpx.AsyncClient, secret: str | None
) -> None:
    before = await counts()
    response = await web.post(
        "/webhooks/telegram", json=tg_update(9001), headers=tg_headers(secret)
    )
    assert response.status_code == 403
    assert await counts() == before


async def test_every_webhook_is_closed_when_its_secret_is_not_configured(
    unconfigured_web: httpx.AsyncClient,
) -> None:
    before = await counts()
    body = json.dumps({"event": "webhook"}).encode()
    answers = [
        await unconfigured_web.post(
            "/webhooks/telegram", json=tg_update(9002), headers=tg_headers("")
        ),
        await unconfigured_web.post(
            "/webhooks/viber", content=body, headers=viber_signed(body, "")
        ),
        await unconfigured_web.post(
            "/webhooks/messenger", content=body, headers=hub_signed(body, "")
        ),
        await unconfigured_web.get(
            "/webhooks/messenger",
            params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
        ),
        await unconfigured_web.post("/ivr/voice", data={"CallSid": "CA1", "From": "+380501234567"}),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    assert await counts() == before


async def test_telegram_refuses_a_signed_body_that_is_not_an_update(web: httpx.AsyncClient) -> None:
    nested = b"[" * 50_000 + b"]" * 50_000  # deeper than the JSON reader goes
    for body in (b"not json", b"[1, 2]", b'{"message": {}}', nested):
        response = await web.post("/webhooks/telegram", content=body, headers=tg_headers())
        assert response.status_code == 400


async def test_telegram_refuses_a_body_over_one_mebibyte(web: httpx.AsyncClient) -> None:
    huge = json.dumps({"update_id": 1, "padding": "x" * (1024 * 1024)}).encode()
    response = await web.post("/webhooks/telegram", content=huge, headers=tg_headers())
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/webhooks/viber", "/webhooks/messenger"])
async def test_viber_and_messenger_refuse_a_signed_body_over_one_mebibyte(
    web: httpx.AsyncClient, path: str
) -> None:
    huge = json.dumps({"event": "message", "padding": "x" * (1024 * 1024)}).encode()
    signed = viber_signed(huge) if path.endswith("viber") else hub_signed(huge)
    before = await counts()
    response = await web.post(path, content=huge, headers=signed)
    assert response.status_code == 413
    assert await counts() == before


async def test_telegram_answers_an_update_it_does_not_handle_with_200_and_changes_nothing(
    web: httpx.AsyncClient,
) -> None:
    before = await counts()
    update = {"update_id": 9003, "edited_message": {"message_id": 1, "text": "x"}}
    response = await web.post("/webhooks/telegram", json=update, headers=tg_headers())
    assert response.status_code == 200
    assert await counts() == before


async def test_telegram_handles_a_redelivered_update_once(web: httpx.AsyncClient) -> None:
    first = await web.post(
        "/webhooks/telegram", json=tg_update(9004, user_id=7001), headers=tg_headers()
    )
    assert first.status_code == 200
    after_first = await counts()
    assert after_first[0] > 0
    again = await web.post(
        "/webhooks/telegram", json=tg_update(9004, user_id=7001), headers=tg_headers()
    )
    assert again.status_code == 200
    assert await counts() == after_first


async def test_telegram_button_press_queues_one_answer_callback_query(
    web: httpx.AsyncClient,
) -> None:
    sender = {**USER, "id": 7002}
    query = {
        "id": "cbq-1",
        "from": sender,
        "chat_instance": "c",
        "data": "menu:window",
        "message": {"message_id": 1},
    }
    update = {"update_id": 9005, "callback_query": query}
    for _ in range(2):
        response = await web.post("/webhooks/telegram", json=update, headers=tg_headers())
        assert response.status_code == 200
    calls = await OutboxMessage.select().where(
        OutboxMessage.dedupe_key == "telegram:callback:cbq-1"
    )
    assert len(calls) == 1


async def test_viber_refuses_a_wrong_signature_and_accepts_the_webhook_check(
    web: httpx.AsyncClient,
) -> None:
    body = json.dumps({"event": "webhook", "timestamp": 1, "message_token": 1}).encode()
    assert (
        await web.post("/webhooks/viber", content=body, headers=viber_signed(body, "x"))
    ).status_code == 403
    assert (await web.post("/webhooks/viber", content=body)).status_code == 403
    assert (
        await web.post("/webhooks/viber", content=body, headers=viber_signed(body))
    ).status_code == 200


async def test_viber_refuses_a_signed_body_that_is_not_a_callback(web: httpx.AsyncClient) -> None:
    body = b'{"no_event": true}'
    assert (
        await web.post("/webhooks/viber", content=body, headers=viber_signed(body))
    ).status_code == 400


async def test_viber_greets_a_user_who_opened_the_chat_in_the_http_answer(
    web: httpx.AsyncClient,
) -> None:
    user = {"id": "viber-user-1=", "name": "Олена", "language": "uk", "api_version": 8}
    event = {
        "event": "conversation_started",
        "timestamp": 1,
        "message_token": 777,
        "type": "open",
        "user": user,
    }
    body = json.dumps(event).encode()
    response = await web.post("/webhooks/viber", content=body, headers=viber_signed(body))
    assert response.status_code == 200
    welcome = response.json()
    assert welcome["type"] == "text" and welcome["text"]
    assert welcome["sender"]["name"]
    kept = await OutboxMessage.count()
    versions = await DialogState.select(DialogState.version).where(
        DialogState.platform_user_id == user["id"]
    )

    again = await web.post("/webhooks/viber", content=body, headers=viber_signed(body))

    assert again.status_code == 200
    assert again.json() == welcome, "Viber redelivers only an answer it did not get"
    assert await OutboxMessage.count() == kept
    assert (
        await DialogState.select(DialogState.version).where(
            DialogState.platform_user_id == user["id"]
        )
        == versions
    )


async def test_viber_says_a_welcome_that_failed_by_our_fault_was_not_handled(
    web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pokaznyk_core.i18n import translate
    from pokaznyk_core.services import conversation

    def step_with_a_bug(*args: Any) -> Any:
        raise RuntimeError("a bug in the dialog")

    monkeypatch.setattr(conversation, "step", step_with_a_bug)
    user = {"id": "viber-user-2=", "name": "Tom", "language": "en", "api_version": 8}
    event = {"event": "conversation_started", "timestamp": 1, "message_token": 778, "user": user}
    body = json.dumps(event).encode()
    response = await web.post("/webhooks/viber", content=body, headers=viber_signed(body))
    assert response.status_code == 200
    assert response.json()["text"] == translate("dialog.not_handled", "en")


async def test_messenger_answers_the_challenge_only_with_the_verify_token(
    web: httpx.AsyncClient,
) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await web.get("/webhooks/messenger", params=good)
    assert response.status_code == 200
    assert response.text == "1158201444"
    bad = await web.get("/webhooks/messenger", params={**good, "hub.verify_token": "nope"})
    assert bad.status_code == 403


async def test_messenger_refuses_a_wrong_signature_and_dedupes_by_mid(
    web: httpx.AsyncClient,
) -> None:
    messaging = {
        "sender": {"id": "PSID-77"},
        "recipient": {"id": "PAGE"},
        "timestamp": 1,
        "message": {"mid": "m_77", "text": "привіт"},
    }
    body = json.dumps(
        {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [messaging]}]}
    ).encode()
    before = await counts()
    assert (
        await web.post("/webhooks/messenger", content=body, headers=hub_signed(body, "x"))
    ).status_code == 403
    assert await counts() == before
    first = await web.post("/webhooks/messenger", content=body, headers=hub_signed(body))
    assert first.status_code == 200
    after = await counts()
    again = await web.post("/webhooks/messenger", content=body, headers=hub_signed(body))
    assert again.status_code == 200
    assert await counts() == after
    assert (
        await web.post("/webhooks/messenger", content=b"{}", headers=hub_signed(b"{}"))
    ).status_code == 400
