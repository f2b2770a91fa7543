"""`pokaznyk worker`, `remind`, `telegram set-webhook|poll`, `viber set-webhook` and
`messenger set-profile`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from typing import Any
from urllib.parse import urlsplit

import click
import httpx

from pokaznyk_core.channels import messenger, telegram, viber
from pokaznyk_core.cli.runner import fail, load_settings, run, with_database
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.window import window_state
from pokaznyk_core.outbox import run_worker, send_due_once, send_reminders
from pokaznyk_core.outbox.delivery import quiet_http_client_logs
from pokaznyk_core.outbox.inbound import dispatch
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.storage.transactions import is_transient

POLL_TIMEOUT_SECONDS = 30
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("pokaznyk.cli")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(getattr(signal, name), stop.set)


@click.command("worker")
def worker() -> None:
    """Send queued replies and reminders until stopped (Ctrl+C or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    quiet_http_client_logs()

    async def body(database: Database, context: ServiceContext) -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        click.echo("outbox worker running; Ctrl+C stops it")
        await run_worker(context, stop)

    with_database(body)


@click.command("remind")
def remind() -> None:
    """Queue this window's reminders (once per user and account; safe to run again)."""

    async def body(database: Database, context: ServiceContext) -> tuple[int, str]:
        state = window_state(context.today(), context.window)
        if not state.is_open:
            return -1, f"the submission window is closed; it opens on {state.opens_on.isoformat()}"
        run = await send_reminders(context)
        message = f"queued {run.queued} reminder(s) for {state.period}"
        if run.messenger_silent:
            message += (
                f"; {run.messenger_silent} reminder(s) to Messenger users silent for about a day"
                " wait (Meta delivers nothing the page starts 24 hours after their last"
                " message): the worker sends them if they write during the window"
            )
        return run.queued, message

    _count, message = with_database(body)
    click.echo(message)


@click.group("telegram")
def telegram_group() -> None:
    """The Telegram bot."""


TELEGRAM_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What Telegram's setWebhook takes as `secret_token`."""


def _check_webhook_url(url: str, platform: str, path: str) -> None:
    """Exit 1 unless `url` can be a webhook: to the platforms an empty URL removes it."""
    if not url.strip():
        fail(
            f"the webhook URL is empty (to {platform} an empty URL removes the webhook);"
            f" give the https:// address of {path}"
        )
    try:
        parts = urlsplit(url)
        usable = parts.scheme == "https" and bool(parts.hostname)
    except ValueError:  # malformed, such as an unclosed [IPv6 bracket
        usable = False
    if not usable:
        fail(
            f"the webhook URL must be https:// with a host, not {url!r}; give the address of {path}"
        )


def _what_failed(error: Exception) -> str:
    """An HTTP client error in words (httpx's timeouts say nothing in `str()`)."""
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    return str(error) or type(error).__name__


def _bot_url(settings: Settings, method: str) -> str:
    if not settings.telegram_bot_token:
        fail("POKAZNYK_TELEGRAM_BOT_TOKEN is not set")
    return f"{settings.telegram_api_base.rstrip('/')}/bot{settings.telegram_bot_token}/{method}"


class BotApiError(Exception):
    """The Bot API did not answer a method, or refused it (`status` 0: no answer)."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def is_final(self) -> bool:
        """A wrong token (401, 404) or a webhook or other poller in the way (409): waiting
        does not help, someone has to act."""
        return self.status in (401, 403, 404, 409)


async def _bot_request(
    client: httpx.AsyncClient, settings: Settings, method: str, params: dict[str, Any]
) -> Any:
    """Call a Bot API method and return its result; BotApiError when it did not answer
    or refused."""
    try:
        response = await client.post(_bot_url(settings, method), json=params)
        data = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise BotApiError(
            f"Telegram Bot API did not answer {method}: {_what_failed(error)}"
        ) from None
    if not isinstance(data, dict) or data.get("ok") is not True:
        description = data.get("description") if isinstance(data, dict) else None
        parameters = data.get("parameters") if isinstance(data, dict) else None
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise BotApiError(
            f"Telegram refused {method}: {description or f'HTTP {response.status_code}'}",
            status=response.status_code,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )
    return data.get("result")


async def _bot_call(
    client: httpx.AsyncClient, settings: Settings, method: str, params: dict[str, Any]
) -> Any:
    """Call a Bot API method; an error answer or no answer exits 1 with the reason."""
    try:
        return await _bot_request(client, settings, method, params)
    except BotApiError as error:
        fail(str(error))


async def set_command_menu(client: httpx.AsyncClient, settings: Settings) -> None:
    """The bot's command menu (`telegram.COMMANDS`) in every language; BotApiError when
    Telegram refuses it."""
    for commands in telegram.set_commands_requests():
        await _bot_request(client, settings, "setMyCommands", commands)


@telegram_group.command("set-webhook")
@click.argument("url")
def telegram_set_webhook(url: str) -> None:
    """Point the bot at URL (…/webhooks/telegram), with the secret token from the settings."""
    settings = load_settings()
    if not settings.telegram_secret_token:
        fail("POKAZNYK_TELEGRAM_SECRET_TOKEN is not set (the webhook would refuse every update)")
    if not TELEGRAM_SECRET_TOKEN.fullmatch(settings.telegram_secret_token):
        fail(
            "POKAZNYK_TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            " (Telegram takes no other); set it to such a value"
        )
    _check_webhook_url(url, "Telegram", "/webhooks/telegram")
    _bot_url(settings, "setWebhook")

    async def go() -> str | None:
        async with httpx.AsyncClient(timeout=30) as client:
            request = telegram.set_webhook_request(url, settings.telegram_secret_token)
            await _bot_call(client, settings, "setWebhook", request)
            try:
                await set_command_menu(client, settings)
            except BotApiError as error:  # the webhook is set: the menu is a convenience
                return str(error)
            return None

    menu_refused = run(go())
    click.echo(f"Telegram webhook set to {url}")
    if menu_refused:
        click.echo(f"warning: the bot's command menu was not set: {menu_refused}", err=True)


@telegram_group.command("poll")
@click.option("--once", is_flag=True, hidden=True, help="One round, then exit (tests, cron).")
@click.option("--no-worker", is_flag=True, help="Do not send the outbox from this process.")
def telegram_poll(once: bool, no_worker: bool) -> None:
    """Receive updates by long polling (getUpdates), for a deployment with no public URL."""
    settings = load_settings()
    _bot_url(settings, "getUpdates")

    async def body(database: Database, context: ServiceContext) -> int:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        async with httpx.AsyncClient(timeout=POLL_TIMEOUT_SECONDS + 15) as client:
            try:
                await set_command_menu(client, settings)
            except BotApiError as error:  # the menu is a convenience: polling goes on
                log.warning("the bot's command menu was not set: %s", error)
            sender = None
            if not no_worker and not once:
                sender = asyncio.create_task(run_worker(context, stop, client=client))
            try:
                if once:
                    try:
                        handled = await poll_once(client, context)
                    except BotApiError as error:
                        fail(str(error))
                    if not no_worker and await send_due_once(context, client) is None:
                        log.info("the outbox is sent by the process holding the lease")
                else:
                    handled = await poll_updates(client, context, stop)
            finally:
                stop.set()
                if sender is not None:
                    await sender
        return handled

    handled = with_database(body)
    click.echo(f"handled {handled} update(s)")


POLL_RETRY_SECONDS = (1.0, 60.0)
"""The first and the longest wait after a failed round of polling; it doubles in between."""


async def poll_updates(
    client: httpx.AsyncClient,
    context: ServiceContext,
    stop: asyncio.Event,
    *,
    wait_seconds: int = POLL_TIMEOUT_SECONDS,
    retry_seconds: tuple[float, float] = POLL_RETRY_SECONDS,
) -> int:
    """Poll until `stop`; returns how many messages were handled.

    A round that fails (no answer, a server error, flood control, the database away) is
    logged and tried again after a wait that doubles up to a minute, or after Telegram's
    `retry_after`; the offset moves only past updates that were handled, and a handled
    update that comes again changes nothing. An update that fails for any other reason
    would fail the same way every time: it is logged with its traceback and passed over,
    as the webhook answers it 200, so it cannot hold up the updates behind it. A wrong
    token, or a webhook or another poller in the way, ends polling with the reason
    (exit 1)."""
    handled, offset = 0, 0
    first_wait, longest_wait = retry_seconds
    wait = first_wait
    while not stop.is_set():
        try:
            handled_now, offset = await _poll_round(
                client, context, offset, wait_seconds=wait_seconds
            )
        except BotApiError as error:
            if error.is_final:
                fail(str(error))
            pause = error.retry_after if error.retry_after is not None else wait
            log.warning("%s; polling again in %.0f s", error, pause)
        except Exception:
            pause = wait
            log.exception("a round of polling failed; polling again in %.0f s", pause)
        else:
            handled += handled_now
            wait = first_wait
            continue
        wait = min(wait * 2, longest_wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
    return handled


async def poll_once(client: httpx.AsyncClient, context: ServiceContext) -> int:
    """One round of polling without waiting (`telegram poll --once`, from cron), then its
    updates confirmed; returns how many messages were handled. Telegram forgets an update
    only when a later getUpdates asks from past it: unconfirmed, each run would read the
    same updates again, and after 100 of them nothing new."""
    handled, offset = await _poll_round(client, context, 0, wait_seconds=0)
    if offset > 0:
        confirm = {"offset": offset, "timeout": 0, "limit": 1}
        try:
            await _bot_request(client, context.settings, "getUpdates", confirm)
        except BotApiError as error:  # the next run reads them again: nothing happens twice
            log.warning("the updates handled were not confirmed: %s", error)
    return handled


async def _poll_round(
    client: httpx.AsyncClient, context: ServiceContext, offset: int, *, wait_seconds: int
) -> tuple[int, int]:
    """One getUpdates call; each update goes the webhook's way. Returns (handled, next offset)."""
    params = {
        "offset": offset,
        "timeout": wait_seconds,
        "allowed_updates": ["message", "callback_query"],
    }
    updates = await _bot_request(client, context.settings, "getUpdates", params)
    handled = 0
    for update in updates if isinstance(updates, list) else []:
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int):
            offset = max(offset, update_id + 1)
        try:
            parsed = telegram.parse(update)
        except ValueError as error:
            log.warning("skipping a malformed update: %s", error)
            continue
        try:
            handled += len(await dispatch(context, Channel.TELEGRAM, parsed))
        except Exception as error:
            if is_transient(error):  # the round fails; this update comes again
                raise
            log.exception("update %s failed and is passed over (see above)", update_id)
    return handled, offset


@click.group("viber")
def viber_group() -> None:
    """The Viber bot."""


@viber_group.command("set-webhook")
@click.argument("url")
def viber_set_webhook(url: str) -> None:
    """Point the Viber bot at URL (…/webhooks/viber) for the events the service handles."""
    settings = load_settings()
    if not settings.viber_auth_token:
        fail("POKAZNYK_VIBER_AUTH_TOKEN is not set")
    _check_webhook_url(url, "Viber", "/webhooks/viber")

    async def go() -> None:
        endpoint = f"{settings.viber_api_base.rstrip('/')}/set_webhook"
        headers = {"X-Viber-Auth-Token": settings.viber_auth_token}
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(
                    endpoint, json=viber.set_webhook_request(url), headers=headers
                )
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            fail(f"Viber API did not answer set_webhook: {_what_failed(error)}")
        if not isinstance(data, dict) or data.get("status") != 0:
            detail = data.get("status_message") if isinstance(data, dict) else None
            fail(f"Viber refused set_webhook: {detail or f'HTTP {response.status_code}'}")

    run(go())
    click.echo(f"Viber webhook set to {url}")


@click.group("messenger")
def messenger_group() -> None:
    """The Messenger page."""


@messenger_group.command("set-profile")
def messenger_set_profile() -> None:
    """Set the page's Get Started button, welcome text and persistent menu."""
    settings = load_settings()
    if not settings.messenger_page_token:
        fail("POKAZNYK_MESSENGER_PAGE_TOKEN is not set")

    async def go() -> None:
        base = settings.graph_api_base.rstrip("/")
        endpoint = f"{base}/{settings.graph_api_version}/me/messenger_profile"
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(
                    endpoint,
                    json=messenger.profile_request(),
                    params={"access_token": settings.messenger_page_token},
                )
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            fail(f"Graph API did not answer messenger_profile: {_what_failed(error)}")
        if not isinstance(data, dict) or data.get("result") != "success":
            refusal = data.get("error") if isinstance(data, dict) else None
            detail = refusal.get("message") if isinstance(refusal, dict) else None
            fail(f"Graph API refused messenger_profile: {detail or f'HTTP {response.status_code}'}")

    run(go())
    click.echo("Messenger profile set: Get Started, the welcome text and the menu")


COMMANDS = (worker, remind, telegram_group, viber_group, messenger_group)
"""The commands this module adds to `pokaznyk`."""
