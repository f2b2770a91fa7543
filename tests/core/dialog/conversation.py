"""A conversation driven through the pure engine, with hand-made facts and answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pokaznyk_core.dialog import (
    AccountInfo,
    Action,
    ActionResult,
    DialogState,
    Done,
    Facts,
    Incoming,
    IncomingKind,
    MeterInfo,
    Reply,
    Stage,
    resume,
    step,
)
from pokaznyk_core.domain.meters import MeterSpec
from pokaznyk_core.domain.zones import zones_for

NOW = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
TODAY = date(2026, 10, 30)
USER = "telegram:42"


def meter(
    meter_id: int = 7,
    last: tuple[str, ...] = ("1000.0",),
    *,
    taken_on: date = date(2026, 9, 30),
    serial: str = "SN-001",
    digits: int = 6,
    decimals: int = 1,
) -> MeterInfo:
    zones = zones_for(len(last))
    return MeterInfo(
        meter_id=meter_id,
        serial=serial,
        eic="62Z0000000000017",
        spec=MeterSpec(digits, decimals, len(last)),
        installed_on=date(2024, 1, 10),
        last_values={z: Decimal(v) for z, v in zip(zones, last, strict=True)},
        last_taken_on=taken_on,
    )


def account(
    account_id: int = 1, *meters: MeterInfo, number: str = "0123456789", verified: bool = True
) -> AccountInfo:
    return AccountInfo(
        account_id=account_id,
        number=number,
        address="м. Краматорськ, вул. Шевченка, буд. 5",
        meters=meters or (meter(),),
        verified=verified,
    )


def facts(*accounts: AccountInfo, **changes: object) -> Facts:
    return replace(Facts(user_key=USER, today=TODAY, accounts=accounts), **changes)  # type: ignore[arg-type]


def text(value: str) -> Incoming:
    return Incoming(IncomingKind.TEXT, text=value)


def tap(payload: str) -> Incoming:
    return Incoming(IncomingKind.BUTTON, payload=payload)


Answer = Callable[[Action, "Chat"], ActionResult]


@dataclass
class Chat:
    """One customer talking to the engine; ``answer`` plays the service."""

    facts: Facts
    answer: Answer = field(default=lambda action, chat: Done())
    state: DialogState = field(default_factory=DialogState)
    now: datetime = NOW
    actions: list[Action] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    def send(self, incoming: Incoming | str) -> list[Reply]:
        message = text(incoming) if isinstance(incoming, str) else incoming
        out = step(self.state, message, self.facts, self.now)
        replies = list(out.replies)
        for _ in range(5):
            if out.action is None:
                break
            self.actions.append(out.action)
            out = resume(out.state, self.answer(out.action, self), self.facts, self.now)
            replies += out.replies
        self.state = out.state
        for reply in replies:
            for row in reply.buttons:
                for button in row:
                    assert len(button.payload.encode()) <= 64
        self.replies = replies
        return replies

    def stage(self) -> Stage:
        return self.state.stage

    def wait(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @property
    def said(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def payloads(self) -> list[str]:
        return [b.payload for r in self.replies for row in r.buttons for b in row]

    @property
    def last_action(self) -> Action | None:
        return self.actions[-1] if self.actions else None
