"""What every webhook shares: the body limit, answers, and handing messages to the dialog."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Response

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.transactions import is_transient

log = logging.getLogger("pokaznyk.webhooks")

MAX_BODY = 1024 * 1024
"""Largest webhook body accepted (1 MiB); platform updates are a few kilobytes."""


class Refusal(Exception):  # noqa: N818 (a control-flow signal carrying the HTTP answer)
    """Stop handling a request and answer it with `response`."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__(response.status_code)
        self.response = response


def answer(status: int, body: dict[str, Any] | None = None) -> Response[Any]:
    """A small JSON answer (never a traceback)."""
    return Response(body if body is not None else {}, status_code=status)


def forbidden() -> Response[Any]:
    """403: missing or wrong signature, or the channel is not configured."""
    return answer(403, {"error": "forbidden"})


def bad_request(why: str) -> Response[Any]:
    """400: a signed body that is not an update."""
    return answer(400, {"error": "bad request", "detail": why[:200]})


async def signed_body(
    request: Request[Any, Any, Any],
    secret: str,
    verify: Callable[[Any, bytes, str], bool],
) -> bytes:
    """The raw body when the channel is configured and its signature checks out; else
    `Refusal` with 403 (and 413 for a body over `MAX_BODY`)."""
    if not secret:
        raise Refusal(forbidden())
    raw = await read_body(request)
    if not verify(request.headers, raw, secret):
        raise Refusal(forbidden())
    return raw


async def read_body(request: Request[Any, Any, Any]) -> bytes:
    """The raw body, read once; over `MAX_BODY` raises `Refusal` with 413."""
    try:
        return await request.body()
    except RequestEntityTooLarge:
        raise Refusal(answer(413, {"error": "request body too large"})) from None


def decode_json(body: bytes) -> Any:
    """The body as JSON, or `Refusal` with 400."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(bad_request("the body is not JSON")) from None
    except RecursionError:  # arrays nested thousands deep: no platform sends that
        raise Refusal(bad_request("the body is nested too deeply")) from None


RETRY_AFTER_SECONDS = 5
"""How long a platform is asked to wait before redelivering after a passing failure."""


async def guarded(channel: str, body: Callable[[], Any]) -> Response[Any]:
    """Run a webhook's body: a `Refusal` becomes its answer, anything unexpected is logged.

    The contract is never a 5xx. A passing failure (the database busy or unreachable for a
    moment) is answered 429 with Retry-After, so the platform delivers the update again and
    nothing is lost (the transaction was rolled back, and a redelivery is deduplicated).
    Anything else would fail the same way again: it is logged with its traceback and
    answered 200 without details.
    """
    try:
        response: Response[Any] = await body()
    except Refusal as refusal:
        return refusal.response
    except Exception as error:
        if is_transient(error):
            log.warning("%s webhook: %s; asking the platform to retry", channel, error)
            return Response(
                {"ok": False, "retry": True},
                status_code=429,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.exception("%s webhook failed", channel)
        return answer(200, {"ok": False})
    return response


def disabled_channels(context: ServiceContext) -> list[str]:
    """Webhooks whose secret is not configured (they answer 403 to everything)."""
    settings = context.settings
    missing = {
        "telegram (POKAZNYK_TELEGRAM_SECRET_TOKEN)": settings.telegram_secret_token,
        "viber (POKAZNYK_VIBER_AUTH_TOKEN)": settings.viber_auth_token,
        "messenger (POKAZNYK_MESSENGER_APP_SECRET)": settings.messenger_app_secret,
        "phone line (POKAZNYK_TWILIO_AUTH_TOKEN)": settings.twilio_auth_token
        or settings.ivr_allow_unsigned,
    }
    return [name for name, value in missing.items() if not value]


def platform_lifespan(
    get_context: Callable[[], ServiceContext],
) -> Callable[[Litestar], Any]:
    """A lifespan that says which channels are disabled and runs the outbox worker.

    The worker runs inside the app unless POKAZNYK_OUTBOX_IN_SERVE=0.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        import asyncio

        from pokaznyk_core.outbox import run_worker

        context = get_context()
        for name in disabled_channels(context):
            log.warning("webhook disabled: %s is not set; its requests are answered 403", name)
        if context.settings.extra.get("outbox_in_serve", "1").strip() in (
            "0",
            "false",
            "no",
            "off",
        ):
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(context, stop), name="pokaznyk-outbox")
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, timeout=20)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()

    return lifespan
