"""The signed-in cabinet customer, kept in the server-side session."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from pokaznyk_dashboard.auth.sessions import ROTATE

SESSION_KEY = "customer"

CustomerDep = NamedDependency[int]
"""A cabinet handler parameter ``customer``: the signed-in customer's id."""


class SignInRequired(NotAuthorizedException):
    """The page needs a signed-in customer; the cabinet answers with the sign-in page."""


def client_key(request: Request[Any, Any, Any]) -> str:
    """Who is trying, for the attempt limits: ``web:<client address>``."""
    host = request.client.host if request.client else "unknown"
    return f"web:{host}"


def session_customer(request: Request[Any, Any, Any]) -> int | None:
    """The customer id in the session, or None."""
    session = request.scope.get("session")
    if not isinstance(session, dict):
        return None
    value = session.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def start_session(request: Request[Any, Any, Any], customer_id: int) -> None:
    """Sign the customer in: a fresh session holding only their id."""
    request.clear_session()
    request.set_session({SESSION_KEY: customer_id})
    request.state[ROTATE] = True


def end_session(request: Request[Any, Any, Any]) -> None:
    """Sign out."""
    request.clear_session()


def provide_customer(request: Request[Any, Any, Any]) -> int:
    """Dependency of cabinet pages: the signed-in customer's id, or sign-in is required."""
    customer_id = session_customer(request)
    if customer_id is None:
        raise SignInRequired()
    return customer_id
