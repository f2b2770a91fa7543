"""A refusal on a customer page is a page in the visitor's language saying what to do; the
machines' paths keep Litestar's JSON, which the platforms and the field app read."""

from __future__ import annotations

import re

import pytest
from tests.dashboard.public.conftest import Visitor, unescape, visitor

from pokaznyk_core.i18n import translate
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.testing import make_meter_fixture

__all__ = ["visitor"]


def links(html: str) -> list[str]:
    """Where the page's own links lead (the content, not the header's menu)."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.findall(r'<a class="(?:primary|secondary)" href="([^"]+)"', main)


def says(response_text: str, kind: str, locale: str) -> bool:
    text = unescape(response_text)
    return all(translate(f"web.error.{kind}.{part}", locale) in text for part in ("title", "text"))


async def test_a_form_refused_by_the_csrf_check_says_it_expired_and_leads_back_to_the_form(
    visitor: Visitor, context: ServiceContext
) -> None:
    meter = await make_meter_fixture(context)
    typed = {"account": meter.account_number, "surname": meter.surname}
    no_cookie = await visitor.post("/submit", typed, csrf=False)
    assert no_cookie.status_code == 403
    assert no_cookie.headers["content-type"].startswith("text/html")
    assert says(no_cookie.text, "expired", "uk")
    assert links(no_cookie.text) == ["/submit"]
    await visitor.get("/submit?lang=en")
    forged = await visitor.post("/submit", {"_csrf_token": "0" * 64, **typed}, csrf=False)
    assert forged.status_code == 403
    assert says(forged.text, "expired", "en")
    again = await visitor.post("/submit", typed)
    assert 'name="token"' in again.text


async def test_a_cabinet_form_refused_by_the_csrf_check_leads_back_to_the_cabinet(
    visitor: Visitor,
) -> None:
    refused = await visitor.post("/cabinet/sign-in", {"phone": "+380671234567"}, csrf=False)
    assert refused.status_code == 403
    assert says(refused.text, "expired", "uk")
    assert links(refused.text) == ["/cabinet"]


async def test_a_photo_refused_by_the_csrf_check_gets_the_same_page(visitor: Visitor) -> None:
    refused = await visitor.post("/submit/photo", {"token": "x"}, csrf=False)
    assert refused.status_code == 403
    assert says(refused.text, "expired", "uk")


@pytest.mark.parametrize(
    ("path", "restart"),
    [
        ("/submit/send", "/submit"),
        ("/submit/confirm", "/submit"),
        ("/cabinet/accounts/0123456789/submit/send", "/cabinet"),
    ],
)
async def test_a_form_only_address_opened_from_a_bookmark_says_so_and_leads_back(
    visitor: Visitor, path: str, restart: str
) -> None:
    response = await visitor.get(f"{path}?lang=en")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert says(response.text, "not_allowed", "en")
    assert links(response.text) == [restart]


async def test_an_unknown_address_leads_to_the_form_and_the_cabinet(visitor: Visitor) -> None:
    response = await visitor.get("/no-such-page")
    assert response.status_code == 404
    assert says(response.text, "not_found", "uk")
    assert links(response.text) == ["/submit", "/cabinet"]
    english = await visitor.get("/submit/no-such-step?lang=en")
    assert english.status_code == 404 and says(english.text, "not_found", "en")
    in_cabinet = await visitor.get("/cabinet/no-such-page")
    assert in_cabinet.status_code == 404
    assert translate("web.cabinet.not_found", "en") in unescape(in_cabinet.text)


async def test_a_form_over_the_size_limit_gets_a_page(visitor: Visitor) -> None:
    response = await visitor.post("/submit", {"surname": "Ш" * 2_000_000})
    assert response.status_code == 413
    assert says(response.text, "too_large", "uk")
    assert links(response.text) == ["/submit"]


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/webhooks/telegram", 405, "Method Not Allowed"),
        ("POST", "/webhooks/no-such-platform", 404, "Not Found"),
        ("GET", "/ivr/voice", 405, "Method Not Allowed"),
        ("GET", "/ivr/no-such-step", 404, "Not Found"),
        ("GET", "/api/v1/no-such-thing", 404, "Not Found"),
    ],
)
async def test_the_machines_paths_keep_litestars_json(
    visitor: Visitor, method: str, path: str, status: int, detail: str
) -> None:
    response = await visitor.client.request(method, path)
    assert response.status_code == status
    assert response.json() == {"status_code": status, "detail": detail}
