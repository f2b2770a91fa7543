"""The HTML side of the app, configured once: Jinja templates with the catalogue's words,
htmx, CSRF, server-side sessions, static files, the visitor's language and the headers
that keep the pages from being framed by another site.

`web_plugins(settings)` is all `create_app` needs; the pages use `page()` to answer in the
visitor's language (``?lang=en`` switches and is remembered in a cookie).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.plugins import InitPluginProtocol
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from pokaznyk_core.domain.accounts import MAX_ACCOUNT_ENTRY_LENGTH, MAX_SURNAME_LENGTH
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.window import Period
from pokaznyk_core.i18n import format_day, normalize_locale, render, translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Refusal
from pokaznyk_core.settings import Settings
from pokaznyk_dashboard.auth.sessions import DatabaseSessionConfig, DatabaseSessionStore

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LANG_COOKIE = "lang"
SESSION_COOKIE = "pokaznyk_session"
MACHINE_PATHS = ["^/webhooks/", "^/ivr/", "^/api/", "^/healthz$", "^/schema", "^/static/"]
"""Paths called by machines (signed by their own means): no CSRF and no session."""
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
"""Sent with every response: no other site may show our pages in a frame (and trick a
customer into clicking through them), and no answer is read as another type than it says."""


@dataclass(frozen=True)
class WebConfig:
    """What the pages share: the key that signs form tokens, and demo mode."""

    secret: str
    demo: bool


ContextDep = NamedDependency[ServiceContext]
"""A handler parameter ``context``: the app's service context."""
WebDep = NamedDependency[WebConfig]
"""A handler parameter ``web``: the web configuration."""


def _locale(context: Context) -> str:
    return str(context.get("locale", "uk"))


@pass_context
def _t(context: Context, key: str, **params: Any) -> str:
    return translate(key, _locale(context), **params)


@pass_context
def _problem(context: Context, problem: Problem | Refusal) -> str:
    if isinstance(problem, Refusal):
        return translate(problem.key, _locale(context), **problem.params)
    return render(problem, _locale(context))


@pass_context
def _date(context: Context, day: date | None) -> str:
    if day is None:
        return ""
    return format_day(day, _locale(context))


@pass_context
def _short_date(context: Context, day: date | None) -> str:
    if day is None:
        return ""
    return format_day(day, _locale(context), "dd.MM.yyyy")


@pass_context
def _period(context: Context, period: Period | str) -> str:
    parsed = Period.parse(period) if isinstance(period, str) else period
    if not isinstance(parsed, Period):
        return str(period)
    return format_day(parsed.first_day, _locale(context), "LLLL yyyy")


@pass_context
def _value(context: Context, text: str) -> str:
    return text.replace(".", ",") if _locale(context) == "uk" else text


def _register_globals(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.globals.update(
        t=_t,
        problem=_problem,
        fmt_date=_date,
        fmt_short_date=_short_date,
        fmt_period=_period,
        fmt_value=_value,
        max_account_entry=MAX_ACCOUNT_ENTRY_LENGTH,
        max_surname=MAX_SURNAME_LENGTH,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def request_locale(request: Request[Any, Any, Any]) -> str:
    """The visitor's language: ``?lang=`` first, then the cookie, then Ukrainian."""
    return normalize_locale(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def page(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """A page or fragment in the visitor's language; a ``?lang=`` choice is remembered."""
    locale = request_locale(request)
    cookies = []
    if "lang" in request.query_params:
        cookies.append(
            Cookie(
                key=LANG_COOKIE, value=locale, max_age=365 * 86400, samesite="lax", httponly=True
            )
        )
    here = (
        request.url.path
        if request.method == "GET"
        else "/" + request.url.path.strip("/").split("/")[0]
    )
    return Template(
        template_name=template,
        context={"locale": locale, "lang_path": here, **(context or {})},
        cookies=cookies,
        status_code=status_code,
        headers=dict(headers or {}),
    )


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Put `SECURITY_HEADERS` on a response that does not set them itself, whatever
    answered it (a handler, an error, the static files)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)


class WebPlugin(InitPluginProtocol):
    """Templates, CSRF, server-side sessions in the database, static files and the
    security headers."""

    def __init__(self, settings: Settings) -> None:
        # An empty key gets a random one per process: fine for a demo with one worker only.
        self.secure = settings.public_url.startswith("https://")
        self.config = WebConfig(
            secret=settings.secret_key or secrets.token_hex(32), demo=settings.demo
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the web configuration to the app being built."""
        app_config.template_config = TemplateConfig(
            directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_register_globals
        )
        app_config.csrf_config = CSRFConfig(
            secret=self.config.secret,
            cookie_httponly=True,
            cookie_secure=self.secure,
            cookie_samesite="lax",
            exclude=list(MACHINE_PATHS),
        )
        sessions = DatabaseSessionConfig(
            key=SESSION_COOKIE,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            max_age=14 * 86400,
            store="sessions",
            exclude=list(MACHINE_PATHS),
        )
        app_config.middleware.append(sessions.middleware)
        stores = (
            dict(app_config.stores or {}) if isinstance(app_config.stores, dict | None) else None
        )
        if stores is not None:
            stores["sessions"] = DatabaseSessionStore()
            app_config.stores = stores
        app_config.route_handlers.append(
            create_static_files_router(path="/static", directories=[STATIC], name="static")
        )
        app_config.before_send.append(add_security_headers)
        config = self.config
        app_config.dependencies["web"] = Provide(lambda: config, sync_to_thread=False)
        return app_config


def web_plugins(settings: Settings) -> list[InitPluginProtocol]:
    """The plugins `create_app` adds for the HTML pages."""
    return [HTMXPlugin(), WebPlugin(settings)]
