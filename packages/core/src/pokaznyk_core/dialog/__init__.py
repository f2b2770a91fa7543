"""The one dialog of every conversational channel, defined once and free of I/O.

``step(state, incoming, facts, now)`` answers a message; when it needs the database it
returns an action, and the service calls ``resume(state, result, facts, now)`` with the
result. See :mod:`pokaznyk_core.services.conversation` for the service that runs it.
"""

from pokaznyk_core.dialog.actions import (
    Action,
    ActionResult,
    AttachPhoto,
    BillStatus,
    Done,
    Found,
    LatestReadings,
    LookupReceipt,
    ReceiptStatus,
    SetLanguage,
    SetReminders,
    SubmitReading,
    Submitted,
    Verified,
    VerifyCaller,
    VerifyHolder,
    VerifyPhone,
)
from pokaznyk_core.dialog.engine import IDLE_TIMEOUT, resume, step
from pokaznyk_core.dialog.entry import reading_id_for
from pokaznyk_core.dialog.facts import AccountInfo, Facts, MeterInfo
from pokaznyk_core.dialog.messages import Button, Incoming, IncomingKind, Reply
from pokaznyk_core.dialog.state import STATE_VERSION, DialogState, Purpose, Stage
from pokaznyk_core.dialog.turn import Step

__all__ = [
    "IDLE_TIMEOUT",
    "STATE_VERSION",
    "AccountInfo",
    "Action",
    "ActionResult",
    "AttachPhoto",
    "BillStatus",
    "Button",
    "DialogState",
    "Done",
    "Facts",
    "Found",
    "Incoming",
    "IncomingKind",
    "LatestReadings",
    "LookupReceipt",
    "MeterInfo",
    "Purpose",
    "ReceiptStatus",
    "Reply",
    "SetLanguage",
    "SetReminders",
    "Stage",
    "Step",
    "SubmitReading",
    "Submitted",
    "Verified",
    "VerifyCaller",
    "VerifyHolder",
    "VerifyPhone",
    "reading_id_for",
    "resume",
    "step",
]
