"""POST /webhooks/telegram, /webhooks/viber and GET|POST /webhooks/messenger.

Each checks the platform's signature or secret on the raw body first (403 and nothing
stored otherwise), parses the update (400 when it is not one), and hands each customer
message to the dialog; replies leave through the outbox, so the answer here is quick.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Response

from pokaznyk_core.channels import (
    IGNORED,
    InboundMessage,
    InvalidUpdateError,
    ParseResult,
    messenger,
    telegram,
    viber,
)
from pokaznyk_core.dialog.messages import IncomingKind, Reply
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.outbox.inbound import dispatch, handle_message
from pokaznyk_core.outbox.queue import load_spoken_by_key, store_spoken
from pokaznyk_core.services.admission import message_turn
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.transactions import write_transaction
from pokaznyk_dashboard.webhooks.common import (
    MAX_BODY,
    Refusal,
    answer,
    bad_request,
    decode_json,
    forbidden,
    guarded,
    read_body,
    signed_body,
)


def _parse(parse: Any, payload: Any) -> ParseResult:
    try:
        result: ParseResult = parse(payload)
    except InvalidUpdateError as error:
        raise Refusal(bad_request(str(error))) from None
    return result


@post(
    "/webhooks/telegram",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="webhook_telegram",
    include_in_schema=False,
)
async def telegram_webhook(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[Any]:
    """A Telegram Update, authenticated by X-Telegram-Bot-Api-Secret-Token."""

    async def body() -> Response[Any]:
        secret = context.settings.telegram_secret_token
        if not telegram.verify(request.headers, b"", secret):
            return forbidden()
        payload = decode_json(await read_body(request))
        await dispatch(context, Channel.TELEGRAM, _parse(telegram.parse, payload))
        return answer(200, {"ok": True})

    return await guarded("telegram", body)


def _welcome(replies: tuple[Reply, ...], sender_name: str) -> dict[str, Any]:
    """Viber lets the bot greet a user who only opened the chat once, in the HTTP answer."""
    if not replies:
        return {}
    last = replies[-1]
    text = "\n\n".join(r.text for r in replies if r.text)
    merged = Reply(
        text=text, buttons=last.buttons, request_contact=last.request_contact, locale=last.locale
    )
    return viber.render_message(merged, sender_name)


@post(
    "/webhooks/viber",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="webhook_viber",
    include_in_schema=False,
)
async def viber_webhook(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[Any]:
    """A Viber callback, authenticated by X-Viber-Content-Signature."""

    async def body() -> Response[Any]:
        raw = await signed_body(request, context.settings.viber_auth_token, viber.verify)
        parsed = _parse(viber.parse, decode_json(raw))
        starts = [
            item
            for item in (parsed if parsed != IGNORED else [])
            if isinstance(item, InboundMessage) and item.incoming.kind is IncomingKind.START
        ]
        if starts:
            return await _conversation_started(context, starts[0])
        await dispatch(context, Channel.VIBER, parsed)
        return answer(200, {"status": 0})

    return await guarded("viber", body)


async def _conversation_started(context: ServiceContext, item: InboundMessage) -> Response[Any]:
    """The welcome, kept under the event's token: Viber delivers the event again only when
    our answer did not reach it, so a redelivery gets the same welcome (the dialog does not
    move twice)."""
    key = f"viber:welcome:{item.update_key}" if item.update_key else None
    # The turn and its welcome are kept together: a redelivery that comes while the first
    # delivery is still being answered waits for it, then finds the welcome.
    async with message_turn(context), write_transaction():
        result = await handle_message(context, Channel.VIBER, item, enqueue=False)
        replies = list(result.replies)
        if result.duplicate:
            kept = await load_spoken_by_key(key) if key else None
            replies = kept[1] if kept is not None else []
        elif key is not None:
            await store_spoken(
                item.platform_user_id, replies, now=context.now(), dedupe_key=key, channel="viber"
            )
    return answer(200, _welcome(tuple(replies), context.settings.viber_sender_name))


@get(
    "/webhooks/messenger",
    operation_id="webhook_messenger_challenge",
    include_in_schema=False,
    media_type=MediaType.TEXT,
)
async def messenger_challenge(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[str]:
    """Meta's verification request: the bare challenge for the right verify token, else 403."""
    params = {key: str(value) for key, value in request.query_params.items()}
    challenge = messenger.challenge(params, context.settings.messenger_verify_token)
    if challenge is None:
        return Response("forbidden", status_code=403, media_type=MediaType.TEXT)
    return Response(challenge, status_code=200, media_type=MediaType.TEXT)


@post(
    "/webhooks/messenger",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="webhook_messenger",
    include_in_schema=False,
)
async def messenger_webhook(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[Any]:
    """A Messenger page event, authenticated by X-Hub-Signature-256."""

    async def body() -> Response[Any]:
        raw = await signed_body(request, context.settings.messenger_app_secret, messenger.verify)
        await dispatch(context, Channel.MESSENGER, _parse(messenger.parse, decode_json(raw)))
        return Response("EVENT_RECEIVED", status_code=200, media_type=MediaType.TEXT)

    return await guarded("messenger", body)
