"""`pokaznyk serve`: the web service under uvicorn."""

from __future__ import annotations

import os
import secrets
import signal
import socket

import click
import uvicorn
from uvicorn.supervisors import Multiprocess

from pokaznyk_core.cli.runner import fail, load_settings, run
from pokaznyk_core.storage.engine import open_database


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--demo", is_flag=True, hidden=True, help="Demo mode (sign-in links in the log).")
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Serve webhooks, the phone line, the web form, the cabinet, the dashboard and the API."""
    settings = load_settings()

    async def check() -> None:
        database = await open_database(settings.database_url)
        await database.close()

    run(check())  # a missing or old database is one clear line, not a traceback per worker
    if demo:
        os.environ["POKAZNYK_DEMO"] = "1"
    if not settings.secret_key:
        # Every worker must sign and check sessions and CSRF tokens with the same key.
        os.environ["POKAZNYK_SECRET_KEY"] = secrets.token_urlsafe(32)
        click.echo(
            "warning: POKAZNYK_SECRET_KEY is not set: using a random key, so sessions end "
            "when the service restarts",
            err=True,
        )
    base = f"http://{host}:{port}"
    click.echo(f"serving on {base}  (health: {base}/healthz)")
    try:
        run_uvicorn("pokaznyk_dashboard.app:create_app_from_env", host, port, workers, factory=True)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error}")


def run_uvicorn(app: str, host: str, port: int, workers: int, *, factory: bool = False) -> None:
    """Serve an ASGI app by import string under uvicorn, in one or several processes."""
    config = uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # One log line per request cost ~1% of a worker's time under load (measured):
        # requests are in the database already; errors are still logged.
        access_log=False,
        proxy_headers=True,
    )
    if workers == 1:
        # uvicorn hands the SIGTERM it stopped on to the handler that was there before it,
        # which would end the process with 143 after a clean stop: a stop asked for is a
        # success (0), as for `pokaznyk worker` and for several workers.
        previous = signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            uvicorn.Server(config).run()
        finally:
            signal.signal(signal.SIGTERM, previous)
        return
    listener = config.bind_socket()
    # Worker processes rebuild the shared socket without its protocol number, so asyncio
    # does not set TCP_NODELAY on their connections; every response then waited ~40 ms
    # for a delayed ACK (measured). Accepted sockets inherit the option from here.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[listener]).run()
