"""The phone line in Twilio's format: X-Twilio-Signature, keypad digits in, TwiML out.

A `Reply` becomes `<Say>` in the customer's language; its buttons become keypad choices
("press 1 for …", 0 repeats) and its `input_hint` decides what `<Gather>` collects: one
key for a choice, digits ending in `#` for an account number, digits with `*` as the
decimal point for a meter value. At a value prompt the keys type the value, so its buttons
are not offered, except "no consumption" (the previous reading again): the star key alone.
Receipt codes and other long codes are read out one character at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from pokaznyk_core.channels import secrets_match
from pokaznyk_core.dialog.messages import Incoming, IncomingKind, Reply
from pokaznyk_core.dialog.texts import MENU, ZERO
from pokaznyk_core.domain.values import ascii_int

SIGNATURE_HEADER = "x-twilio-signature"
REPEAT: Final = "repeat"
MAX_CHOICES = 9
STAR = "*"
"""The star key alone at a value prompt: its "no consumption" button (the decimal point
cannot start a value, so the entry means nothing else)."""
NO_SUCH_KEY: Final = "no_such_key"
"""A key that is none of a prompt's choices."""
NO_STAR: Final = "no_star"
"""The star key alone at a value prompt that offers no "no consumption"."""
TO_MENU = "**"
"""Keys that go back to the menu from any entry (said at the account number's)."""
GATHER_TIMEOUT_SECONDS = 8

VOICES: Mapping[str, Mapping[str, str]] = {
    "uk": {"language": "uk-UA", "voice": "Google.uk-UA-Standard-A"},
    "en": {"language": "en-US"},
}

_WORDS: Mapping[str, Mapping[str, str]] = {
    "uk": {
        "press": "{label} — натисніть {digit}.",
        "repeat": "Щоб прослухати ще раз, натисніть 0.",
        "digits": "Наприкінці натисніть решітку. Щоб повернутися до меню, натисніть дві"
        " зірочки й решітку.",
        "decimal": "Десяткову кому вводьте зірочкою, наприкінці натисніть решітку.",
        "star": "Якщо споживання не було, натисніть зірочку, потім решітку: передамо"
        " попередній показник ще раз.",
        "no_such_key": "Такого варіанта немає.",
        "no_star": "Попередній показник тут зірочкою не повторити: наберіть показник цифрами.",
        "goodbye": "Дякуємо за дзвінок. До побачення.",
        "unavailable": "Вибачте, сервіс тимчасово недоступний. Спробуйте пізніше.",
    },
    "en": {
        "press": "{label}: press {digit}.",
        "repeat": "To hear this again, press 0.",
        "digits": "Then press the hash key. To go back to the menu, press the star key"
        " twice, then the hash key.",
        "decimal": "Use the star key for the decimal point, then press the hash key.",
        "star": "If no electricity was used, press the star key, then the hash key, to send"
        " the previous reading again.",
        "no_such_key": "That key is not one of the choices.",
        "no_star": "The star key cannot repeat the previous reading here: please key in the"
        " reading.",
        "goodbye": "Thank you for calling. Goodbye.",
        "unavailable": "Sorry, the service is unavailable right now. Please call later.",
    },
}

LANGUAGE_MENU: Sequence[tuple[str, str]] = (
    ("uk", "Для української мови натисніть 1."),
    ("en", "For English, press 2."),
)
"""The first thing a caller hears: the language, one key each (1 Ukrainian, 2 English)."""

_CODE = re.compile(
    r"(?<![\w-])(?:[0-9A-Z]+(?:-[0-9A-Z]+)+"
    r"|(?=[0-9A-Z]*[0-9])(?=[0-9A-Z]*[A-Z])[0-9A-Z]{5,}|[0-9]{8,}|[A-Z]{8,})(?![\w-])"
    r"|(?<![\w,.:-])(?<!\d )0[0-9]{2,}(?![\w,-]|[.:]\d)"  # led by zeros (a serial): never a number
)
"""Codes read one character at a time: receipts (letters and digits, or letters only),
account numbers, and meter serials in parts (NIK2102-925465, EM-0041435), whole and with
their leading zeros, the hyphens left unsaid."""
_PHONE = re.compile(r"(?<![\w,.])\+?\d{1,4}(?:[ -]\d{2,4}){2,}(?![\w,]|\.\d)")
"""A phone number in groups (0 800 300 015, +380 44 123 45 67): read digit by digit."""
_LINE_END = re.compile(r"(?<=[^\s.!?:;,…])[ \t]*\n\s*")
"""A line or paragraph that ends without a stop: said with one, not run into the next."""


def _uk_count(one: str, few: str, many: str) -> Callable[[re.Match[str]], str]:
    """The number and its noun in the form Ukrainian wants after it, as the lines say them
    (спожито 1 кіловат-годину, 2 кіловат-години, 5 кіловат-годин; через 1 хвилину; a
    fraction takes the genitive singular)."""

    def spoken(found: re.Match[str]) -> str:
        number = found.group(1)
        if not number.isdigit():
            return f"{number} {few}"
        n = int(number)
        if n % 10 == 1 and n % 100 != 11:
            return f"{number} {one}"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return f"{number} {few}"
        return f"{number} {many}"

    return spoken


def _en_count(one: str, many: str) -> Callable[[re.Match[str]], str]:
    return lambda found: f"{found.group(1)} {one if found.group(1) == '1' else many}"


_NUMBER = r"(\d+(?:[,.]\d+)?)\s*"
_SPOKEN: Mapping[str, Sequence[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]]] = {
    "uk": (
        (re.compile(r"(\d{4})\s*р\.(?=\W|$)"), r"\1 року"),
        (re.compile(_NUMBER + r"хв\.?(?=\W|$)"), _uk_count("хвилину", "хвилини", "хвилин")),
        (re.compile(_NUMBER + r"дн\.?(?=\W|$)"), _uk_count("день", "дні", "днів")),
        (
            re.compile(_NUMBER + r"кВт·год"),
            _uk_count("кіловат-годину", "кіловат-години", "кіловат-годин"),
        ),
        (re.compile(r"кВт·год"), "кіловат-годин"),
    ),
    "en": (
        (re.compile(_NUMBER + r"min\b"), _en_count("minute", "minutes")),
        (re.compile(_NUMBER + r"kWh\b"), _en_count("kilowatt hour", "kilowatt hours")),
        (re.compile(r"\bkWh\b"), "kilowatt hours"),
    ),
}
"""Abbreviations a voice would spell or stumble on, in words that agree with their number."""


def signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """base64 HMAC-SHA1 of the full URL followed by each POST parameter (sorted) as name+value."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(url: str, params: Iterable[tuple[str, str]], given: str | None, auth_token: str) -> bool:
    """True when X-Twilio-Signature signs this URL and these POST parameters."""
    if not auth_token or not given:
        return False
    return secrets_match(given.strip(), signature(url, params, auth_token))


@dataclass(frozen=True)
class VoicePrompt:
    """What the caller was last asked: how to read the keys they press next."""

    hint: str
    choices: tuple[str, ...]
    locale: str
    star: str = ""
    """The payload the star key alone presses at a value prompt (the dialog's "no
    consumption" button, where it offers one), else empty."""

    @classmethod
    def of(cls, reply: Reply) -> VoicePrompt:
        """The prompt a reply makes: its buttons in keypad order."""
        if reply.input_hint in ("digits", "digits_decimal"):  # the keys type the entry
            star = ZERO if any(b.payload == ZERO for row in reply.buttons for b in row) else ""
            return cls(hint=reply.input_hint, choices=(), locale=reply.locale, star=star)
        choices = tuple(b.payload for row in reply.buttons for b in row)[:MAX_CHOICES]
        hint = "choice" if choices else reply.input_hint
        return cls(hint=hint, choices=choices, locale=reply.locale)

    @property
    def gathers(self) -> bool:
        """True when the caller is expected to press keys."""
        return bool(self.choices) or self.hint in ("digits", "digits_decimal", "choice")


def keys_of(digits: str) -> str:
    """The keys pressed, without the `#` that ends an entry."""
    return digits.strip().removesuffix("#")


def incoming_of_digits(prompt: VoicePrompt, digits: str) -> Incoming | str:
    """The dialog message for the keys pressed at `prompt`; else REPEAT to say the prompt
    again, or NO_SUCH_KEY or NO_STAR, the key of words (`notice`) that say why first."""
    keys = keys_of(digits)
    if not keys or keys == "0":  # 0 repeats at every prompt
        return REPEAT
    if prompt.choices:
        chosen = ascii_int(keys, max_digits=3)  # a PBX may send any number of keys
        if chosen is None or not 1 <= chosen <= len(prompt.choices):
            return NO_SUCH_KEY
        return Incoming(kind=IncomingKind.BUTTON, payload=prompt.choices[chosen - 1])
    if keys == TO_MENU:
        return Incoming(kind=IncomingKind.BUTTON, payload=MENU)
    if keys == STAR and prompt.star:
        return Incoming(kind=IncomingKind.BUTTON, payload=prompt.star)
    if keys == STAR and prompt.hint == "digits_decimal":  # a value prompt that repeats nothing
        return NO_STAR
    # `*` is the decimal point at every entry: on a meter without decimals too, where
    # 130*5 is refused as a fraction, never read as 1305.
    return Incoming(kind=IncomingKind.TEXT, text=keys.replace("*", "."))


def notice(key: str, locale: str) -> Reply:
    """One of the adapter's own words (NO_SUCH_KEY, NO_STAR), said before a prompt again."""
    return Reply(text=_words(locale)[key], locale=locale)


def speakable(text: str, locale: str = "uk") -> str:
    """Text fit for speech: symbols (emoji) dropped, abbreviations in words, codes spelled
    one character at a time."""
    plain = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co"))
    plain = plain.replace("\u202f", " ").replace("\u00a0", " ")
    for pattern, words in _SPOKEN.get(locale, ()):
        plain = pattern.sub(words, plain)
    plain = _PHONE.sub(_phone_digits, plain)
    spelled = _CODE.sub(lambda m: ", ".join(m.group(0).replace("-", "")), plain)
    return re.sub(r"\s+", " ", _LINE_END.sub(". ", spelled.strip())).strip()


def _phone_digits(found: re.Match[str]) -> str:
    """A phone number's digits one by one (a number that short is not a phone: as it is)."""
    digits = [ch for ch in found.group(0) if ch.isdigit()]
    return ", ".join(digits) if len(digits) >= 9 else found.group(0)


def _words(locale: str) -> Mapping[str, str]:
    return _WORDS.get(locale, _WORDS["uk"])


def _say(parent: ET.Element, text: str, locale: str) -> None:
    if not text:
        return
    element = ET.SubElement(parent, "Say", dict(VOICES.get(locale, VOICES["uk"])))
    element.text = text


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def _reply_text(reply: Reply) -> str:
    """The words to say: the text, with the code in `speech` read one character at a time."""
    text = reply.text
    code = "".join(reply.speech)
    if code and code in text:
        text = text.replace(code, ", ".join(reply.speech))
    elif code:
        text = f"{text} {', '.join(reply.speech)}"
    return speakable(text, reply.locale)


def render(replies: Sequence[Reply], action_url: str, *, redirect_url: str | None = None) -> str:
    """TwiML for the dialog's replies: the last one's keys are gathered and posted to `action_url`.

    Without anything to gather (the dialog's last word) the call ends politely.
    `redirect_url` is where Twilio goes when the caller presses nothing.
    """
    root = ET.Element("Response")
    if not replies:
        _say(root, _words("uk")["goodbye"], "uk")
        ET.SubElement(root, "Hangup")
        return _document(root)
    *before, last = replies
    for reply in before:
        _say(root, _reply_text(reply), reply.locale)
    prompt = VoicePrompt.of(last)
    words = _words(last.locale)
    if not prompt.gathers:
        _say(root, _reply_text(last), last.locale)
        _say(root, words["goodbye"], last.locale)
        ET.SubElement(root, "Hangup")
        return _document(root)
    gather_attributes = {
        "input": "dtmf",
        "action": action_url,
        "method": "POST",
        "timeout": str(GATHER_TIMEOUT_SECONDS),
    }
    if prompt.choices or prompt.hint == "choice":
        gather_attributes["numDigits"] = "1"
    else:
        gather_attributes["finishOnKey"] = "#"
    gather = ET.SubElement(root, "Gather", gather_attributes)
    _say(gather, _reply_text(last), last.locale)
    pressed = [b for row in last.buttons for b in row][: len(prompt.choices)]
    for digit, button in enumerate(pressed, start=1):
        # A language is offered in its own language and voice ("English: press 2.").
        locale = button.payload.removeprefix("lang:") if button.payload.startswith("lang:") else ""
        locale = locale if locale in VOICES else last.locale
        label = speakable(button.label, locale)
        _say(gather, _words(locale)["press"].format(label=label, digit=digit), locale)
    if prompt.star:  # the one button of a value prompt: the star key alone
        _say(gather, words["star"], last.locale)
    if prompt.choices:
        _say(gather, words["repeat"], last.locale)
    elif prompt.hint == "digits_decimal":
        _say(gather, words["decimal"], last.locale)
    elif prompt.hint == "digits":
        _say(gather, words["digits"], last.locale)
    if redirect_url:
        ET.SubElement(root, "Redirect", {"method": "POST"}).text = redirect_url
    return _document(root)


def language_menu(action_url: str, redirect_url: str | None = None) -> str:
    """TwiML of the first question of every call: which language."""
    root = ET.Element("Response")
    gather = ET.SubElement(
        root,
        "Gather",
        {"input": "dtmf", "numDigits": "1", "action": action_url, "method": "POST", "timeout": "6"},
    )
    for locale, text in LANGUAGE_MENU:
        _say(gather, text, locale)
    if redirect_url:
        ET.SubElement(root, "Redirect", {"method": "POST"}).text = redirect_url
    return _document(root)


def language_of_digit(digits: str) -> str:
    """The locale chosen at the language menu (Ukrainian unless 2 was pressed)."""
    return "en" if digits.strip().startswith("2") else "uk"


def spoken_message(key: str, locale: str) -> str:
    """TwiML that says one of the adapter's own messages and hangs up."""
    root = ET.Element("Response")
    _say(root, _words(locale)[key], locale)
    ET.SubElement(root, "Hangup")
    return _document(root)
