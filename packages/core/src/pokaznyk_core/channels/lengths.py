"""Each platform's longest message, and replies cut to fit it.

A platform refuses a message over its limit (Messenger answers `(#100) Length of param
message[text] must be less than or equal to 2000`), and a refused message never reaches
the customer. A reply that long (the latest readings and bills of many accounts) goes as
several messages instead, cut between paragraphs, else between lines, else anywhere; the
buttons go with the last, which is the one the customer answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Final

from pokaznyk_core.dialog.messages import Reply

TEXT_LIMITS: Final = {"telegram": 4096, "viber": 7000, "messenger": 2000}
"""The longest text each chat platform takes in one message, in UTF-16 code units (an
emoji counts two), which is how Telegram counts and no more than the others do."""


def text_length(text: str) -> int:
    """The length of `text` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit`, cut at the last paragraph, line or space that
    keeps a piece within it (anywhere when none does)."""
    pieces: list[str] = []
    rest = text
    while text_length(rest) > limit:
        head = rest[:limit]
        while text_length(head) > limit:  # astral characters count two
            head = head[:-1]
        at = max(head.rfind("\n\n"), 0) or max(head.rfind("\n"), 0) or max(head.rfind(" "), 0)
        at = at or len(head)
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


def fit(channel: str, replies: Iterable[Reply]) -> list[Reply]:
    """`replies` as `channel` can deliver them: each one over the platform's limit as
    several, the text cut to fit and the buttons on the last."""
    limit = TEXT_LIMITS.get(channel)
    fitted: list[Reply] = []
    for reply in replies:
        if limit is None or text_length(reply.text) <= limit:
            fitted.append(reply)
            continue
        *first, last = _cut(reply.text, limit)
        bare = Reply(text="", locale=reply.locale)
        fitted += [replace(bare, text=piece) for piece in first]
        fitted.append(replace(reply, text=last))
    return fitted
