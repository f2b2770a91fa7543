"""The persistent outbox: replies and reminders sent through the platforms' HTTP APIs.

`send_due` sends what is due once (`send_due_once` under the sender's lease, for a
command that runs once); `run_worker` sends until stopped, to many chats side by side (the
`pokaznyk worker` command, and a task inside `pokaznyk serve`); `send_reminders` queues the
reminders of an open submission window; `fetch_chat_photos` downloads the photos sent in
chats (stored first as the platform's reference), which the worker does every round.
"""

from __future__ import annotations

from pokaznyk_core.outbox.evidence_fetch import PhotoFetchRound, fetch_chat_photos
from pokaznyk_core.outbox.reminders import send_reminders
from pokaznyk_core.outbox.sender import MAX_ATTEMPTS, RETRY_FOR, send_due, send_due_once
from pokaznyk_core.outbox.worker import run_worker

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_FOR",
    "PhotoFetchRound",
    "fetch_chat_photos",
    "run_worker",
    "send_due",
    "send_due_once",
    "send_reminders",
]
