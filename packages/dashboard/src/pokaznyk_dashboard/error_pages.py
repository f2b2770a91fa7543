"""What a visitor's browser gets when a customer page cannot answer: a page in their
language saying what happened and what to do, instead of Litestar's JSON.

A form refused by the CSRF check (its token expired, or the browser kept no cookie), a
page that only answers a posted form opened from a bookmark or by reloading it, an
address that does not exist and a form too large each get one. The machines' paths (the
webhooks, the phone line, the API, the schema) keep Litestar's own answers, which the
platforms and the field app read.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.exceptions.responses import create_exception_response
from litestar.types import ExceptionHandlersMap

from pokaznyk_dashboard.web import MACHINE_PATHS, page

_MACHINE = re.compile("|".join(MACHINE_PATHS))

_KINDS = {
    PermissionDeniedException.status_code: "expired",
    NotFoundException.status_code: "not_found",
    MethodNotAllowedException.status_code: "not_allowed",
    RequestEntityTooLarge.status_code: "too_large",
}
"""The page for each refusal, by status: its words are the catalogue's
``web.error.<kind>.title`` and ``web.error.<kind>.text``."""


def error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The page saying what happened, with the way on, under the refusal's own status
    (and headers, such as a 405's ``Allow``); a machine's path gets Litestar's JSON."""
    kind = _KINDS.get(exc.status_code)
    path = request.url.path
    if kind is None or _MACHINE.match(path):
        return create_exception_response(request, exc)
    cabinet = path == "/cabinet" or path.startswith("/cabinet/")
    if kind == "not_found" and cabinet:
        response = page(request, "cabinet/not_found.html", {"area": "cabinet"}, status_code=404)
    else:
        restart = "/cabinet" if cabinet else "/submit"
        links = [("/submit", "web.nav.submit"), ("/cabinet", "web.nav.cabinet")]
        context = {
            "area": "cabinet" if cabinet else "public",
            "kind": kind,
            "links": links if kind == "not_found" else [(restart, "web.error.start_again")],
        }
        response = page(request, "error.html", context, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response


ERROR_PAGES: ExceptionHandlersMap = {
    PermissionDeniedException: error_page,
    NotFoundException: error_page,
    MethodNotAllowedException: error_page,
    RequestEntityTooLarge: error_page,
}
"""The app's answers to these refusals; an area's own handlers come first."""
