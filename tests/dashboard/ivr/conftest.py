"""The real app with the phone line configured (Twilio's auth token, the public URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.dashboard.ivr.calls import PUBLIC, TOKEN
from tests.dashboard.webhooks.conftest import client_for

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database
from pokaznyk_core.testing import FixedClock


@pytest.fixture
def phone_context(database: Database, clock: FixedClock) -> ServiceContext:
    """The phone line signed with TOKEN at PUBLIC; the outbox worker off."""
    settings = Settings(
        database_url=database.url,
        twilio_auth_token=TOKEN,
        public_url=PUBLIC,
        extra={"outbox_in_serve": "0"},
    )
    return ServiceContext(settings=settings, clock=clock)


@pytest.fixture
async def phone(
    phone_context: ServiceContext, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with the phone line configured."""
    async for client in client_for(phone_context, database):
        yield client
