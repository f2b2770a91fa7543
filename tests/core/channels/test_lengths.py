"""Replies too long for a platform go as several messages, the buttons with the last."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pokaznyk_core.channels.lengths import TEXT_LIMITS, fit, text_length
from pokaznyk_core.dialog.messages import Button, Reply

MENU = ((Button("Меню", "menu"),),)


def test_a_reply_within_the_limit_is_left_as_it_is() -> None:
    reply = Reply(text="Квитанція ACDEFHJKM: прийнято", buttons=MENU)
    assert fit("messenger", [reply]) == [reply]
    assert fit("ivr", [Reply(text="x" * 10_000)]) == [Reply(text="x" * 10_000)]


def test_a_long_messenger_reply_is_cut_between_paragraphs_with_the_buttons_last() -> None:
    lines = ["Показник: 1234,5"] * 60
    accounts = ["\n".join([f"Рахунок 000000000{n}", *lines]) for n in range(4)]
    reply = Reply(text="\n\n".join(accounts), buttons=MENU, locale="uk")

    parts = fit("messenger", [reply])

    assert len(parts) > 1
    assert all(text_length(p.text) <= TEXT_LIMITS["messenger"] for p in parts)
    assert [p.buttons for p in parts] == [()] * (len(parts) - 1) + [MENU]
    assert all(p.text.startswith("Рахунок") for p in parts)  # whole paragraphs
    assert "\n\n".join(p.text for p in parts) == reply.text


@given(st.text(min_size=1, max_size=9000), st.sampled_from(sorted(TEXT_LIMITS)))
def test_every_part_fits_and_no_word_is_lost(text: str, channel: str) -> None:
    parts = fit(channel, [Reply(text=text, buttons=MENU)])
    assert all(text_length(p.text) <= TEXT_LIMITS[channel] for p in parts)
    assert "".join("".join(p.text.split()) for p in parts) == "".join(text.split())
    assert parts[-1].buttons == MENU
