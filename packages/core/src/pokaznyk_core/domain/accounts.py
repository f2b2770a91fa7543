"""Customer accounts: account numbers, holders' surnames and phone numbers as typed."""

from __future__ import annotations

import re
import unicodedata

from pokaznyk_core.domain.eic import METERING_POINT_PREFIX, validate_eic
from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.domain.values import plain_text

DEFAULT_ACCOUNT_NUMBER_LENGTH = 10
MAX_ACCOUNT_ENTRY_LENGTH = 40
"""The most characters an account number or EIC is typed in: either, with its spaces and
a label such as "о/р", fits in it."""
MAX_SURNAME_LENGTH = 100
"""The most characters a holder's surname is typed in."""

_ASCII_DIGITS = frozenset("0123456789")
_ACCOUNT_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]+")
# What people write before the number, as on the bill: "№", "о/р", "ос. рах.", "account no."
_ACCOUNT_LABEL = re.compile(
    r"^\s*(?:особовий\s+рахунок|ос\.?\s*рах\.?|о\s*/\s*р\.?|рахунок|account\s*(?:no\.?|number)?"
    r"|n[o°º]\.?|№|#)\s*[:.]?\s*",
    re.IGNORECASE,
)

# Apostrophes people type in Ukrainian surnames (Мар'яна, Solov’iov): one letter.
_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ`‘´ʹ′\"ъ", None))
"""Apostrophes in any of their forms, left out: phone keyboards often have none, so
Лук'яненко is typed Лукяненко (or Лукъяненко, on a Russian layout)."""
# Latin letters that look like Cyrillic ones, typed with the wrong keyboard layout.
# Applied (after casefolding) only to a surname with Cyrillic letters.
_LATIN_LOOKALIKES = str.maketrans(
    {
        "a": "а",
        "e": "е",
        "i": "і",
        "o": "о",
        "p": "р",
        "c": "с",
        "x": "х",
        "y": "у",
        "k": "к",
        "m": "м",
        "t": "т",
        "h": "н",
        "b": "в",
    }
)
_SPACES_AROUND_HYPHEN = re.compile(r"\s*-\s*")


def validate_account_number(
    text: str, length: int = DEFAULT_ACCOUNT_NUMBER_LENGTH
) -> str | Problem:
    """Return the account number in ``text`` (spaces and dashes dropped, and a label
    before it such as ``№`` or ``о/р``), or a problem when it is not exactly ``length``
    digits."""
    number = _ACCOUNT_SEPARATORS.sub("", _ACCOUNT_LABEL.sub("", plain_text(text), count=1))
    if len(number) != length or not set(number) <= _ASCII_DIGITS:
        return Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": length})
    return number


def account_or_eic(text: str, length: int = DEFAULT_ACCOUNT_NUMBER_LENGTH) -> str | Problem:
    """The account number or the metering point's EIC in ``text``, or what is wrong with
    its format: the EIC's when a word of it mixes letters and digits, as an EIC does, and
    it is long enough to be one; else the account number's (a number among words, "my
    account is 411000007", is a mistyped account number, not an EIC)."""
    text = plain_text(text)
    number = validate_account_number(text, length)
    if not isinstance(number, Problem):
        return number
    compact = "".join(text.split())
    coded = any(
        any(ch.isalpha() for ch in word) and any(ch.isdigit() for ch in word)
        for word in text.split()
    )
    if coded and len(compact) >= 12:
        return validate_eic(compact, required_prefix=METERING_POINT_PREFIX)
    return number


_DIGIT_RUN = re.compile(r"\d(?:[\d\s\-‐‑‒–—]*\d)?")
_AROUND_WORDS = " \t\r\n,;:./–—-"


def account_in_message(text: str) -> tuple[str, str] | None:
    """The account number (or EIC) in a message, and the holder's surname when it came
    with it, in either order (``4110000011 Тарнавська``, ``Тарнавська, 62Z…``): the
    number's text (still to be checked as ever) and the surname, or "" when the words
    beside the number are no surname ("Добрий день, 4110000011", "мій рахунок …"). None
    when the message holds no one number."""
    words = text.split()
    codes = [w for w in words if w[:3].upper() == "62Z"]
    if len(codes) == 1:
        number = codes[0].strip(_AROUND_WORDS)
        rest = " ".join(w for w in words if w is not codes[0])
        surname = rest.strip(_AROUND_WORDS)
    else:
        runs = list(_DIGIT_RUN.finditer(text))
        if len(runs) != 1:
            return None
        number = runs[0].group()
        before = _ACCOUNT_LABEL.sub("", text[: runs[0].start()], count=1).strip(_AROUND_WORDS)
        after = text[runs[0].end() :].strip(_AROUND_WORDS)
        surname = "" if before and after else before or after
    return number, surname if _is_name(surname) else ""


_NOT_NAMES = frozenset(
    """я мій моя моє мого мене мені мої звати це ось номер особовий рахунок рахунку прізвище
    ім'я і й та а привіт вітаю добрий доброго добридень день дня вечір вечора ранок ранку
    здрастуйте здравствуйте привет прошу слава україні дякую спасибі будь ласка показник
    показники передати надсилаю мой номер счет лицевой фамилия
    i my is the account number no surname name and hello hi hey good morning evening
    afternoon thanks thank you please here it's this reading""".replace("'", "").split()
)
"""Words people write beside an account number that are no surname."""


def _is_name(text: str) -> bool:
    """Whether ``text`` could be a surname (with the name and the patronymic): one to
    three words of letters (hyphens and apostrophes too), none of them a word people write
    beside an account number."""
    kept = text.translate(_APOSTROPHES).replace("-", " ").split()
    return (
        1 <= len(kept) <= 3
        and all(word.isalpha() for word in kept)
        and not any(word.casefold() in _NOT_NAMES for word in kept)
    )


def has_letters(text: str) -> bool:
    """Whether ``text`` has a letter in it (a surname must)."""
    return any(ch.isalpha() for ch in text)


def _has_cyrillic(text: str) -> bool:
    return any("CYRILLIC" in unicodedata.name(ch, "") for ch in text)


_SURNAME_LABEL = re.compile(
    r"^\s*(?:(?:моє|моя|мое)\s+)?(?:прізвище|фамилия)(?:\s+власника)?\s*[:\-–—]?\s*"
    r"|^\s*(?:(?:my|the)\s+)?(?:sur|last\s*)name(?:\s+is)?\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
"""What people write before a surname: "Прізвище: …", "Моє прізвище …", "My surname is …"."""
_PUNCTUATION = str.maketrans(dict.fromkeys(",.;:!?()«»", " "))  # " may be an apostrophe


def _normalize_surname(text: str, cyrillic: bool) -> str:
    text = _SURNAME_LABEL.sub("", plain_text(text), count=1).translate(_PUNCTUATION)
    # Marks left over once composed are no letter's (й and ї compose): a stress mark.
    composed = unicodedata.normalize("NFC", text)
    composed = "".join(ch for ch in composed if unicodedata.category(ch) != "Mn")
    folded = composed.casefold().translate(_APOSTROPHES)
    folded = _SPACES_AROUND_HYPHEN.sub("-", " ".join(folded.split()))
    return folded.translate(_LATIN_LOOKALIKES) if cyrillic else folded


def surname_matches(given: str, on_file: str) -> bool:
    """Whether the surname a person typed is the holder's surname on file.

    Case, surrounding and repeated whitespace, an apostrophe (in any form, or none) and
    Latin letters that look like Cyrillic ones (in a Cyrillic surname) do not matter;
    every other letter must be the same (``і`` and ``и`` are different letters).
    A surname followed by the name (and the patronymic), the order Ukrainian documents
    use, matches too: ``Чорновол Іван``. So does a Cyrillic surname typed in Latin
    letters as a Ukrainian passport spells it (`transliterations`: ``Yaroshenko``,
    ``Grygorenko``).
    """
    cyrillic = _has_cyrillic(on_file)
    expected = _normalize_surname(on_file, cyrillic)
    if not expected:
        return False
    if _same_name(_normalize_surname(given, cyrillic), expected):
        return True
    if cyrillic and _is_latin(given):  # in Latin letters, as in a passport
        typed = _normalize_surname(given, cyrillic=False).replace("-", " ")
        return any(_same_name(typed, spelled) for spelled in transliterations(expected))
    return False


def _same_name(typed: str, expected: str) -> bool:
    """The surname alone, or followed by the name (and the patronymic)."""
    if typed == expected:
        return True
    words = typed.split(" ")
    return 2 <= len(words) <= 3 and " " not in expected and words[0] == expected


def _is_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isascii() for ch in letters)


# The official Ukrainian transliteration (Cabinet of Ministers resolution No. 55, 2010):
# є, ї, й, ю, я are written ye, yi, y, yu, ya at the start of a word and ie, i, i, iu, ia
# elsewhere; зг is zgh; the soft sign and the apostrophe are left out.
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia",
}  # fmt: skip
_AT_START = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def transliterations(surname: str) -> set[str]:
    """A Cyrillic surname (normalized) in Latin letters: the official spelling, and the
    common ones of passports issued before it: g for г (Grygorenko), h for х (Homych), y
    or i for й, ю, я, є, ї wherever they stand (Oliynyk, Ryabchenko, Iaroshenko), -sky or
    -skiy for -ський. A hyphen and a space are one."""
    spelled = {
        _spelled(surname, g, kh, mode)
        for g in ("h", "g")
        for kh in ("kh", "h")
        for mode in ("official", "y", "i")
    }
    endings = {
        word.removesuffix("skyi") + other
        for word in spelled
        if word.endswith("skyi")
        for other in ("sky", "skiy", "ski", "skii", "skyy")
    }
    return {word.replace("-", " ") for word in spelled | endings}


def _spelled(surname: str, g: str, kh: str, mode: str) -> str:
    letters = []
    for i, ch in enumerate(surname):
        start = i == 0 or surname[i - 1] in " -"
        if ch in _AT_START and (mode == "y" or (start and mode == "official")):
            letters.append(_AT_START[ch])
        elif ch == "г":
            letters.append("gh" if i and surname[i - 1] == "з" and g == "h" else g)
        elif ch == "х":
            letters.append(kh)
        else:
            letters.append(_TRANSLIT.get(ch, ch))
    return "".join(letters)


def normalize_phone_digits(text: str) -> str:
    """The digits of a phone number, with Ukrainian national forms made international.

    ``"050 123 45 67"`` and ``"+380 50 123 45 67"`` both give ``"380501234567"``; the old
    long-distance form ``"8 050 …"`` does too. Other numbers keep their digits.
    """
    digits = "".join(ch for ch in text if ch in _ASCII_DIGITS)
    if len(digits) == 10 and digits.startswith("0"):
        return "38" + digits
    if len(digits) == 11 and digits.startswith("80"):
        return "3" + digits
    return digits
