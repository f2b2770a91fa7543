"""Submitting a reading in the dialog: account, meter, each zone, confirmation, receipt."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID, uuid5

from pokaznyk_core.dialog import texts as x
from pokaznyk_core.dialog.actions import SubmitReading, Submitted
from pokaznyk_core.dialog.facts import AccountInfo, MeterInfo
from pokaznyk_core.dialog.messages import Button, Incoming, IncomingKind, Reply
from pokaznyk_core.dialog.state import DialogState, Stage
from pokaznyk_core.dialog.turn import Step, Turn
from pokaznyk_core.domain.checks import Flag, ReadingVerdict, check_reading
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.receipts import spoken_receipt
from pokaznyk_core.domain.values import ascii_int, parse_value, separate_values, spaced_apart
from pokaznyk_core.domain.window import Period, place_reading, window_of
from pokaznyk_core.domain.zones import Zone, labelled_values, names_zones

READING_NAMESPACE = UUID("6f1f3c1e-3f57-4d55-9a55-8c7f0b7b2d11")
_YES = frozenset({"yes", "так", "ok", "ок", "1", "confirm", "підтвердити", "y", "т"})
_REENTER = frozenset({"2", "re-enter", "reenter", "ні", "no", "змінити", "ввести знову"})
_PHOTO_NOTICES = frozenset({Flag.HIGH_CONSUMPTION, Flag.ABOVE_HOUSEHOLD_CAP})


def reading_id_for(user_key: str, nonce: int) -> UUID:
    """The id of the reading a user starts as their ``nonce``-th: the same for a repeated
    confirmation, so it is stored once."""
    return uuid5(READING_NAMESPACE, f"{user_key}:{nonce}")


def start_submit(state: DialogState, turn: Turn) -> Step:
    """Begin a submission: choose the account (when there are several), then the meter."""
    accounts = turn.accounts(state)
    chosen = turn.facts.account(state.account_id)
    if chosen is None and len(accounts) == 1:
        chosen = accounts[0]
    if chosen is None:
        next_state = state.at(Stage.CHOOSE_ACCOUNT, account_id=None, meter_id=None)
        return Step(next_state, (prompt_account(turn, accounts),))
    return start_meter(state.at(Stage.CHOOSE_METER, account_id=chosen.account_id), chosen, turn)


def start_meter(state: DialogState, account: AccountInfo, turn: Turn) -> Step:
    """Choose the meter of ``account`` (when there are several), then enter its zones."""
    if not account.meters:
        from pokaznyk_core.dialog.menu import menu_step

        return menu_step(state, turn, x.t(turn.locale, "no_meters"))
    if len(account.meters) == 1:
        return start_entry(state, account.meters[0], turn)
    next_state = state.at(Stage.CHOOSE_METER, meter_id=None)
    return Step(next_state, (prompt_meter(turn, account),))


def start_entry(state: DialogState, meter: MeterInfo, turn: Turn) -> Step:
    """Start entering a new reading of ``meter``, zone by zone."""
    next_state = state.at(
        Stage.ENTER_ZONE,
        meter_id=meter.meter_id,
        zone_index=0,
        values=("",) * meter.spec.zone_count,
        nonce=state.nonce + 1,
        reading_id="",  # a photo now would be of this reading's meter, not the last's
    )
    return Step(next_state, (prompt_zone(next_state, turn),))


def prompt_account(turn: Turn, accounts: tuple[AccountInfo, ...]) -> Reply:
    """Ask which account."""
    loc = turn.locale
    buttons = tuple(
        (Button(label=a.number, payload=f"{x.ACCOUNT_PREFIX}{a.account_id}"),) for a in accounts
    )
    lines = [x.t(loc, "choose_account")]
    lines += [f"{a.number} — {a.address}" for a in accounts if a.verified and a.address]
    return x.reply(loc, "\n".join(lines), (*buttons, x.nav(loc)), hint=x.CHOICE)


def prompt_meter(turn: Turn, account: AccountInfo) -> Reply:
    """Ask which meter."""
    loc = turn.locale
    buttons = []
    for number, meter in enumerate(account.meters, start=1):
        if not account.verified:
            label = _anonymous_label(meter, number, loc)
        elif turn.facts.voice:  # a serial heard whole means nothing: its end and its zones
            label = _voice_label(meter, loc)
        else:
            label = meter.serial
        buttons.append((Button(label=label, payload=f"{x.METER_PREFIX}{meter.meter_id}"),))
    lines = [x.t(loc, "choose_meter")]
    if account.verified and not turn.facts.voice:  # a serial alone says little: its zones
        lines += [f"{m.serial} — {_zones_said(m, loc)}" for m in account.meters]
    return x.reply(loc, "\n".join(lines), (*buttons, x.nav(loc)), hint=x.CHOICE)


def _zone_names(meter: MeterInfo, loc: str) -> str:
    return ", ".join(x.zone_name(zone, loc) for zone in meter.spec.zones)


def _zones_said(meter: MeterInfo, loc: str) -> str:
    if meter.spec.zone_count == 1:
        return x.t(loc, "meter_one_zone")
    return x.t(loc, "meter_zones", zones=_zone_names(meter, loc))


def _voice_label(meter: MeterInfo, loc: str) -> str:
    """A meter told apart on the phone: the last digits of its serial (said one by one)
    and its zones."""
    ending = "-".join([ch for ch in meter.serial if ch.isalnum()][-4:])
    if meter.spec.zone_count == 1:
        return x.t(loc, "meter_ending_one_zone", ending=ending)
    return x.t(loc, "meter_ending_zones", ending=ending, zones=_zone_names(meter, loc))


def _anonymous_label(meter: MeterInfo, number: int, loc: str) -> str:
    """A meter told apart without its serial (a caller who may hear no account data): by
    its zones."""
    if meter.spec.zone_count == 1:
        return x.t(loc, "meter_number_one_zone", number=number)
    return x.t(loc, "meter_number_zones", number=number, zones=_zone_names(meter, loc))


def prompt_zone(state: DialogState, turn: Turn) -> Reply:
    """Ask for the value of the current zone, with the last reading as a hint."""
    loc = turn.locale
    account, meter = turn.account(state), turn.meter(state)
    assert account is not None and meter is not None
    zone = meter.spec.zones[state.zone_index]
    count = meter.spec.zone_count
    parts = []
    if state.zone_index == 0 and account.verified:
        parts.append(x.t(loc, "meter_header", serial=meter.serial))
    if count == 1:
        parts.append(x.t(loc, "enter_total"))
    else:
        parts.append(
            x.t(
                loc,
                "enter_zone",
                zone=x.zone_name(zone, loc),
                index=state.zone_index + 1,
                count=count,
            )
        )
    buttons: list[tuple[Button, ...]] = []
    if account.verified:
        previous = meter.previous  # what the consumption is counted from
        last = x.show_value(meter.spec.format(previous.values[zone]), loc)
        key = "hint_initial" if meter.previous_is_initial else "hint_last"
        parts.append(x.t(loc, key, value=last, date=x.show_date(previous.taken_on, loc)))
        if state.zone_index == 0 and meter.corrects:
            # The reading it replaces, with its values: "as last time" would be the one
            # before it (what the consumption is counted from), so it is not offered.
            period = place_reading(turn.facts.today, turn.facts.window).period
            parts.append(
                x.t(
                    loc,
                    "replaces",
                    period=x.show_period(period, loc),
                    date=x.show_date(meter.last_taken_on, loc),
                    values=_sent_values(meter, loc),
                )
            )
        elif state.zone_index == 0:
            buttons.append((x.button(loc, "zero", x.ZERO),))
    if meter.spec.decimals:
        parts.append(x.t(loc, "enter_format", decimals=meter.spec.decimals))
    else:  # and the phone line does not offer the star key as the point
        parts.append(x.t(loc, "enter_format_whole"))
    buttons.append(x.nav(loc))
    hint = x.DECIMAL if meter.spec.decimals else x.DIGITS
    return x.reply(loc, "\n".join(parts), buttons, hint=hint)


def on_choose_account(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    """A tapped account button; None when the message is not one."""
    accounts = turn.accounts(state)
    chosen: AccountInfo | None = None
    if incoming.payload.startswith(x.ACCOUNT_PREFIX):
        chosen = turn.facts.account(ascii_int(incoming.payload[len(x.ACCOUNT_PREFIX) :]))
    elif incoming.kind is IncomingKind.TEXT:
        text = incoming.text.strip()
        chosen = next((a for a in accounts if a.number == text), None)
        place = ascii_int(text)
        if chosen is None and place is not None and 1 <= place <= len(accounts):
            chosen = accounts[place - 1]
    if chosen is None:
        return None
    return start_meter(state.at(Stage.CHOOSE_METER, account_id=chosen.account_id), chosen, turn)


def on_choose_meter(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    """A tapped meter button; None when the message is not one."""
    account = turn.account(state)
    if account is None:
        return None
    meter: MeterInfo | None = None
    if incoming.payload.startswith(x.METER_PREFIX):
        meter = account.meter(ascii_int(incoming.payload[len(x.METER_PREFIX) :]))
    elif incoming.kind is IncomingKind.TEXT:
        text = incoming.text.strip()
        meter = next((m for m in account.meters if account.verified and m.serial == text), None)
        place = ascii_int(text)
        if meter is None and place is not None and 1 <= place <= len(account.meters):
            meter = account.meters[place - 1]
    return None if meter is None else start_entry(state, meter, turn)


def on_zone(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    """A typed zone value, or the zero-consumption button."""
    account, meter = turn.account(state), turn.meter(state)
    if account is None or meter is None:
        return None
    loc = turn.locale
    if incoming.payload == x.ZERO and meter.corrects:
        # An earlier message's button: it would repeat the reading before this window's,
        # not the one sent, so it is not offered while correcting; asked again instead.
        return Step(state, (prompt_zone(state, turn),))
    if incoming.payload == x.ZERO and account.verified and state.zone_index == 0:
        # Offered with the first zone only: a tap on an old message's button at a later
        # zone would throw away the values typed since.
        previous = meter.previous.values
        values = tuple(meter.spec.format(previous[z]) for z in meter.spec.zones)
        return preview(state.at(Stage.ENTER_ZONE, values=values), turn)
    if incoming.kind is not IncomingKind.TEXT:
        return None
    labelled = labelled_values(incoming.text, meter.spec.zones)
    if labelled is not None:  # "день 12500 ніч 9200", "8 900,5 kWh"
        return _labelled_zones(state, labelled, meter, turn)
    if names_zones(incoming.text):  # a zone this meter has not, or one named twice
        zones = ", ".join(x.zone_name(z.value, loc) for z in meter.spec.zones)
        unclear = x.reply(loc, x.t(loc, "zone_words_unclear", zones=zones))
        return Step(state, (unclear, prompt_zone(state, turn)))
    lines = separate_values(incoming.text)
    count = meter.spec.zone_count
    empty = [v for v in _padded(state.values, count)[state.zone_index :] if not v]
    apart = spaced_apart(incoming.text)
    if len(lines) == 1 < len(apart) <= len(empty):
        # "150 100" at a day/night meter: the day and the night, or 150100? The one whose
        # first value fits this zone's last reading.
        zone = meter.spec.zones[state.zone_index]
        if _fits(apart[0], meter, zone) and not _fits(lines[0], meter, zone):
            lines = apart
    if 1 < len(lines) == count:  # every zone's value again: they replace those typed
        return _several_zones(
            state.at(Stage.ENTER_ZONE, values=("",) * count, zone_index=0), lines, turn
        )
    if 1 < len(lines) <= len(empty):  # the zones still to enter, in order
        return _several_zones(state, lines, turn)
    if len(lines) > 1:  # more than the zones take: never read as one number
        parsed: Decimal | Problem = Problem(Code.VALUE_SEVERAL)
    else:
        parsed = parse_value(incoming.text, meter.spec)  # the keypad's * and # are the IVR's
    if isinstance(parsed, Problem):
        said = x.problem_text(parsed, loc, voice=turn.facts.voice)
        return Step(state, (x.reply(loc, said), prompt_zone(state, turn)))
    typed_values = list(_padded(state.values, meter.spec.zone_count))
    typed_values[state.zone_index] = meter.spec.format(parsed)
    missing = [i for i, v in enumerate(typed_values) if not v]
    following = [i for i in missing if i > state.zone_index] or missing
    entered = tuple(typed_values)
    if following:
        next_state = state.at(Stage.ENTER_ZONE, values=entered, zone_index=following[0])
        return Step(next_state, (prompt_zone(next_state, turn),))
    return preview(state.at(Stage.ENTER_ZONE, values=entered), turn)


def _fits(text: str, meter: MeterInfo, zone: Zone) -> bool:
    """Whether `text` reads as a value of `zone` near its last reading: not below it, and
    at most one integer digit longer."""
    value = parse_value(text, meter.spec)
    if isinstance(value, Problem):
        return False
    previous = meter.previous.values[zone]
    return previous <= value and len(str(int(value))) <= len(str(int(previous))) + 1


def _several_zones(state: DialogState, lines: list[str], turn: Turn) -> Step:
    """Values on lines of their own, for this zone and the next ones in order, as if each
    came in a message of its own; the first one refused is said, the ones before it kept."""
    said = Step(state, ())
    for line in lines:
        before = said.state
        said = on_zone(before, Incoming(kind=IncomingKind.TEXT, text=line), turn) or said
        if said.state == before or said.state.stage is not Stage.ENTER_ZONE:
            break  # refused, or all entered: what it says is the answer
    return said


def _labelled_zones(
    state: DialogState, labelled: list[tuple[Zone, str]], meter: MeterInfo, turn: Turn
) -> Step:
    """Values each after its zone's word, in any order, as if each came in a message of its
    own at its zone; the first one refused is said, the ones before it kept."""
    said = Step(state, ())
    for zone, text in labelled:
        at = said.state.at(Stage.ENTER_ZONE, zone_index=meter.spec.zones.index(zone))
        step = on_zone(at, Incoming(kind=IncomingKind.TEXT, text=text), turn)
        if step is None:
            break
        said = step
        if step.state == at or step.state.stage is not Stage.ENTER_ZONE:
            break  # refused, or all entered: what it says is the answer
    return said


def _padded(values: tuple[str, ...], count: int) -> tuple[str, ...]:
    return (values + ("",) * count)[:count]


def _values(state: DialogState, meter: MeterInfo) -> dict[Zone, Decimal]:
    return {z: Decimal(v) for z, v in zip(meter.spec.zones, state.values, strict=True)}


def preview(state: DialogState, turn: Turn) -> Step:
    """Check the complete reading before it is sent: problems send the customer back to
    the zone concerned; otherwise show each value and the consumption, and ask to confirm."""
    account, meter = turn.account(state), turn.meter(state)
    assert account is not None and meter is not None
    loc = turn.locale
    values = _values(state, meter)
    today = turn.facts.today
    if not account.verified:  # the submission checks it: a refusal counts as a failure
        if meter.spec.zone_count == 1:
            shown = x.show_value(meter.spec.format(values[Zone.TOTAL]), loc)
            return _confirm(state, [x.t(loc, "confirm_one_plain", value=shown)], turn)
        lines = [x.t(loc, "confirm_title"), *_plain_lines(meter, values, loc)]
        return _confirm(state, ["\n".join(lines)], turn)
    verdict = check_reading(
        meter.spec,
        values,
        today,
        today,
        meter.previous,
        meter.history(place_reading(today, turn.facts.window)),
        turn.facts.limits,
        installed_on=meter.installed_on,
    )
    if not verdict.accepted:
        return back_to_problems(state, verdict.problems, account, meter, turn)
    notes = _preview_notes(verdict, loc, voice=turn.facts.voice)
    # Swapped zones: the consumption is the swapped pair's, so no zone's own is shown.
    swapped = any(n.code is Code.READING_ZONES_SWAPPED for n in verdict.notices)
    if meter.spec.zone_count == 1:
        return _confirm(state, [_confirm_one(meter, values, verdict, loc), *notes], turn)
    lines = [x.t(loc, "confirm_title")]
    for zone, line in zip(meter.spec.zones, _plain_lines(meter, values, loc), strict=True):
        used = None if swapped else verdict.consumption.get(zone)
        if used is None:
            lines.append(line)
            continue
        shown = x.show_value(meter.spec.format(values[zone]), loc)
        lines.append(
            x.t(
                loc,
                "confirm_zone_used",
                zone=x.zone_name(zone, loc),
                value=shown,
                used=x.show_value(meter.spec.format(used), loc),
            )
        )
    if verdict.consumption and verdict.total_consumption:  # none: the note says so
        total = x.show_value(meter.spec.format(verdict.total_consumption), loc)
        lines.append(x.t(loc, "confirm_total", used=total))
    return _confirm(state, ["\n".join(lines), *notes], turn)


def _confirm_one(
    meter: MeterInfo, values: dict[Zone, Decimal], verdict: ReadingVerdict, loc: str
) -> str:
    """A one-zone meter's value and its consumption, in one line."""
    shown = x.show_value(meter.spec.format(values[Zone.TOTAL]), loc)
    used = verdict.consumption.get(Zone.TOTAL)
    if not used:  # none worked out, or none at all (the note says so)
        return x.t(loc, "confirm_one_plain", value=shown)
    return x.t(loc, "confirm_one", value=shown, used=x.show_value(meter.spec.format(used), loc))


def _sent_values(meter: MeterInfo, loc: str) -> str:
    """The last reading's values in one line (``4070,0`` or ``день 4070,0, ніч 8510,0``)."""
    shown = [
        (x.zone_name(zone, loc), x.show_value(meter.spec.format(meter.last_values[zone]), loc))
        for zone in meter.spec.zones
    ]
    if len(shown) == 1:
        return shown[0][1]
    return "; ".join(f"{zone} {value}" for zone, value in shown)


def _plain_lines(meter: MeterInfo, values: dict[Zone, Decimal], loc: str) -> list[str]:
    return [
        x.t(
            loc,
            "confirm_zone",
            zone=x.zone_name(zone, loc),
            value=x.show_value(meter.spec.format(values[zone]), loc),
        )
        for zone in meter.spec.zones
    ]


def _confirm(state: DialogState, parts: list[str], turn: Turn) -> Step:
    """Ask to confirm what `parts` say."""
    loc = turn.locale
    text = x.join(*parts, x.t(loc, "confirm_question"))
    buttons = (
        (x.button(loc, "confirm", x.confirm_payload(state.meter_id, state.values)),),
        (x.button(loc, "reenter", x.REENTER),),
        (x.button(loc, "cancel", x.CANCEL),),
    )
    return Step(state.at(Stage.CONFIRM), (x.reply(loc, text, buttons, hint=x.CHOICE),))


def _preview_notes(verdict: ReadingVerdict, loc: str, *, voice: bool) -> list[str]:
    notes = []
    for notice in verdict.notices:
        params = dict(notice.params)
        if notice.code is Code.READING_ZONES_SWAPPED:
            notes.append(
                x.t(
                    loc,
                    "preview_swapped_voice" if voice else "preview_swapped",
                    zone=x.zone_name(str(params["zone"]), loc),
                    other_zone=x.zone_name(str(params["other_zone"]), loc),
                )
            )
        elif notice.code is Code.READING_ROLLOVER:
            notes.append(x.t(loc, "preview_rollover", zone=x.zone_name(str(params["zone"]), loc)))
        elif notice.code in (Code.READING_HIGH_CONSUMPTION, Code.READING_ABOVE_HOUSEHOLD_CAP):
            notes.append(x.t(loc, "preview_high"))
    if verdict.consumption and verdict.total_consumption == 0:
        notes.append(x.t(loc, "preview_zero"))
    return list(dict.fromkeys(notes))


def back_to_problems(
    state: DialogState,
    problems: tuple[Problem, ...],
    account: AccountInfo,
    meter: MeterInfo,
    turn: Turn,
) -> Step:
    """Say what is wrong and ask again for the zones concerned (all when none is named)."""
    loc = turn.locale
    zones = [z.value for z in meter.spec.zones]
    wrong = {zones.index(p.field) for p in problems if p.field in zones}
    if not wrong:
        wrong = set(range(len(zones)))
    values = tuple("" if i in wrong else v for i, v in enumerate(_padded(state.values, len(zones))))
    next_state = state.at(Stage.ENTER_ZONE, values=values, zone_index=min(wrong))
    if account.verified:
        said = [x.problem_text(p, loc, voice=turn.facts.voice) for p in problems]
    else:
        said = [x.t(loc, "guest_rejected")]
    if not account.verified:  # the rules' own answers each say what to do
        said.append(x.t(loc, "enter_again"))
    text = x.join(*dict.fromkeys(said))
    return Step(next_state, (x.reply(loc, text), prompt_zone(next_state, turn)))


def on_confirm(state: DialogState, incoming: Incoming, turn: Turn) -> Step | None:
    """Confirm (submit), re-enter, or None for anything else."""
    account, meter = turn.account(state), turn.meter(state)
    if account is None or meter is None:
        return None
    word = incoming.text.strip().casefold()
    if incoming.payload == x.REENTER or (incoming.kind is IncomingKind.TEXT and word in _REENTER):
        return start_entry(state.at(Stage.ENTER_ZONE, nonce=state.nonce - 1), meter, turn)
    if (
        incoming.kind is IncomingKind.TEXT
        and meter.spec.zone_count == 1
        and word not in _YES
        and not isinstance(parse_value(incoming.text, meter.spec), Problem)
    ):  # another value typed instead of confirming: it replaces the one shown
        return on_zone(state.at(Stage.ENTER_ZONE, zone_index=0), incoming, turn)
    shown = x.confirm_payload(state.meter_id, state.values)
    if incoming.payload.startswith(x.CONFIRM_PREFIX) and incoming.payload != shown:
        # an earlier preview's button (or one tapped as a value was typed): not these values
        changed = x.reply(turn.locale, x.t(turn.locale, "confirm_changed"))
        return preview(state.at(Stage.ENTER_ZONE), turn).after(changed)
    if x.is_confirm(incoming.payload) or (incoming.kind is IncomingKind.TEXT and word in _YES):
        action = SubmitReading(
            meter_id=meter.meter_id,
            values=_values(state, meter),
            reading_id=reading_id_for(turn.facts.user_key, state.nonce),
            unverified=not account.verified,
        )
        return Step(state, (), action)
    return None


def on_submitted(state: DialogState, result: Submitted, turn: Turn) -> Step:
    """The receipt, or what is wrong and the zone to enter again."""
    from pokaznyk_core.dialog.menu import menu_reply, menu_step

    loc = turn.locale
    account, meter = turn.account(state), turn.meter(state)
    if result.error is not None:
        return menu_step(state, turn, x.problem_text(result.error, loc))
    if not result.stored:
        assert account is not None and meter is not None
        step = back_to_problems(state, result.problems, account, meter, turn)
        if result.attempts_left is None:
            return step
        left = Problem(Code.VERIFICATION_ATTEMPTS_LEFT, {"attempts_left": result.attempts_left})
        said, *rest = step.replies
        said = replace(said, text=x.join(said.text, x.problem_text(left, loc)))
        return Step(step.state, (said, *rest))
    verified = account is not None and account.verified
    parts = [x.t(loc, "receipt", receipt=result.receipt, period=x.show_period(result.period, loc))]
    if result.replaced:  # a correction: the receipt of the reading it replaces is void
        parts.append(x.t(loc, "replaces_receipt", receipts=", ".join(result.replaced)))
    if turn.facts.voice:  # said where it is heard, not only after the whole menu
        parts.append(x.t(loc, "receipt_again_voice"))
    flagged = bool(result.flags) or result.status == "flagged"
    if not result.in_window:
        parts.append(_off_window(result.period, turn))
    elif not flagged:  # a flagged one is told it will be checked first
        parts.append(x.t(loc, "in_window"))
    if verified:
        notices = result.notices
        if any(n.code is Code.READING_ABOVE_HOUSEHOLD_CAP for n in notices):  # says it all
            notices = tuple(n for n in notices if n.code is not Code.READING_HIGH_CONSUMPTION)
        parts += [x.problem_text(n, loc, voice=turn.facts.voice) for n in notices]
    if flagged and not verified:
        parts.append(x.t(loc, "unverified_check"))
    elif flagged and not (result.flags & _PHOTO_NOTICES):
        parts.append(x.t(loc, "will_be_checked"))
    speech = tuple(spoken_receipt(result.receipt)) if result.receipt else ()
    base = state.at(Stage.MENU, values=(), zone_index=0)
    if flagged and not turn.facts.voice:
        reading = str(reading_id_for(turn.facts.user_key, state.nonce))
        parts.append(x.t(loc, "photo_offer"))
        buttons = ((x.button(loc, "menu", x.MENU),),)
        next_state = base.at(Stage.AWAIT_PHOTO, reading_id=reading)
        return Step(next_state, (x.reply(loc, x.join(*parts), buttons, speech=speech),))
    receipt = x.reply(loc, x.join(*parts), speech=speech)
    return Step(base, (receipt, menu_reply(base, turn)))


def _off_window(period_text: str, turn: Turn) -> str:
    loc = turn.locale
    period = Period.parse(period_text)
    if isinstance(period, Problem):
        return x.t(loc, "off_window_short")
    opens, closes = window_of(period, turn.facts.window)
    return x.t(
        loc,
        "off_window",
        period=x.show_period(period, loc),
        opens=x.show_date(opens, loc),
        closes=x.show_date(closes, loc),
    )
