"""The app as a whole: health and the front door."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.dashboard.webhooks.conftest import client_for

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import Database


@pytest.fixture
async def web(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    context = ServiceContext(
        settings=Settings(database_url=database.url, extra={"outbox_in_serve": "0"})
    )
    async for client in client_for(context, database):
        yield client


async def test_health_answers_200_when_the_database_answers(web: httpx.AsyncClient) -> None:
    response = await web.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_the_front_door_leads_to_the_reading_form(web: httpx.AsyncClient) -> None:
    response = await web.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/submit"
    form = await web.get("/submit")
    assert form.status_code == 200 and "<form" in form.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/submit"),
        ("GET", "/cabinet/sign-in"),
        ("GET", "/cabinet/register"),
        ("GET", "/cabinet"),
        ("GET", "/no-such-page"),
        ("POST", "/submit"),
        ("GET", "/static/css/site.css"),
        ("GET", "/healthz"),
    ],
)
async def test_no_answer_may_be_framed_by_another_site_or_read_as_another_type(
    web: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await web.request(method, path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
