"""The inbound side of the platforms: parsed updates handed to the conversation service.

Shared by the webhooks (in the dashboard) and `pokaznyk telegram poll`, so a message is
handled the same way however it arrived.
"""

from __future__ import annotations

from typing import Any

from pokaznyk_core.channels import IGNORED, InboundMessage, ParseResult, SubscriptionChange
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.outbox.queue import set_subscribed, telegram_call
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.turn_store import OutboxRow


async def dispatch(
    context: ServiceContext, channel: Channel, parsed: ParseResult
) -> list[tuple[InboundMessage, Any]]:
    """Hand each message of an update to the dialog (its replies go to the outbox).

    Returns each message with its conversation result. A Telegram button press also
    queues answerCallbackQuery, once per callback query; a Viber (un)subscription marks
    the user's identity.
    """
    from pokaznyk_core.services.conversation import handle_incoming

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
        result = await handle_incoming(
            context,
            channel,
            item.platform_user_id,
            item.incoming,
            update_key=item.update_key,
            display_name=item.display_name,
            also_queue=answer,
        )
        results.append((item, result))
    return results
