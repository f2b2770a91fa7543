"""The inbound side of the platforms: parsed updates handed to the conversation service.

Shared by the webhooks (in the dashboard) and `pokaznyk telegram poll`, so a message is
handled the same way however it arrived.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pokaznyk_core.channels import IGNORED, InboundMessage, ParseResult, SubscriptionChange
from pokaznyk_core.dialog.texts import not_handled
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.outbox.queue import enqueue, set_subscribed, telegram_call
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.identities import language_of
from pokaznyk_core.services.turn_store import REPLY_KIND, OutboxRow
from pokaznyk_core.storage.transactions import is_transient, write_transaction

log = logging.getLogger("pokaznyk.inbound")


async def dispatch(
    context: ServiceContext, channel: Channel, parsed: ParseResult
) -> list[tuple[InboundMessage, Any]]:
    """Hand each message of an update to the dialog (its replies go to the outbox).

    Returns each message with its conversation result (None for one that failed). A
    Telegram button press also queues answerCallbackQuery, once per callback query; a Viber
    (un)subscription marks the user's identity.

    A passing failure (the database busy or unreachable) propagates, so the platform
    delivers the update again (what was handled is deduplicated then). Any other failure
    of one message is a fault of ours that would repeat: it is logged, the customer is told
    to send the message again, and the other messages of the update are still handled.
    """
    results: list[tuple[InboundMessage, Any]] = []
    if parsed == IGNORED:
        return results
    for item in parsed:
        if isinstance(item, SubscriptionChange):
            await set_subscribed(channel.value, item.platform_user_id, item.subscribed)
            continue
        # The button's callback answer is written with the dialog's replies, all or nothing.
        answer: tuple[OutboxRow, ...] = ()
        if item.callback_id is not None:
            answer = (
                telegram_call(
                    "answerCallbackQuery",
                    {"callback_query_id": item.callback_id},
                    item.platform_user_id,
                    dedupe_key=f"telegram:callback:{item.callback_id}",
                ),
            )
        results.append((item, await _handle(context, channel, item, answer)))
    return results


async def _handle(
    context: ServiceContext,
    channel: Channel,
    item: InboundMessage,
    answer: tuple[OutboxRow, ...],
) -> Any:
    from pokaznyk_core.services.conversation import handle_incoming

    try:
        return await handle_incoming(
            context,
            channel,
            item.platform_user_id,
            item.incoming,
            update_key=item.update_key,
            display_name=item.display_name,
            also_queue=answer,
        )
    except Exception as error:
        if is_transient(error):
            raise
        log.exception("%s: update %s could not be handled", channel.value, item.update_key)
    try:
        await _apologise(context, channel, item, answer)
    except Exception as error:
        if is_transient(error):  # delivered again, the message fails again and is answered
            raise
        log.exception("%s: the customer could not be told of the failure", channel.value)
    return None


async def _apologise(
    context: ServiceContext,
    channel: Channel,
    item: InboundMessage,
    answer: tuple[OutboxRow, ...],
) -> None:
    """Queue `texts.not_handled` (and a button press's callback answer), once per update."""
    locale = await language_of(channel, item.platform_user_id)
    reply = not_handled(locale or normalize_locale(item.incoming.language_hint))
    key = None
    if item.update_key:  # a fixed length, however long the platform's id (at most 120)
        digest = hashlib.sha256(item.update_key.encode()).hexdigest()[:40]
        key = f"{channel.value}:not-handled:{digest}"
    rows = (
        OutboxRow(
            channel.value,
            item.platform_user_id,
            {"reply": reply.to_json(), "kind": REPLY_KIND},
            key,
        ),
        *answer,
    )
    now = context.now()
    async with write_transaction():
        for row in rows:
            await enqueue(
                row.channel, row.recipient, row.payload, now=now, dedupe_key=row.dedupe_key
            )
