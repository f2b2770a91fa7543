"""The public web form at /submit: a reading without registration, and the status of a
receipt number."""

from __future__ import annotations

from typing import Any

from pokaznyk_dashboard.public.controller import (
    submit_check,
    submit_confirm,
    submit_photo,
    submit_send,
    submit_start,
    submit_verify,
)
from pokaznyk_dashboard.public.receipt import submit_receipt, submit_receipt_lookup


def routes() -> list[Any]:
    """The route handlers of this area."""
    return [
        submit_start,
        submit_verify,
        submit_check,
        submit_confirm,
        submit_send,
        submit_photo,
        submit_receipt,
        submit_receipt_lookup,
    ]
