"""Stored HTML in a family card (issue 17, 1): what a person wrote is shown as text.

``escape_text`` is checked against a CommonMark renderer with raw HTML on (as Gradio's
Markdown has it): whatever the text, the rendering is one paragraph holding exactly that text,
with no element, link or image. The card's previous decisions go through it.
"""

from __future__ import annotations

import html
import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from review_app import _card as card
from review_app._text import escape_text

ATTACKS = [
    '<form action="http://127.0.0.1:9/x"><input type="password" name="p">'
    "<button>Войти</button></form>",
    "![x](http://127.0.0.1:9/img.png)",
    "<img src=http://127.0.0.1:9/i.png>",
    "[click](javascript:alert(1))",
    "<http://127.0.0.1:9/auto> and <a@b.example>",
    "[ref]\n\n[ref]: http://127.0.0.1:9/r",
    "# heading\n- item\n> quote\n| a | b |\n|---|---|",
    "**bold** _it_ `code` ~~gone~~ $$x^2$$ &amp; &#60;b&#62; \\<b>",
    "<script>alert(1)</script><iframe src=//x></iframe><svg onload=alert(1)>",
]

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")


def _rendered(text: str) -> str:
    return _MD.render(escape_text(text))


def _shown(text: str) -> str:
    """What a person writes, as the card should show it: the same text on one line."""
    return " ".join(text.split())


def _check(text: str) -> None:
    out = _rendered(text)
    tags = {m.group(2).lower() for m in _TAG.finditer(out)}
    assert tags <= {"p"}, (text, out)
    inner = out.strip().removeprefix("<p>").removesuffix("</p>")
    assert " ".join(html.unescape(inner).split()) == _shown(text), (text, out)


def test_attacks_render_as_their_own_text() -> None:
    for text in ATTACKS:
        _check(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\r\t"
        ),
        min_size=1,
    )
)
def test_any_text_renders_as_itself_and_nothing_else(text: str) -> None:
    if not text.split():
        return  # blank text renders as nothing
    _check(text)


def test_no_url_survives_for_an_autolinker() -> None:
    # GFM's extended autolinks (what marked does on bare URLs) need "http://", "www." or an
    # "@" between name characters in the source: escaping breaks each of them.
    escaped = escape_text("see http://127.0.0.1:9/x, www.example.com, mail a@b.example")
    for needle in ("http://", "www.", "a@b"):
        assert needle not in escaped


def test_previous_decisions_show_rationale_services_and_user_as_text() -> None:
    decisions = pd.DataFrame(
        {
            "decided_at": [pd.Timestamp("2025-07-01 10:00")],
            "user": ["<b>anna</b>"],
            "decision": ["support_offered"],
            "agrees_with_model": [True],
            "services_offered": [["nvg-001", "![s](http://127.0.0.1:9/s.png)"]],
            "rationale": [" ".join(ATTACKS[:3])],
        }
    )
    block = card.decisions_block(decisions, "en", {"nvg-001": "<i>Parenting</i> school"})
    out = _MD.render(block)
    tags = {m.group(2).lower() for m in _TAG.finditer(out)}
    assert tags <= {"h3", "ul", "li", "strong", "p"}, out
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    for shown in (
        "<b>anna</b>",
        "<i>Parenting</i> school",
        "![s](http://127.0.0.1:9/s.png)",
        _shown(" ".join(ATTACKS[:3])),
    ):
        assert shown in text
