"""The inbound side of the platforms: parsed updates handed to the conversation service.

Shared by the webhooks (in the dashboard) and `pokaznyk telegram poll`, so a message is
handled the same way however it arrived.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from pokaznyk_core.channels import IGNORED, InboundMessage, ParseResult, SubscriptionChange
from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.dialog.texts import not_handled
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.i18n import normalize_locale
from pokaznyk_core.outbox.queue import enqueue as queue_message
from pokaznyk_core.outbox.queue import set_subscribed, telegram_call
from pokaznyk_core.services.admission import message_turn
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.identities import language_of
from pokaznyk_core.services.turn_store import REPLY_KIND, OutboxRow
from pokaznyk_core.storage.transactions import is_transient, write_transaction

if TYPE_CHECKING:
    from pokaznyk_core.services.conversation import ConversationResult

log = logging.getLogger("pokaznyk.inbound")


async def dispatch(
    context: ServiceContext, channel: Channel, parsed: ParseResult
) -> list[tuple[InboundMessage, Any]]:
    """Hand each message of an update to the dialog (its replies go to the outbox).

    Returns each message with its conversation result (`handle_message`). A Telegram
    button press also queues answerCallbackQuery, once per callback query; a Viber
    (un)subscription marks the user's identity.

    A passing failure (the database busy or unreachable) propagates, so the platform
    delivers the update again (what was handled is deduplicated then). Any other failure
    of one message is a fault of ours that would repeat: it is logged, the customer is told
    to send the message again, and the other messages of the update are still handled.
    """
    results: list[tuple[InboundMessage, Any]] = []
    if parsed == IGNORED:
        return results
    attached = True
    for item in parsed:
        if isinstance(item, InboundMessage) and item.follows and not attached:
            continue  # the photo before it was not taken: said once, not for each of them
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
        result = await handle_message(context, channel, item, also_queue=answer)
        attached = result.attached_photo
        results.append((item, result))
    return results


async def handle_message(
    context: ServiceContext,
    channel: Channel,
    item: InboundMessage,
    *,
    also_queue: tuple[OutboxRow, ...] = (),
    enqueue: bool = True,
) -> ConversationResult:
    """`handle_incoming` for one platform message, or, when it fails by a fault of ours,
    `texts.not_handled` as its reply (queued once per update, with `also_queue`, when
    `enqueue`; a channel that answers in its HTTP response says it there). A passing
    failure propagates, so the platform delivers the message again."""
    from pokaznyk_core.services.conversation import ConversationResult, handle_incoming

    try:
        async with message_turn(context):
            return await handle_incoming(
                context,
                channel,
                item.platform_user_id,
                item.incoming,
                update_key=item.update_key,
                display_name=item.display_name,
                enqueue=enqueue,
                also_queue=also_queue,
            )
    except Exception as error:
        if is_transient(error):
            raise
        log.exception("%s: update %s could not be handled", channel.value, item.update_key)
    reply = not_handled(normalize_locale(item.incoming.language_hint))
    try:
        locale = await language_of(channel, item.platform_user_id)  # the one they chose
        reply = not_handled(locale) if locale else reply
        if enqueue:
            await _queue_apology(context, channel, item, reply, also_queue)
    except Exception as error:
        if is_transient(error):  # delivered again, it fails again and is answered
            raise
        log.exception("%s: the customer could not be told of the failure", channel.value)
    return ConversationResult(replies=(reply,), duplicate=False, identity_id=None)


async def _queue_apology(
    context: ServiceContext,
    channel: Channel,
    item: InboundMessage,
    reply: Reply,
    also_queue: tuple[OutboxRow, ...],
) -> None:
    """Queue the not-handled reply (and a button press's callback answer), once per update."""
    key = None
    if item.update_key:  # a fixed length, however long the platform's id (at most 120)
        digest = hashlib.sha256(item.update_key.encode()).hexdigest()[:40]
        key = f"{channel.value}:not-handled:{digest}"
    payload = {"reply": reply.to_json(), "kind": REPLY_KIND}
    rows = (OutboxRow(channel.value, item.platform_user_id, payload, key), *also_queue)
    now = context.now()
    async with write_transaction():
        for row in rows:
            await queue_message(
                row.channel, row.recipient, row.payload, now=now, dedupe_key=row.dedupe_key
            )
