"""The persistent outbox: replies and reminders sent through the platforms' HTTP APIs.

`send_due` sends what is due once; `run_worker` loops until stopped (the `pokaznyk
worker` command, and a task inside `pokaznyk serve`); `send_reminders` queues the
reminders of an open submission window.
"""

from __future__ import annotations

from pokaznyk_core.outbox.reminders import send_reminders
from pokaznyk_core.outbox.sender import MAX_ATTEMPTS, run_worker, send_due

__all__ = ["MAX_ATTEMPTS", "run_worker", "send_due", "send_reminders"]
