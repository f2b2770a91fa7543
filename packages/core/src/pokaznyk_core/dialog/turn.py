"""One turn of the dialog: what the engine answers, and what it knows while answering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pokaznyk_core.dialog.actions import Action
from pokaznyk_core.dialog.facts import AccountInfo, Facts, MeterInfo
from pokaznyk_core.dialog.messages import Reply
from pokaznyk_core.dialog.state import DialogState


@dataclass(frozen=True)
class Step:
    """The engine's answer: the new state, the replies to send, and at most one action
    the service must carry out (then call ``resume`` with its result)."""

    state: DialogState
    replies: tuple[Reply, ...] = ()
    action: Action | None = None

    def after(self, *replies: Reply) -> Step:
        """The same step with ``replies`` sent before its own."""
        return Step(self.state, (*replies, *self.replies), self.action)


@dataclass(frozen=True)
class Turn:
    """The facts of one turn and the customer's language."""

    facts: Facts
    locale: str
    now: datetime

    def accounts(self, state: DialogState) -> tuple[AccountInfo, ...]:
        """The accounts the customer may submit for: the guest account of an unverified
        phone caller, or the linked ones."""
        if state.guest_account_id is not None and self.facts.guest is not None:
            return (self.facts.guest,)
        return self.facts.accounts

    def account(self, state: DialogState) -> AccountInfo | None:
        """The account chosen in ``state``."""
        return self.facts.account(state.account_id)

    def meter(self, state: DialogState) -> MeterInfo | None:
        """The meter chosen in ``state``."""
        account = self.account(state)
        return account.meter(state.meter_id) if account is not None else None
