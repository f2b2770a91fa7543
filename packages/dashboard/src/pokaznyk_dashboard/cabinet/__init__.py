"""The customer's online account at /cabinet."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from pokaznyk_dashboard.auth.customer import SignInRequired, provide_customer
from pokaznyk_dashboard.cabinet.entry import ENTRY_ROUTES
from pokaznyk_dashboard.cabinet.pages import PAGE_ROUTES
from pokaznyk_dashboard.cabinet.readings import READING_ROUTES
from pokaznyk_dashboard.web import page


def _to_sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    return Redirect(path="/cabinet/sign-in", status_code=303)


def _not_found(request: Request[Any, Any, Any], _: NotFoundException) -> Template:
    return page(request, "cabinet/not_found.html", {"area": "cabinet"}, status_code=404)


def routes() -> list[Any]:
    """The cabinet: one router, every page behind the signed-in customer's session."""
    return [
        Router(
            path="/cabinet",
            route_handlers=[*ENTRY_ROUTES, *PAGE_ROUTES, *READING_ROUTES],
            dependencies={"customer": Provide(provide_customer, sync_to_thread=False)},
            exception_handlers={SignInRequired: _to_sign_in, NotFoundException: _not_found},
        )
    ]
