"""Server-side sessions in our own database (`web_session`), so any process can serve
the next request of a session; the browser holds only an opaque HttpOnly cookie."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from pokaznyk_core.storage.tables import WebSession
from pokaznyk_core.storage.transactions import write_transaction

DEFAULT_LIFETIME = timedelta(days=14)
ROTATE = "pokaznyk_rotate_session"
"""A request state flag: give the session a new id (set on sign-in, against fixation)."""


def _now() -> datetime:
    return datetime.now(UTC)


SWEEP_SHARE = 0.02
"""The share of session writes that also delete expired sessions."""


def _delta(expires_in: int | timedelta | None) -> timedelta:
    if expires_in is None:
        return DEFAULT_LIFETIME
    if isinstance(expires_in, timedelta):
        return expires_in
    return timedelta(seconds=expires_in)


class DatabaseSessionStore(Store):
    """A Litestar ``Store`` over the ``web_session`` table (SQLite or PostgreSQL)."""

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        """Store ``value`` under ``key`` until it expires (replacing an earlier value)."""
        raw = value.encode() if isinstance(value, str) else value
        data = base64.b64encode(raw).decode("ascii")
        now = _now()
        async with write_transaction():
            if random.random() < SWEEP_SHARE:  # expired sessions go now and then, not per request
                await WebSession.delete().where(WebSession.expires_at < now)
            await WebSession.insert(
                WebSession(key=key[:100], data=data, expires_at=now + _delta(expires_in))
            ).on_conflict(
                target=WebSession.key,
                action="DO UPDATE",
                values=[WebSession.data, WebSession.expires_at],
            )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """The value under ``key`` unless it expired; ``renew_for`` extends its life."""
        row = (
            await WebSession.select(WebSession.data, WebSession.expires_at)
            .where(WebSession.key == key[:100])
            .first()
        )
        now = _now()
        if row is None or row["expires_at"] <= now:
            return None
        if renew_for is not None:
            async with write_transaction():
                await WebSession.update({WebSession.expires_at: now + _delta(renew_for)}).where(
                    WebSession.key == key[:100]
                )
        return base64.b64decode(row["data"])

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no-op when absent)."""
        async with write_transaction():
            await WebSession.delete().where(WebSession.key == key[:100])

    async def delete_all(self) -> None:
        """Forget every session."""
        await WebSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an unexpired value."""
        return bool(
            await WebSession.exists().where(
                (WebSession.key == key[:100]) & (WebSession.expires_at > _now())
            )
        )

    async def expires_in(self, key: str) -> int | None:
        """Seconds until ``key`` expires, or None when absent."""
        row = (
            await WebSession.select(WebSession.expires_at)
            .where(WebSession.key == key[:100])
            .first()
        )
        if row is None:
            return None
        return max(0, int((row["expires_at"] - _now()).total_seconds()))


class LazySessionBackend(ServerSideSessionBackend):
    """Writes a session only once it holds something: an anonymous visitor of /submit
    costs no database write and gets no session cookie."""

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        """Store (or forget) the session, unless it is empty and was never stored."""
        if (
            isinstance(scope_session, dict)
            and not scope_session
            and self.config.key not in connection.cookies
        ):
            return
        if not (isinstance(scope_session, dict) and scope_session and connection.state.get(ROTATE)):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old = connection.cookies.get(self.config.key)
        if old:
            await self.delete(old, store=store)
        session_id = self.generate_session_id()
        data = self.serialize_data(scope_session, connection.scope)
        await self.set(session_id=session_id, data=data, store=store)
        params = extract_dataclass_items(
            self.config, exclude_none=True, include=Cookie.__dict__.keys()
        )
        cookie = Cookie(value=session_id, key=self.config.key, **dict(params))
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


@dataclass
class DatabaseSessionConfig(ServerSideSessionConfig):
    """Server-side sessions kept in the ``web_session`` table, written lazily."""

    _backend_class = LazySessionBackend
