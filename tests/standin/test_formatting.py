"""parse_mode handling: users see plain text; malformed markup is refused like Telegram does."""

from __future__ import annotations

from typing import Any

import pytest

from standin import FormattingError, parse_formatted


@pytest.mark.parametrize(
    ("text", "mode", "plain", "entities"),
    [
        ("<b>Bold</b> &amp; <i>it</i>", "HTML", "Bold & it", [("bold", 0, 4), ("italic", 7, 2)]),
        ("a &lt;b&gt; &#8364;5 & co", "HTML", "a <b> €5 & co", []),
        ('<a href="https://x.org/?a=1&amp;b=2">link</a>', "HTML", "link", [("text_link", 0, 4)]),
        ("<tg-spoiler>s</tg-spoiler>", "html", "s", [("spoiler", 0, 1)]),
        ("😀 <b>x</b>", "HTML", "😀 x", [("bold", 3, 1)]),  # offsets count UTF-16 units
        ("  <b>trimmed</b>\n\n", "HTML", "trimmed", [("bold", 0, 7)]),
        (
            "*b* _i_ __u__ ~s~ ||p||",
            "MarkdownV2",
            "b i u s p",
            [
                ("bold", 0, 1),
                ("italic", 2, 1),
                ("underline", 4, 1),
                ("strikethrough", 6, 1),
                ("spoiler", 8, 1),
            ],
        ),
        ("Score: 7\\.5 \\(fair\\)", "MarkdownV2", "Score: 7.5 (fair)", []),
        ("`a.b` ```py\nx = 1```", "MarkdownV2", "a.b x = 1", [("code", 0, 3), ("pre", 4, 5)]),
        ("[site](https://x.org/a\\)b)", "MarkdownV2", "site", [("text_link", 0, 4)]),
        (">quoted\nplain", "MarkdownV2", "quoted\nplain", [("blockquote", 0, 6)]),
        ("*bold* and _it_ a.b", "Markdown", "bold and it a.b", [("bold", 0, 4), ("italic", 9, 2)]),
        ("no <b>markup</b>", None, "no <b>markup</b>", []),
    ],
)
def test_parse_formatted(
    text: str, mode: str | None, plain: str, entities: list[tuple[str, int, int]]
) -> None:
    got_text, got_entities = parse_formatted(text, mode)
    assert got_text == plain
    assert [(e["type"], e["offset"], e["length"]) for e in got_entities] == entities


def test_link_and_language_details() -> None:
    _, entities = parse_formatted('<a href="https://x.org/?a=1&amp;b=2">l</a>', "HTML")
    assert entities[0]["url"] == "https://x.org/?a=1&b=2"
    _, entities = parse_formatted('<pre><code class="language-python">x</code></pre>', "HTML")
    assert entities == [{"type": "pre", "offset": 0, "length": 1, "language": "python"}]
    _, entities = parse_formatted("[x](https://x.org/a\\)b)", "MarkdownV2")
    assert entities[0]["url"] == "https://x.org/a)b"


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("1 < 2", "HTML", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", "HTML", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "HTML", 'expected "</b>", found "</i>"'),
        ("x</b>", "HTML", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", "HTML", 'Tag "span" must have class "tg-spoiler"'),
        ("Score: 7.5", "MarkdownV2", "Character '.' is reserved"),
        ("é *bold", "MarkdownV2", "Can't find end of Bold entity at byte offset 3"),
        ("*unclosed", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_malformed_markup_is_refused(text: str, mode: str, error: str) -> None:
    with pytest.raises(FormattingError) as caught:
        parse_formatted(text, mode)
    assert str(caught.value).startswith("can't parse entities: ")
    assert error in str(caught.value)


def test_explicit_entities_win_over_parse_mode() -> None:
    given: list[dict[str, Any]] = [{"type": "bold", "offset": 0, "length": 3}]
    assert parse_formatted("<b>", "HTML", given) == ("<b>", given)


def test_unknown_parse_mode() -> None:
    with pytest.raises(FormattingError, match="unsupported parse_mode"):
        parse_formatted("x", "BBCode")
