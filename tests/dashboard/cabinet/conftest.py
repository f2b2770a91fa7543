"""Cabinet tests reuse the public visitor; the demo-mode app prints sign-in links."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.dashboard.public.conftest import Visitor, visitor

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.engine import Database
from pokaznyk_dashboard.app import create_app

__all__ = ["demo_visitor", "visitor"]


@pytest.fixture
async def demo_visitor(context: ServiceContext, database: Database) -> AsyncIterator[Visitor]:
    """A visitor of the app in demo mode (one-time sign-in links go to the log)."""
    demo = dataclasses.replace(context, settings=dataclasses.replace(context.settings, demo=True))
    app = create_app(demo, database=database)
    transport = httpx.ASGITransport(app=app, client=("10.250.0.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Visitor(client)
