"""The dialog engine: ``step(state, incoming, facts, now)`` and ``resume(...)``, no I/O.

The engine asks, the service answers: a step may carry one action (verify, submit, look
up…); the service carries it out and calls :func:`resume` with the result, which may
ask again. Every word comes from the catalogue, in the customer's language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from pokaznyk_core.dialog import entry, menu, verify
from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.actions import (
    NOT_FLAGGED,
    TOO_MANY_PHOTOS,
    ActionResult,
    AttachPhoto,
    Done,
    Found,
    SetLanguage,
    SetReminders,
    Submitted,
    Verified,
)
from pokaznyk_core.dialog.facts import Facts
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply
from pokaznyk_core.dialog.state import DialogState, Purpose, Stage
from pokaznyk_core.dialog.turn import Step, Turn
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.readings import MAX_PHOTO_BYTES, MAX_PHOTOS_PER_READING
from pokaznyk_core.domain.receipts import RECEIPT_LENGTH, normalize_receipt, resembles_receipt
from pokaznyk_core.domain.values import ascii_int, plain_text
from pokaznyk_core.i18n import normalize_locale, translate

IDLE_TIMEOUT = timedelta(minutes=30)
"""A conversation silent this long starts again at the menu."""

_START = frozenset({"/start", "start", "почати", "старт"})
_CANCEL = frozenset({"cancel", "/cancel", "скасувати", "відміна", "відмінити", "стоп", "stop"})
_BACK = frozenset({"back", "/back", "назад"})
_MENU = frozenset({"menu", "/menu", "меню", "головне меню", "main menu"})
_GREETINGS = frozenset(
    {
        "привіт",
        "вітаю",
        "добрий день",
        "добрий вечір",
        "доброго дня",
        "здрастуйте",
        "hi",
        "hello",
        "hey",
        "good morning",
        "good afternoon",
        "доброго ранку",
        "добрий ранок",
    }
)
"""Said at the menu: greeted back with the menu (mid-submission they mean nothing)."""
_THANKS = frozenset({"дякую", "дуже дякую", "спасибі", "дякую вам", "thanks", "thank you", "thx"})
"""Said at the menu: "you are welcome", and the menu."""
_LANGUAGES = {
    "english": "en",
    "/en": "en",
    "англійська": "en",
    "en": "en",
    "українська": "uk",
    "ukrainian": "uk",
    "/uk": "uk",
    "uk": "uk",
    "укр": "uk",
}
_ENTRY_BUTTONS = frozenset({x.CONFIRM, x.REENTER, x.ZERO})
"""Buttons of a reading being entered, which mean nothing once it is sent."""
_MENU_PAYLOADS = frozenset(
    {
        x.MENU_SUBMIT,
        x.MENU_STATUS,
        x.MENU_LINK,
        x.MENU_WINDOW,
        x.MENU_CONTACTS,
        x.MENU_LANGUAGE,
        x.MENU_REMINDERS,
        x.MENU_REMINDERS_ON,
        x.MENU_REMINDERS_OFF,
        x.LATEST,
    }
)


_ENTERING = frozenset({Stage.CHOOSE_ACCOUNT, Stage.CHOOSE_METER, Stage.ENTER_ZONE, Stage.CONFIRM})
"""Where a reading is being entered for an account already linked."""


def _turn(state: DialogState, facts: Facts, now: datetime) -> Turn:
    return Turn(facts=facts, locale=normalize_locale(state.locale or facts.language), now=now)


def _command(incoming: Incoming) -> str:
    """The global command in a message ("cancel", "back", "menu", "start", "lang:en",
    a menu payload), or ""."""
    if incoming.kind is IncomingKind.START:
        return "start"
    if incoming.kind is IncomingKind.BUTTON:
        payload = incoming.payload
        if payload in (x.CANCEL, x.BACK, x.MENU) or payload in _MENU_PAYLOADS:
            return payload
        if payload.startswith((x.LANG_PREFIX, x.SUBMIT_FOR_PREFIX)):
            return payload
        return ""
    if incoming.kind is not IncomingKind.TEXT:
        return ""
    word = " ".join(incoming.text.split()).casefold()
    if word in _START:
        return "start"
    if word in _CANCEL:
        return x.CANCEL
    if word in _BACK:
        return x.BACK
    if word in _MENU:
        return x.MENU
    if word in _LANGUAGES and len(word) > 3:
        return x.LANG_PREFIX + _LANGUAGES[word]
    return ""


def step(state: DialogState, incoming: Incoming, facts: Facts, now: datetime) -> Step:
    """Answer one message: the new state, the replies and at most one action. Its text is
    read as `plain_text` (full-width or Arabic digits as digits, invisible marks gone)."""
    if not incoming.text.isascii():
        incoming = replace(incoming, text=plain_text(incoming.text))
    return _keyboard_put_away(state, _step(state, incoming, facts, now), facts)


def resume(state: DialogState, result: ActionResult, facts: Facts, now: datetime) -> Step:
    """Go on after the service carried out the last step's action."""
    return _keyboard_put_away(state, _resume(state, result, facts, now), facts)


_VERIFYING = (Stage.ASK_ACCOUNT, Stage.ASK_SURNAME)


def _keyboard_put_away(before: DialogState, after: Step, facts: Facts) -> Step:
    """Leaving the account or surname question (cancelled, a cooldown, the menu), a chat
    takes away the keyboard they showed (the share-phone, Back and Cancel buttons, which
    a platform keeps under later messages): on the first reply, or on its first paragraph
    sent apart when that reply has buttons of its own, or on a word sent before it."""
    leaving = (
        facts.phone_sharing
        and not facts.voice
        and before.stage in _VERIFYING
        and after.state.stage not in _VERIFYING
        and after.action is None
        and after.replies
        and not any(r.hide_keyboard or r.request_contact for r in after.replies)
    )
    if not leaving:
        return after
    first, *rest = after.replies
    if not any(first.buttons):
        return Step(after.state, (replace(first, hide_keyboard=True), *rest), after.action)
    intro, _, remainder = first.text.partition("\n\n")
    if not remainder:  # nothing to say apart ("menu" typed, Back): a word of its own
        okay = x.reply(first.locale, x.t(first.locale, "okay"), hide_keyboard=True)
        return Step(after.state, (okay, *after.replies), after.action)
    said = replace(first, text=intro, buttons=(), hide_keyboard=True, speech=(), input_hint="none")
    return Step(after.state, (said, replace(first, text=remainder), *rest), after.action)


def _step(state: DialogState, incoming: Incoming, facts: Facts, now: datetime) -> Step:
    if incoming.kind is IncomingKind.TEXT and (pressed := x.typed_button(incoming.text)):
        incoming = replace(incoming, kind=IncomingKind.BUTTON, payload=pressed, text="")
    seen = state.seen_at()
    fresh = state.stage is Stage.NEW
    state = replace(state, last_seen=now.isoformat())
    if fresh and not state.locale:
        state = replace(state, locale=normalize_locale(incoming.language_hint or facts.language))
    if incoming.language_chosen and incoming.language_hint:
        state = replace(state, locale=normalize_locale(incoming.language_hint))
    turn = _turn(state, facts, now)
    command = _command(incoming)
    if fresh and (
        command in _MENU_PAYLOADS or command.startswith((x.LANG_PREFIX, x.SUBMIT_FOR_PREFIX))
    ):
        # A first message that is a menu's choice (Telegram's /submit, Messenger's menu):
        # the greeting, then what was chosen.
        greeted = menu.at_start(state)
        chosen = command.removeprefix(x.LANG_PREFIX) if command.startswith(x.LANG_PREFIX) else ""
        locale = normalize_locale(chosen) if chosen else turn.locale  # greeted in the new one
        hello = x.reply(locale, x.t(locale, "greeting"))
        return _global(greeted, command, turn).after(hello)
    if fresh and not command and incoming.kind is IncomingKind.TEXT:
        # A first message that is an account number or a receipt code: the greeting, then
        # what the menu answers to it.
        answered = _at_menu(menu.at_start(state), incoming, turn)
        if answered is not None:
            return answered.after(x.reply(turn.locale, x.t(turn.locale, "greeting")))
    if fresh or command == "start":
        return menu.greeting(state, turn)
    expired = seen is not None and now - seen > IDLE_TIMEOUT
    idle = state.stage in (Stage.MENU, Stage.AWAIT_PHOTO) or expired
    if incoming.kind is IncomingKind.PHOTO_TOO_LARGE and state.reading_id and idle:
        too_large = translate("evidence.too_large", turn.locale, max_mb=MAX_PHOTO_BYTES >> 20)
        return Step(
            state, (x.reply(turn.locale, x.join(too_large, x.t(turn.locale, "photo_as_photo"))),)
        )
    if incoming.kind is IncomingKind.PHOTO and state.reading_id and idle:
        # The photo of the flagged reading's meter, however long going down to it took;
        # in the middle of another step (a meter or an account being chosen) it is not.
        return Step(
            state.at(Stage.AWAIT_PHOTO), (), AttachPhoto(UUID(state.reading_id), incoming.photo_ref)
        )
    if expired and state.stage is not Stage.MENU:
        note = x.t(turn.locale, "expired")
        state = menu.at_start(state)
        answered = None if command else _at_menu(state, incoming, turn)
        if answered is not None:  # an account number or a receipt code, as at the menu
            return answered.after(x.reply(turn.locale, note))
        if not command or command in (x.CANCEL, x.BACK, x.MENU):
            return menu.menu_step(state, turn, note)
        return _global(state, command, turn).after(x.reply(turn.locale, note))
    gone = state.stage in (Stage.ENTER_ZONE, Stage.CONFIRM) and turn.meter(state) is None
    if gone and command in ("", x.BACK):
        # The meter was replaced or the account closed while the values were typed.
        return menu.menu_step(state, turn, x.t(turn.locale, "meter_gone"))
    if command:
        return _global(state, command, turn)
    if incoming.kind is IncomingKind.CONTACT:
        if state.stage in _ENTERING and facts.accounts:
            # Telegram keeps its share-phone button on screen, and a Viber contact card is
            # one tap away: neither throws a reading in the middle away.
            return _again(state, turn, x.t(turn.locale, "contact_mid_entry"))
        if not facts.phone_sharing:  # a channel whose contact cannot be the sender's own
            return _again(state, turn, x.t(turn.locale, "contact_not_accepted"))
        return verify.on_contact(state, incoming, turn)
    if incoming.kind is IncomingKind.FOREIGN_CONTACT:
        return _again(state, turn, x.t(turn.locale, "contact_not_own"))
    if incoming.kind is IncomingKind.UNREADABLE:
        key = "photo_as_picture" if state.stage is Stage.AWAIT_PHOTO else "unreadable"
        return _again(state, turn, x.t(turn.locale, key))
    if incoming.kind is IncomingKind.EDITED:
        return _again(state, turn, x.t(turn.locale, "edited"))
    if incoming.kind is IncomingKind.TEXT and incoming.text.lstrip().startswith("/"):
        # A command this bot does not have (/help, /settings): never a surname or a value.
        return _again(state, turn, x.t(turn.locale, "not_understood"))
    if incoming.kind in (IncomingKind.PHOTO, IncomingKind.PHOTO_TOO_LARGE):
        key = "photo_mid_step" if state.reading_id else "photo_unexpected"
        if not state.reading_id and state.stage is Stage.ENTER_ZONE:
            key = "photo_for_value"  # a photo of the display sent for the value itself
        return _again(state, turn, x.t(turn.locale, key))
    answered = _by_stage(state, incoming, turn)
    if answered is not None:
        return answered
    finished = state.stage in (Stage.MENU, Stage.AWAIT_PHOTO) and state.nonce > 0
    if (incoming.payload in _ENTRY_BUTTONS or x.is_confirm(incoming.payload)) and finished:
        # A second tap of a reading's button after it was sent (or an old message's).
        return _again(state, turn, x.t(turn.locale, "button_finished"))
    if incoming.payload.startswith((x.ACCOUNT_PREFIX, x.METER_PREFIX)):
        # An account or meter button of an earlier question (or of an account unlinked).
        return _again(state, turn, x.t(turn.locale, "button_old"))
    return _again(state, turn, x.t(turn.locale, "not_understood"))


def _by_stage(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    stage = state.stage
    text = incoming.kind is IncomingKind.TEXT
    if stage is Stage.ASK_ACCOUNT and text:
        return verify.on_account(state, incoming, turn)
    if stage is Stage.ASK_SURNAME and text:
        return verify.on_surname(state, incoming, turn)
    if stage is Stage.CHOOSE_ACCOUNT:
        return entry.on_choose_account(state, incoming, turn)
    if stage is Stage.CHOOSE_METER:
        return entry.on_choose_meter(state, incoming, turn)
    if stage is Stage.ENTER_ZONE:
        return entry.on_zone(state, incoming, turn)
    if stage is Stage.CONFIRM:
        return entry.on_confirm(state, incoming, turn)
    if stage is Stage.ASK_RECEIPT and text:
        code = normalize_receipt(incoming.text)
        if code is not None:
            return menu.lookup_step(state.at(Stage.MENU, purpose=Purpose.SUBMIT), code)
        account = _at_menu(menu.reset(state), incoming, turn)  # an account number: verified
        if account is None and resembles_receipt(incoming.text):  # a code mistyped
            wrong = Problem(Code.RECEIPT_FORMAT, {"length": RECEIPT_LENGTH})
            return menu.status_step(state, turn, x.problem_text(wrong, turn.locale))
        return account
    if stage in (Stage.MENU, Stage.AWAIT_PHOTO, Stage.LANGUAGE) and text:
        words = " ".join(incoming.text.casefold().strip(" !.,)").split())
        if words in _GREETINGS:
            return menu.greeting(state, turn)
        if words in _THANKS:
            return menu.menu_step(state, turn, x.t(turn.locale, "thanks"))
        found = _at_menu(menu.reset(state), incoming, turn)
        if found is None and resembles_receipt(incoming.text):  # a code mistyped
            wrong = Problem(Code.RECEIPT_FORMAT, {"length": RECEIPT_LENGTH})
            return menu.menu_step(state, turn, x.problem_text(wrong, turn.locale))
        return found
    return None


def _at_menu(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    """Text at the menu: a receipt code (its status) or an account number (verify it)."""
    code = normalize_receipt(incoming.text)
    if code is not None:
        return menu.lookup_step(state, code)
    if verify.names_an_account(incoming.text, turn.facts.account_number_length):
        purpose = Purpose.LINK if turn.facts.accounts else Purpose.SUBMIT
        asking = state.at(Stage.ASK_ACCOUNT, purpose=purpose)
        return verify.on_account(asking, incoming, turn, asked=False)
    return None


def _global(state: DialogState, command: str, turn: Turn) -> Step:
    """A command from any step; a reading whose values were being typed, and which the
    command leaves behind (the menu's Submit, a reminder's button, "меню"), is said to be
    dropped, never silently."""
    said = _command_step(state, command, turn)
    typing = state.stage in (Stage.ENTER_ZONE, Stage.CONFIRM) and any(state.values)
    kept = said.state.stage in (Stage.ENTER_ZONE, Stage.CONFIRM) and said.state.nonce == state.nonce
    if not typing or kept or command in (x.CANCEL, x.BACK) or command.startswith(x.LANG_PREFIX):
        return said
    return said.after(x.reply(turn.locale, x.t(turn.locale, "entry_dropped")))


def _command_step(state: DialogState, command: str, turn: Turn) -> Step:
    loc = turn.locale
    if command == "start":
        return menu.greeting(state, turn)
    if command == x.CANCEL:
        return menu.menu_step(state, turn, x.t(loc, "cancelled"))
    if command == x.MENU:
        return menu.menu_step(state, turn)
    if command == x.BACK:
        return _back(state, turn)
    if command.startswith(x.LANG_PREFIX):
        chosen = normalize_locale(command[len(x.LANG_PREFIX) :])
        new_turn = Turn(turn.facts, chosen, turn.now)
        if _asks_again(state, turn):
            # "English" typed in the middle: the same question in the new language, the
            # values typed so far kept.
            said = _again(replace(state, locale=chosen), new_turn, x.t(chosen, "language_set"))
        else:
            switched = replace(menu.reset(state), locale=chosen)
            intro = x.t(chosen, "language_set")
            if state.stage in (Stage.ENTER_ZONE, Stage.CONFIRM):  # its meter is gone
                intro = x.join(intro, x.t(chosen, "meter_gone"))
            said = menu.menu_step(switched, new_turn, intro)
        return Step(said.state, said.replies, SetLanguage(chosen))
    if command.startswith(x.SUBMIT_FOR_PREFIX):  # a reminder's button: straight to its account
        named = ascii_int(command.removeprefix(x.SUBMIT_FOR_PREFIX))
        if state.account_id == named and _asks_again(state, turn) and state.stage in _ENTERING:
            # tapped while entering that account's reading: nothing typed is lost
            return _again(state, turn, x.t(loc, "reminder_going_on"))
        base = menu.reset(state)
        if any(a.account_id == named for a in turn.accounts(base)):
            return entry.start_submit(base.at(Stage.CHOOSE_ACCOUNT, account_id=named), turn)
        # unlinked or closed since: said, and the customer chooses from the menu
        return menu.menu_step(base, turn, x.t(loc, "reminded_account_gone"))
    if command == x.MENU_SUBMIT:
        base = menu.reset(state)
        if turn.facts.voice:  # a call names the account of each reading: a mistyped number
            # can be put right, and a second account named, within the call
            base = base.at(Stage.MENU, guest_account_id=None, caller_verified=False)
        if not turn.accounts(base):
            return verify.ask_account(base, turn, Purpose.SUBMIT)
        return entry.start_submit(base.at(Stage.CHOOSE_ACCOUNT, account_id=None), turn)
    if command == x.MENU_STATUS:
        return menu.status_step(state, turn)
    if command == x.LATEST:
        return menu.latest_step(menu.reset(state).at(Stage.MENU, purpose=Purpose.STATUS), turn)
    if command == x.MENU_LINK:
        return verify.ask_account(menu.reset(state), turn, Purpose.LINK)
    if command in (x.MENU_WINDOW, x.MENU_CONTACTS) and _asks_again(state, turn):
        # Asked in the middle of a reading (Messenger's menu is always there): told, and
        # the question asked again, nothing typed lost.
        info = menu.window_text(turn) if command == x.MENU_WINDOW else menu.contacts_text(turn)
        return _again(state, turn, info)
    if command == x.MENU_WINDOW:
        return menu.window_step(state, turn)
    if command == x.MENU_CONTACTS:
        return menu.menu_step(state, turn, menu.contacts_text(turn))
    if command == x.MENU_LANGUAGE:
        return menu.language_step(state, turn, keep=_asks_again(state, turn))
    # The reminders, switched as the button says: a second tap, or an earlier menu's
    # button, never does the opposite. (An earlier version's toggle switches them over.)
    enabled = {x.MENU_REMINDERS_ON: True, x.MENU_REMINDERS_OFF: False}.get(
        command, not turn.facts.reminders
    )
    toggled = Turn(replace(turn.facts, reminders=enabled), loc, turn.now)  # what the menu offers
    said = menu.menu_step(state, toggled, x.t(loc, "reminders_on" if enabled else "reminders_off"))
    return Step(said.state, said.replies, SetReminders(enabled))


def _back(state: DialogState, turn: Turn) -> Step:
    """One step back from where the conversation stands."""
    stage = state.stage
    account = turn.account(state)
    several_accounts = len(turn.accounts(state)) > 1
    if stage is Stage.ASK_SURNAME:
        return verify.ask_account(state, turn, state.purpose)
    if stage is Stage.CONFIRM:
        meter = turn.meter(state)
        if meter is not None:
            last = meter.spec.zone_count - 1
            values = tuple(v if i < last else "" for i, v in enumerate(state.values))
            back = state.at(Stage.ENTER_ZONE, zone_index=last, values=values)
            return Step(back, (entry.prompt_zone(back, turn),))
    if stage is Stage.ENTER_ZONE and state.zone_index > 0:
        index = state.zone_index - 1
        values = tuple("" if i >= index else v for i, v in enumerate(state.values))
        back = state.at(Stage.ENTER_ZONE, zone_index=index, values=values)
        return Step(back, (entry.prompt_zone(back, turn),))
    if stage in (Stage.ENTER_ZONE, Stage.CONFIRM) and account is not None:
        if len(account.meters) > 1:
            back = state.at(Stage.CHOOSE_METER, meter_id=None, values=())
            return Step(back, (entry.prompt_meter(turn, account),))
        stage = Stage.CHOOSE_METER
    if stage is Stage.CHOOSE_METER and several_accounts:
        back = state.at(Stage.CHOOSE_ACCOUNT, account_id=None, meter_id=None, values=())
        return Step(back, (entry.prompt_account(turn, turn.accounts(state)),))
    return menu.menu_step(state, turn)


def _asks_again(state: DialogState, turn: Turn) -> bool:
    """The customer is in the middle of verifying or entering a reading whose question can
    be asked again (its account and meter still there)."""
    stage = state.stage
    if stage in (Stage.ASK_ACCOUNT, Stage.ASK_SURNAME, Stage.CHOOSE_ACCOUNT):
        return True
    if stage is Stage.CHOOSE_METER:
        return turn.account(state) is not None
    return stage in (Stage.ENTER_ZONE, Stage.CONFIRM) and turn.meter(state) is not None


def _again(state: DialogState, turn: Turn, intro: str) -> Step:
    """Say ``intro`` and ask the current question again."""
    return Step(state, (*_prompt(state, turn, intro),))


def _prompt(state: DialogState, turn: Turn, intro: str) -> tuple[Reply, ...]:
    loc = turn.locale
    stage = state.stage
    said = x.reply(loc, intro)
    account = turn.account(state)
    if stage is Stage.ASK_ACCOUNT:
        return (verify.prompt_account_number(turn, intro),)
    if stage is Stage.ASK_SURNAME:
        return (said, verify.prompt_surname(turn))
    if stage is Stage.CHOOSE_ACCOUNT:
        return (said, entry.prompt_account(turn, turn.accounts(state)))
    if stage is Stage.CHOOSE_METER and account is not None:
        return (said, entry.prompt_meter(turn, account))
    if stage is Stage.ENTER_ZONE and turn.meter(state) is not None:
        return (said, entry.prompt_zone(state, turn))
    if stage is Stage.CONFIRM and turn.meter(state) is not None:
        return (said, *entry.preview(state, turn).replies)
    if stage is Stage.ASK_RECEIPT:
        return menu.status_step(state, turn).after(said).replies
    return menu.menu_step(state, turn, intro).replies


def _resume(state: DialogState, result: ActionResult, facts: Facts, now: datetime) -> Step:
    turn = _turn(state, facts, now)
    if isinstance(result, Verified):
        return verify.on_verified(state, result, turn)
    if isinstance(result, Submitted):
        return entry.on_submitted(state, result, turn)
    if isinstance(result, Found):
        return menu.on_found(state, result, turn)
    if isinstance(result, Done) and state.stage is Stage.AWAIT_PHOTO:
        if result.ok:
            told = x.t(turn.locale, "photo_attached")
        elif result.reason == TOO_MANY_PHOTOS:
            told = translate("evidence.too_many", turn.locale, max=MAX_PHOTOS_PER_READING)
        elif result.reason == NOT_FLAGGED:  # reviewed meanwhile: no photo is wanted now
            return menu.menu_step(
                replace(state, reading_id=""), turn, x.t(turn.locale, "photo_unexpected")
            )
        else:
            told = x.t(turn.locale, "photo_failed")
        said = menu.menu_step(state, turn, told)
        if result.ok or result.reason == TOO_MANY_PHOTOS:  # another photo is answered alike
            return Step(state, said.replies)
        return said
    return Step(state)
