"""Verification in the dialog: account number (or EIC) and surname, a shared contact, or
on the phone line the caller's number."""

from __future__ import annotations

from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.actions import Verified, VerifyCaller, VerifyHolder, VerifyPhone
from pokaznyk_core.dialog.messages import Incoming, Reply
from pokaznyk_core.dialog.state import DialogState, Purpose, Stage
from pokaznyk_core.dialog.turn import Step, Turn
from pokaznyk_core.domain.accounts import (
    MAX_SURNAME_LENGTH,
    account_in_message,
    account_or_eic,
    has_letters,
)
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.verification import cooldown_problem


def account_and_name(text: str, length: int) -> tuple[str, str] | None:
    """The account number (or EIC) a message holds among other words, and the surname
    when it came with it ("" when not); None when it holds none."""
    found = account_in_message(text)
    if found is None:
        return None
    number = account_or_eic(found[0], length)
    return None if isinstance(number, Problem) else (number, found[1])


def names_an_account(text: str, length: int) -> bool:
    """Whether ``text`` is an account number or EIC, alone or with the surname."""
    found = account_or_eic(text, length)
    return not isinstance(found, Problem) or account_and_name(text, length) is not None


def ask_account(state: DialogState, turn: Turn, purpose: Purpose, intro: str = "") -> Step:
    """Ask for the account number (or EIC), offering to share the phone instead."""
    next_state = state.at(
        Stage.ASK_ACCOUNT, purpose=purpose, pending_account="", account_id=None, meter_id=None
    )
    locked = _while_locked(next_state, turn, intro)
    if locked is not None:
        return locked
    return Step(next_state, (prompt_account_number(turn, intro, purpose),))


def _while_locked(state: DialogState, turn: Turn, intro: str = "") -> Step | None:
    """A chat user in a verification cooldown is told so before typing an account number
    and a surname the service would refuse anyway. A shared phone contact is no guess, so
    a chat that takes one still offers it; elsewhere the customer goes back to the menu."""
    from pokaznyk_core.dialog.menu import menu_step

    left = None if turn.facts.voice else state.locked_at(turn.now)
    if left is None:
        return None
    loc = turn.locale
    cooldown = x.problem_text(cooldown_problem(left), loc)
    if not _offers_phone_sharing(turn):
        return menu_step(state, turn, x.join(intro, cooldown))
    text = x.join(intro, f"{cooldown} {x.t(loc, 'locked_share_phone')}")
    ask = state.at(Stage.ASK_ACCOUNT, pending_account="")
    return Step(ask, (x.reply(loc, text, (x.nav(loc),), request_contact=True),))


def prompt_account_number(turn: Turn, intro: str = "", purpose: Purpose | None = None) -> Reply:
    """The question for the account number; with `purpose` (the first time it is asked), a
    chat says first why it is asked (the phone line is only ever for submitting)."""
    loc = turn.locale
    length = turn.facts.account_number_length
    if turn.facts.caller_phone is not None:
        text = x.t(loc, "ask_account_voice", length=length)
        return x.reply(loc, x.join(intro, text), (x.nav(loc),), hint=x.DIGITS)
    sharing = _offers_phone_sharing(turn)
    text = x.t(loc, "ask_account" if sharing else "ask_account_typed", length=length)
    if purpose is not None and not turn.facts.voice:
        why = purpose.value
        if purpose is Purpose.LINK and not turn.facts.accounts:
            why = "link_first"  # nothing linked yet: not "another" account
        text = f"{x.t(loc, f'why_verify.{why}')} {text}"
    return x.reply(loc, x.join(intro, text), (x.nav(loc),), hint=x.DIGITS, request_contact=sharing)


def _offers_phone_sharing(turn: Turn) -> bool:
    """Whether this chat offers a share-phone button (where the platform proves the number
    is the sender's own; never on the phone line)."""
    return turn.facts.phone_sharing and not turn.facts.voice


def prompt_surname(turn: Turn) -> Reply:
    """The question for the holder's surname; a chat that offered its share-phone button
    with the account question takes it away, since the number was typed."""
    loc = turn.locale
    hide = _offers_phone_sharing(turn)
    return x.reply(loc, x.t(loc, "ask_surname"), (x.nav(loc),), hide_keyboard=hide)


def on_account(state: DialogState, incoming: Incoming, turn: Turn, *, asked: bool = True) -> Step:
    """The account number (or EIC) typed: ask the surname next (both before answering).
    Where it was ``asked`` for, a surname sent with it is verified with it; elsewhere (a
    first message, the menu) the words beside it may be a greeting, and are not tried."""
    loc = turn.locale
    locked = _while_locked(state, turn)
    if locked is not None:
        return locked
    found = account_or_eic(incoming.text, turn.facts.account_number_length)
    both = None
    if isinstance(found, Problem) and turn.facts.caller_phone is None:
        both = account_and_name(incoming.text, turn.facts.account_number_length)
    if both is not None:  # "4110000011 Тарнавська": both at once; "Привіт, 4110000011"
        number, surname = both
        return (
            _verify_holder(state, *both) if surname and asked else _ask_surname(state, number, turn)
        )
    if isinstance(found, Problem):
        said = x.reply(loc, x.problem_text(found, loc))
        return Step(state, (said, prompt_account_number(turn)))
    if turn.facts.caller_phone is not None:
        return Step(
            state.at(Stage.ASK_ACCOUNT, pending_account=found),
            (),
            VerifyCaller(found, turn.facts.caller_phone),
        )
    return _ask_surname(state, found, turn)


def _ask_surname(state: DialogState, account: str, turn: Turn) -> Step:
    return Step(state.at(Stage.ASK_SURNAME, pending_account=account), (prompt_surname(turn),))


def on_surname(state: DialogState, incoming: Incoming, turn: Turn) -> Step:
    """The surname typed: verify both."""
    surname = incoming.text.strip()
    if not surname:
        return Step(state, (prompt_surname(turn),))
    both = account_and_name(surname, turn.facts.account_number_length)
    if both is not None:  # the account number sent again, with the surname this time or not
        return _verify_holder(state, *both) if both[1] else _ask_surname(state, both[0], turn)
    if not has_letters(surname):  # no surname: not a failed attempt
        loc = turn.locale
        return Step(state, (x.reply(loc, x.t(loc, "surname_in_letters")), prompt_surname(turn)))
    return _verify_holder(state, state.pending_account, surname)


def _verify_holder(state: DialogState, account: str, surname: str) -> Step:
    return Step(
        state.at(Stage.ASK_SURNAME, pending_account=account),
        (),
        VerifyHolder(account, surname[:MAX_SURNAME_LENGTH]),
    )


def on_contact(state: DialogState, incoming: Incoming, turn: Turn) -> Step:
    """The customer's own phone contact: link the accounts that have it."""
    purpose = (
        state.purpose
        if state.stage in (Stage.ASK_ACCOUNT, Stage.ASK_SURNAME)
        else (Purpose.LINK if turn.facts.accounts else Purpose.SUBMIT)
    )
    next_state = state.at(Stage.ASK_ACCOUNT, purpose=purpose, pending_account="")
    return Step(next_state, (), VerifyPhone(incoming.phone))


def on_verified(state: DialogState, result: Verified, turn: Turn) -> Step:
    """Go on with what the customer wanted, or say why not (never which part was wrong)."""
    from pokaznyk_core.dialog.entry import start_submit
    from pokaznyk_core.dialog.menu import latest_step, menu_step

    loc = turn.locale
    cleared = state.at(state.stage, pending_account="")
    if result.guest_account_id is not None:  # a phone caller's account, for this call
        known = result.caller_verified
        call = cleared.at(
            Stage.CHOOSE_ACCOUNT,
            guest_account_id=result.guest_account_id,
            caller_verified=known,
            account_id=result.guest_account_id,
            purpose=Purpose.SUBMIT,
        )
        if state.purpose is Purpose.STATUS:
            if known:
                return latest_step(call, turn)
            return menu_step(call, turn, x.t(loc, "status_own_phone"))
        key = "caller_verified" if known else "guest_notice"
        if not known and not turn.facts.caller_phone:  # a hidden number: not "not on it"
            key = "guest_notice_hidden"
        notice = x.reply(loc, x.t(loc, key))
        return start_submit(call, turn).after(notice)
    if result.account_ids:
        count = len(result.account_ids)
        # Verified: the share-phone button, if it was offered, is not needed any more.
        key = "verified" if count == 1 else "verified_many"
        said = x.reply(
            loc,
            x.t(loc, "verified_again" if result.already_linked else key, count=count),
            hide_keyboard=_offers_phone_sharing(turn),
        )
        if state.purpose is Purpose.SUBMIT:
            # One account: straight to it. A phone on several: asked which, like any
            # customer with several accounts, so no reading lands on a guessed one.
            only = result.account_ids[0] if count == 1 else None
            chosen = cleared.at(Stage.CHOOSE_ACCOUNT, account_id=only)
            return start_submit(chosen, turn).after(said)
        if state.purpose is Purpose.STATUS:
            return latest_step(cleared, turn).after(said)
        return menu_step(cleared, turn).after(said)
    problem = result.problem
    if problem is None:  # a shared phone that is on no account
        return Step(
            cleared.at(Stage.ASK_ACCOUNT),
            (prompt_account_number(turn, x.t(loc, "phone_not_found")),),
        )
    if problem.code in (Code.VERIFICATION_FAILED, Code.ACCOUNT_UNKNOWN):
        words = [x.problem_text(problem, loc)]
        if result.attempts_left is not None:
            left = Problem(Code.VERIFICATION_ATTEMPTS_LEFT, {"attempts_left": result.attempts_left})
            words.append(x.problem_text(left, loc))
        return Step(cleared.at(Stage.ASK_ACCOUNT), (prompt_account_number(turn, " ".join(words)),))
    if problem.code is Code.VERIFICATION_COOLDOWN and result.retry_after is not None:
        # Told at once from now until it ends (to the second, as the service counts it),
        # with the shared phone offered where a chat takes one, as every later time.
        until = (turn.now + result.retry_after).isoformat()
        cleared = cleared.at(cleared.stage, locked_until=until)
        locked = _while_locked(cleared, turn)
        if locked is not None:
            return locked
    return menu_step(cleared, turn, x.problem_text(problem, loc))
