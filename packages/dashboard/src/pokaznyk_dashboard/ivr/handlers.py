"""The phone line: POST /ivr/voice, then /ivr/language and /ivr/gather, all answering TwiML.

Every request is checked against X-Twilio-Signature (the public URL plus the sorted POST
parameters). Each prompt said to a caller is kept in the outbox (status `spoken`), and
its id travels in the next Gather's action URL, so the keys pressed are read against the
prompt they answer, 0 says it again, and a redelivered keypad entry gets the same answer.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from litestar import MediaType, Request, post
from litestar.di import NamedDependency
from litestar.response import Response

import pokaznyk_core.channels.ivr as ivr
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply
from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.values import ascii_int
from pokaznyk_core.outbox.queue import load_spoken, load_spoken_by_key, store_spoken
from pokaznyk_core.services.admission import message_turn
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.storage.transactions import write_transaction
from pokaznyk_dashboard.webhooks.common import MAX_BODY, Refusal, read_body

log = logging.getLogger("pokaznyk.ivr")

_PHONE = re.compile(r"^(?:tel:)?(\+?[0-9]{6,15})$")
"""A caller's number: E.164 as Twilio gives it (or a tel URI)."""
_PBX_PHONE = re.compile(r"^(?:sips?:|tel:)?(\+?[0-9]{6,15})(?:@.*)?$")
"""A caller's number from the company's own PBX, which may give a SIP address: trusted only
on a private network (POKAZNYK_IVR_ALLOW_UNSIGNED), since a SIP caller sets its own From."""
_WITHHELD = frozenset({"266696687", "7378742833", "8656696", "2562533", "86282452253"})
"""What Twilio gives as `From` for a withheld number: ANONYMOUS, RESTRICTED, UNKNOWN,
BLOCKED and UNAVAILABLE keyed on a phone's letters. Taken for a number, every hidden caller
would share one dialog and one count of failed attempts."""
SILENT_REPEATS = 2


def twiml(document: str, status: int = 200) -> Response[str]:
    """A TwiML answer."""
    return Response(document, status_code=status, media_type=MediaType.XML)


def _refused(status: int, text: str) -> Response[str]:
    return Response(text, status_code=status, media_type=MediaType.TEXT)


def _public_url(request: Request[Any, Any, Any], context: ServiceContext) -> str:
    """The URL Twilio called: POKAZNYK_PUBLIC_URL + path and query, or the URL as received."""
    base = context.settings.public_url.rstrip("/")
    if not base:
        return str(request.url)
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def _link(context: ServiceContext, path: str) -> str:
    base = context.settings.public_url.rstrip("/")
    return f"{base}{path}" if base else path


async def _signed_form(request: Request[Any, Any, Any], context: ServiceContext) -> dict[str, str]:
    """The POST parameters of a request that Twilio signed (or `Refusal` 403/413/400)."""
    settings = context.settings
    raw = await read_body(request)
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        pairs = []
    given = request.headers.get(ivr.SIGNATURE_HEADER)
    unsigned_ok = settings.ivr_allow_unsigned and given is None
    if not unsigned_ok and not ivr.verify(
        _public_url(request, context), pairs, given, settings.twilio_auth_token
    ):
        raise Refusal(_refused(403, "forbidden"))
    form = dict(pairs)
    if not form.get("CallSid"):
        raise Refusal(_refused(400, "not a Twilio voice request"))
    return form


def _caller(form: dict[str, str], *, pbx: bool = False) -> tuple[str, str | None]:
    """(platform user id, the caller's number when the network gave one)."""
    found = (_PBX_PHONE if pbx else _PHONE).match(form.get("From", "").strip())
    digits = found.group(1).lstrip("+") if found else ""
    if digits and digits not in _WITHHELD and digits.strip("0"):
        return "+" + digits, "+" + digits
    return f"call:{form['CallSid']}", None  # a hidden caller is a new user each call


async def _speak(
    context: ServiceContext, caller: str, replies: list[Reply], *, key: str | None
) -> Response[str]:
    prompt_id = await store_spoken(caller, replies, now=context.now(), dedupe_key=key)
    if prompt_id is None and key is not None:  # the same keys came again: same answer
        kept = await load_spoken_by_key(key)
        if kept is not None:
            prompt_id, replies = kept
    return _render(context, prompt_id, replies, silent=0)


def _render(
    context: ServiceContext, prompt_id: int | None, replies: list[Reply], *, silent: int
) -> Response[str]:
    action = _link(context, f"/ivr/gather?p={prompt_id}")
    redirect = _link(context, f"/ivr/gather?p={prompt_id}&silent={silent + 1}")
    return twiml(ivr.render(replies, action, redirect_url=redirect))


async def _converse(
    context: ServiceContext, form: dict[str, str], incoming: Incoming, *, step: str
) -> Response[str]:
    from pokaznyk_core.services.conversation import handle_incoming

    caller, phone = _caller(form, pbx=context.settings.ivr_allow_unsigned)
    key = f"ivr:{form['CallSid']}:{step}"
    # The dialog's step and the prompt said for it are kept together: a process that dies
    # in between leaves neither, and Twilio's retry is answered as the first try would be.
    async with message_turn(context), write_transaction():
        result = await handle_incoming(
            context,
            Channel.IVR,
            caller,
            incoming,
            update_key=key,
            enqueue=False,
            caller_verified_phone=phone,
        )
        if result.duplicate:
            kept = await load_spoken_by_key(key)
            if kept is not None:
                return _render(context, kept[0], kept[1], silent=0)
        return await _speak(context, caller, list(result.replies), key=key)


async def _guard(body: Any, locale: str = "uk") -> Response[str]:
    try:
        response: Response[str] = await body()
    except Refusal as refusal:
        return refusal.response
    except Exception:
        log.exception("phone line request failed")
        return twiml(ivr.spoken_message("unavailable", locale))
    return response


@post(
    "/ivr/voice",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="ivr_voice",
    include_in_schema=False,
)
async def ivr_voice(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[str]:
    """A new call: ask for the language (1 Ukrainian, 2 English)."""

    async def body() -> Response[str]:
        await _signed_form(request, context)
        action = _link(context, "/ivr/language")
        return twiml(ivr.language_menu(action, redirect_url=action))

    return await _guard(body)


@post(
    "/ivr/language",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="ivr_language",
    include_in_schema=False,
)
async def ivr_language(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[str]:
    """The language chosen (silence means Ukrainian): the dialog's greeting."""

    async def body() -> Response[str]:
        form = await _signed_form(request, context)
        digits = ivr.keys_of(form.get("Digits", ""))
        if digits and digits not in ("1", "2"):  # 0 repeats, as does a key that is no choice
            action = _link(context, "/ivr/language")
            return twiml(ivr.language_menu(action, redirect_url=action))
        locale = ivr.language_of_digit(digits)
        start = Incoming(kind=IncomingKind.START, language_hint=locale, language_chosen=True)
        return await _converse(context, form, start, step="start")

    return await _guard(body)


@post(
    "/ivr/gather",
    status_code=200,
    request_max_body_size=MAX_BODY,
    operation_id="ivr_gather",
    include_in_schema=False,
)
async def ivr_gather(
    request: Request[Any, Any, Any], context: NamedDependency[ServiceContext]
) -> Response[str]:
    """The keys pressed at prompt `p`: a choice, a number ending in #, or 0 to repeat."""

    async def body() -> Response[str]:
        form = await _signed_form(request, context)
        prompt_ref = request.query_params.get("p", "")
        silent = ascii_int(request.query_params.get("silent", "")) or 0
        caller, _phone = _caller(form, pbx=context.settings.ivr_allow_unsigned)
        prompt_id = ascii_int(prompt_ref)
        replies = await load_spoken(prompt_id, caller) if prompt_id is not None else None
        if not replies:
            return twiml(ivr.spoken_message("goodbye", "uk"))
        prompt = ivr.VoicePrompt.of(replies[-1])
        digits = form.get("Digits", "")
        incoming = ivr.incoming_of_digits(prompt, digits)
        if isinstance(incoming, str) and incoming != ivr.REPEAT:  # a key not offered
            notice = ivr.notice(incoming, prompt.locale)
            return _render(context, prompt_id, [notice, replies[-1]], silent=0)
        if isinstance(incoming, str):  # REPEAT: 0 or silence
            if not digits and silent >= SILENT_REPEATS:
                return twiml(ivr.spoken_message("goodbye", prompt.locale))
            # 0 says everything again (a receipt number too); silence, only the question
            again = replies if ivr.keys_of(digits) == "0" else replies[-1:]
            return _render(context, prompt_id, again, silent=silent if not digits else 0)
        return await _converse(context, form, incoming, step=prompt_ref)

    return await _guard(body)
