"""The real app on the test database, driven over ASGI like a browser with cookies."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.engine import Database
from pokaznyk_dashboard.app import create_app

_addresses = itertools.count(1)


class Visitor:
    """One browser: its own cookies and client address; forms carry the CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf(self) -> str:
        if "csrftoken" not in self.client.cookies:
            await self.client.get("/submit")
        return str(self.client.cookies["csrftoken"])

    async def post(
        self, path: str, data: dict[str, str], *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = {"_csrf_token": await self.csrf(), **data} if csrf else data
        return await self.client.post(path, data=form, **kwargs)


def hidden(html: str, name: str) -> str:
    """The value of a hidden field in a page."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name!r} in the page"
    return match.group(1)


def field_error(html: str, name: str) -> str:
    """The text of the error next to a field (empty when there is none)."""
    match = re.search(
        rf'<p class="field-error" id="err-{re.escape(name)}"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error slot for {name!r}"
    return match.group(1).strip()


def unescape(text: str) -> str:
    return text.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


async def _fresh_visitor(context: ServiceContext, database: Database) -> AsyncIterator[Visitor]:
    app = create_app(context, database=database)
    n = next(_addresses)
    transport = httpx.ASGITransport(app=app, client=(f"10.{n // 250}.{n % 250}.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Visitor(client)


@pytest.fixture
async def visitor(context: ServiceContext, database: Database) -> AsyncIterator[Visitor]:
    """A fresh visitor from an address of its own (the attempt limits count per address)."""
    async for fresh in _fresh_visitor(context, database):
        yield fresh


@pytest.fixture
async def stranger(context: ServiceContext, database: Database) -> AsyncIterator[Visitor]:
    """Another visitor, from another address, with cookies of its own."""
    async for fresh in _fresh_visitor(context, database):
        yield fresh
