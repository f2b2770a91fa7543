"""The main menu and what it offers besides submitting: status, window, contacts,
language and reminders."""

from __future__ import annotations

from datetime import date

from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.actions import (
    BillStatus,
    Found,
    LatestReadings,
    LookupReceipt,
    ReceiptStatus,
)
from pokaznyk_core.dialog.messages import Button, Reply
from pokaznyk_core.dialog.state import DialogState, Purpose, Stage
from pokaznyk_core.dialog.turn import Step, Turn
from pokaznyk_core.domain.receipts import spoken_receipt
from pokaznyk_core.domain.window import window_state

BILLS_SHOWN = 3
"""How many closed periods of each meter "my readings and bills" tells (short enough
for a phone screen and for the phone line to say)."""


def menu_reply(state: DialogState, turn: Turn, intro: str = "") -> Reply:
    """The main menu, after ``intro``."""
    loc = turn.locale
    if turn.facts.voice:
        # The company's phone line has always said "press 2 to submit readings": keep it.
        # Linking accounts and reminders belong to the chats, not to a call.
        voice_buttons = x.rows(
            x.button(loc, "readings_and_bills", x.MENU_STATUS),
            x.button(loc, "submit", x.MENU_SUBMIT),
            x.button(loc, "window", x.MENU_WINDOW),
            x.button(loc, "contacts", x.MENU_CONTACTS),
            x.button(loc, "language_voice", x.MENU_LANGUAGE),  # one language to a voice
        )
        return x.reply(loc, x.join(intro, x.t(loc, "menu")), voice_buttons, hint=x.CHOICE)
    buttons = [
        x.button(loc, "submit", x.MENU_SUBMIT),
        x.button(loc, "readings_and_bills", x.MENU_STATUS),
        x.button(loc, "link" if turn.facts.accounts else "link_first", x.MENU_LINK),
        x.button(loc, "window", x.MENU_WINDOW),
        x.button(loc, "contacts", x.MENU_CONTACTS),
        x.button(loc, "language", x.MENU_LANGUAGE),
    ]
    if turn.facts.accounts:  # reminders go to linked accounts only: offered once there is one
        on = turn.facts.reminders
        reminders = "reminders_off" if on else "reminders_on"
        buttons.append(
            x.button(loc, reminders, x.MENU_REMINDERS_OFF if on else x.MENU_REMINDERS_ON)
        )
    return x.reply(loc, x.join(intro, x.t(loc, "menu")), x.rows(*buttons), hint=x.CHOICE)


def reset(state: DialogState) -> DialogState:
    """The state at the menu, keeping only the language, the counter, a guest caller, the
    flagged reading a photo of the meter may still be sent for (until the next entry) and
    a verification cooldown."""
    return DialogState(
        stage=Stage.MENU,
        locale=state.locale,
        last_seen=state.last_seen,
        nonce=state.nonce,
        guest_account_id=state.guest_account_id,
        caller_verified=state.caller_verified,
        reading_id=state.reading_id,
        locked_until=state.locked_until,
    )


def menu_step(state: DialogState, turn: Turn, intro: str = "") -> Step:
    """Back to the menu, saying ``intro`` first."""
    menu_state = reset(state)
    return Step(menu_state, (menu_reply(menu_state, turn, intro),))


def at_start(state: DialogState) -> DialogState:
    """The conversation started again: at the menu, nothing chosen."""
    return reset(state).at(Stage.MENU, guest_account_id=None, caller_verified=False)


def greeting(state: DialogState, turn: Turn) -> Step:
    """The greeting and the menu: any first message, /start, a new call."""
    return menu_step(at_start(state), turn, x.t(turn.locale, "greeting"))


def window_step(state: DialogState, turn: Turn) -> Step:
    """When to submit, and the menu."""
    return menu_step(state, turn, window_text(turn))


def contacts_text(turn: Turn) -> str:
    """How to reach the company; a caller, who is on the phone line already, hears of the
    other channels instead, and no e-mail address spelled out."""
    return x.t(turn.locale, "contacts_voice" if turn.facts.voice else "contacts")


def window_text(turn: Turn) -> str:
    """When to submit: the window open now (until when), or when the next one opens."""
    loc = turn.locale
    ws = window_state(turn.facts.today, turn.facts.window)
    period = x.show_period(ws.period, loc)
    if ws.is_open:
        text = x.t(loc, "window_open", period=period, closes=x.show_date(ws.closes_on, loc))
    else:
        text = x.t(
            loc,
            "window_closed",
            period=period,
            opens=x.show_date(ws.opens_on, loc),
            closes=x.show_date(ws.closes_on, loc),
        )
    return text


def status_step(state: DialogState, turn: Turn, intro: str = "") -> Step:
    """My readings and bills: ask for a receipt code, or offer the latest readings and
    bills (on the phone, where a receipt code cannot be typed, the latest at once)."""
    if turn.facts.voice:
        return latest_step(reset(state).at(Stage.MENU, purpose=Purpose.STATUS), turn)
    loc = turn.locale
    next_state = reset(state).at(Stage.ASK_RECEIPT, purpose=Purpose.STATUS)
    buttons = ((x.button(loc, "latest_and_bills", x.LATEST),), x.nav(loc))
    text = x.join(intro, x.t(loc, "ask_receipt_or_bills"))
    return Step(next_state, (x.reply(loc, text, buttons, hint=x.CHOICE),))


def latest_step(state: DialogState, turn: Turn) -> Step:
    """The latest readings and bills of the linked accounts, or of a phone caller's
    account when the number is on it (verify first when there are none)."""
    accounts = [a for a in turn.accounts(state) if a.verified]
    if not accounts:
        from pokaznyk_core.dialog.verify import ask_account

        return ask_account(state, turn, Purpose.STATUS)
    ids = tuple(a.account_id for a in accounts)
    return Step(reset(state), (), LatestReadings(ids))


def lookup_step(state: DialogState, code: str) -> Step:
    """Look up a receipt code."""
    return Step(reset(state), (), LookupReceipt(code))


def on_found(state: DialogState, result: Found, turn: Turn) -> Step:
    """Tell the status of the readings found and, for the latest readings, the bills."""
    loc = turn.locale
    if result.bills is None and not result.readings:
        key = "no_readings" if state.purpose is Purpose.STATUS else "receipt_not_found"
        return menu_step(state, turn, x.t(loc, key))
    if result.bills is not None and not result.readings and not result.bills:
        return menu_step(state, turn, x.join(x.t(loc, "no_readings"), x.t(loc, "bills_none")))
    if result.bills is not None:
        parts = _latest_texts(result, turn)
    else:
        parts = [_status_text(r, loc) for r in result.readings]
    speech: tuple[str, ...] = ()
    if len(result.readings) == 1 and result.readings[0].receipt:
        speech = tuple(spoken_receipt(result.readings[0].receipt))
    menu_state = reset(state)
    said = x.reply(loc, x.join(*parts), speech=speech)
    return Step(menu_state, (said, menu_reply(menu_state, turn)))


def _latest_texts(result: Found, turn: Turn) -> list[str]:
    """The latest readings and the bills; for a customer with several accounts, under the
    number and address of each (a serial alone does not say which home it is)."""
    loc = turn.locale
    bills = result.bills or ()
    told = {r.account_id for r in result.readings} | {b.account_id for b in bills}
    accounts = [a for a in turn.facts.accounts if a.verified]
    if len(accounts) < 2 or not told <= {a.account_id for a in accounts}:
        readings = [_status_text(r, loc) for r in result.readings]
        return [*(readings or [x.t(loc, "no_readings")]), _bills_text(bills, loc)]
    parts = []
    for account in accounts:
        header = x.t(loc, "account_header", number=account.number, address=account.address)
        readings = [
            _status_text(r, loc) for r in result.readings if r.account_id == account.account_id
        ]
        own_bills = tuple(b for b in bills if b.account_id == account.account_id)
        none = [x.t(loc, "no_readings_account")]
        parts += [header, *(readings or none), _bills_text(own_bills, loc)]
    return parts


def _status_text(found: ReceiptStatus, loc: str) -> str:
    lines = [
        x.t(
            loc,
            "status_line",
            receipt=found.receipt,
            status=x.t(loc, f"status.{found.status}"),
            period=x.show_period(found.period, loc),
            date=x.show_date(date.fromisoformat(found.taken_on), loc),
        )
    ]
    if found.meter_serial:
        lines.insert(0, x.t(loc, "meter_header", serial=found.meter_serial))
    for zone, value in found.values.items():
        lines.append(
            x.t(loc, "confirm_zone", zone=x.zone_name(zone, loc), value=x.show_value(value, loc))
        )
    if not found.in_window:
        lines.append(x.t(loc, "status_off_window"))
    return "\n".join(lines)


def _bills_text(bills: tuple[BillStatus, ...], loc: str) -> str:
    """The last closed periods of each meter, newest first, and any reconciliation."""
    if not bills:
        return x.t(loc, "bills_none")
    serials = list(dict.fromkeys(b.meter_serial for b in bills))
    blocks = []
    for serial in serials:
        shown = [b for b in bills if b.meter_serial == serial][:BILLS_SHOWN]
        header = x.t(loc, "bills_meter", serial=serial) if len(serials) > 1 else x.t(loc, "bills")
        lines = [header, *(_bill_text(b, loc) for b in shown)]
        lines += [x.problem_text(b.notice, loc) for b in shown if b.notice is not None]
        blocks.append("\n".join(lines))
    return x.join(*blocks)


def _bill_text(bill: BillStatus, loc: str) -> str:
    period = x.show_period(bill.period, loc)
    if bill.kwh < 0:
        return x.t(loc, "bill_credit", period=period, kwh=x.show_value(-bill.kwh, loc))
    key = "bill_estimated" if bill.basis == "estimated" else "bill_actual"
    return x.t(loc, key, period=period, kwh=x.show_value(bill.kwh, loc))


def language_step(state: DialogState, turn: Turn, *, keep: bool = False) -> Step:
    """Offer the two languages; with `keep` (asked in the middle of a reading or a
    verification) the customer stays where they are, and a language chosen asks that
    question again in it."""
    loc = turn.locale
    languages = (
        (Button(label="Українська", payload=f"{x.LANG_PREFIX}uk"),),
        (Button(label="English", payload=f"{x.LANG_PREFIX}en"),),
    )
    # Kept in the middle of a reading, Back would step back a zone: Cancel only.
    cancel = (x.button(loc, "cancel", x.CANCEL),)
    buttons = (*languages, cancel) if keep else (*languages, x.nav(loc))
    next_state = state if keep else reset(state).at(Stage.LANGUAGE)
    return Step(next_state, (x.reply(loc, x.t(loc, "choose_language"), buttons, hint=x.CHOICE),))
