"""Telegram-style text formatting: ``parse_mode`` parsing into plain text plus entities.

The real Bot API never stores or returns the marked-up text a bot sends: it parses HTML or
MarkdownV2 into plain text and a list of ``MessageEntity`` objects, and it *rejects* malformed
markup with ``400 Bad Request: can't parse entities: ...``. Both behaviours matter for tests:
assertions should look at what a user actually sees (``"Score: 7"``, not ``"<b>Score</b>: 7"``),
and an unescaped ``<`` or ``.`` is a real production bug the stand-in should surface instead of
accepting silently. Error texts follow TDLib's wording so they read like the real thing.

Offsets and lengths of entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FormattingError", "parse_formatted", "utf16_len"]


class FormattingError(ValueError):
    """Markup the Bot API would refuse; ``str(exc)`` is the description after "Bad Request: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of entity offsets)."""
    # Characters outside the BMP take two code units; counting them avoids encoding the string.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Builder:
    """Accumulates plain text and tracks its UTF-16 length as it grows."""

    __slots__ = ("length16", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length16 = 0

    def add(self, chunk: str) -> None:
        if chunk:
            self.parts.append(chunk)
            self.length16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


def _entity(kind: str, start: int, end: int, **extra: Any) -> dict[str, Any] | None:
    if end <= start:  # Telegram silently drops empty entities (e.g. "<b></b>")
        return None
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    entity.update({k: v for k, v in extra.items() if v is not None})
    return entity


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]*")


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    entities: list[dict[str, Any]] = []
    # (tag name, entity type, start offset, attributes, byte offset of the tag)
    stack: list[tuple[str, str, int, dict[str, str], int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            if m is None:
                out.add("&")  # a bare ampersand is kept literally, as Telegram does
                i += 1
                continue
            if m.group(1) is not None or m.group(2) is not None:
                code = int(m.group(1)) if m.group(1) is not None else int(m.group(2), 16)
                out.add(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
            else:
                out.add(_NAMED_ENTITIES[m.group(3)])
            i = m.end()
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue

        tag_offset = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            close = text.find(">", i + 2)
            if close == -1:
                raise FormattingError(f"Unclosed end tag at byte offset {tag_offset}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise FormattingError(f"Unexpected end tag at byte offset {tag_offset}")
            open_name, kind, start, attrs, _ = stack.pop()
            if name != open_name:
                raise FormattingError(
                    f"Unmatched end tag at byte offset {tag_offset}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            entity = _close_html_entity(kind, start, out.length16, attrs)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue

        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {tag_offset}')
        attrs, i = _parse_html_attributes(text, j, name, tag_offset)
        kind = _HTML_TAGS[name]
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise FormattingError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {tag_offset}'
            )
        if name == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        stack.append((name, kind, out.length16, attrs, tag_offset))

    if stack:
        raise FormattingError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), _nest_pre_code(entities)


def _parse_html_attributes(
    text: str, i: int, tag: str, tag_offset: int
) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs up to the closing ``>``; return them and the next index."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise FormattingError(f"Unclosed start tag at byte offset {tag_offset}")
        if text[i] == ">":
            return attrs, i + 1
        if text[i] == "/" and i + 1 < n and text[i + 1] == ">":  # tolerate "<b/>"-ish input
            return attrs, i + 2
        m = _ATTR_NAME_RE.match(text, i)
        assert m is not None  # the pattern matches the empty string
        attr = m.group(0).lower()
        if not attr:
            raise FormattingError(
                f'Empty attribute name in the tag "{tag}" at byte offset {tag_offset}'
            )
        i = m.end()
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            attrs[attr] = ""  # a bare attribute, e.g. <blockquote expandable>
            continue
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end == -1:
                raise FormattingError(f"Unclosed start tag at byte offset {tag_offset}")
            value, i = text[i + 1 : end], end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            value = text[start:i]
        attrs[attr] = _ENTITY_RE.sub(_decode_entity, value)


def _decode_entity(m: re.Match[str]) -> str:
    if m.group(3):
        return _NAMED_ENTITIES[m.group(3)]
    return chr(int(m.group(1)) if m.group(1) else int(m.group(2), 16))


def _close_html_entity(
    kind: str, start: int, end: int, attrs: dict[str, str]
) -> dict[str, Any] | None:
    if kind == "text_link":
        href = attrs.get("href", "")
        if not href:  # <a> without a usable href is plain text in Telegram
            return None
        return _entity("text_link", start, end, url=href)
    if kind == "custom_emoji":
        return _entity("custom_emoji", start, end, custom_emoji_id=attrs.get("emoji-id"))
    if kind == "code":
        cls = attrs.get("class", "")
        language = cls[len("language-") :] if cls.startswith("language-") else None
        # Remember the language so an enclosing <pre> can adopt it (<pre><code class=...>).
        return _entity("code", start, end, _language=language)
    return _entity(kind, start, end)


def _nest_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold ``<pre><code class="language-x">`` into a single ``pre`` entity with a language."""
    pres = [e for e in entities if e["type"] == "pre"]
    result: list[dict[str, Any]] = []
    for e in entities:
        language = e.pop("_language", None)
        if e["type"] == "code":
            outer = next(
                (p for p in pres if p["offset"] == e["offset"] and p["length"] == e["length"]),
                None,
            )
            if outer is not None:
                if language:
                    outer["language"] = language
                continue
        result.append(e)
    return result


# --------------------------------------------------------------------------------------------
# MarkdownV2
# --------------------------------------------------------------------------------------------

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}


def _is_mdv2_end(kind: str, text: str, i: int) -> bool:
    ch = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if kind == "bold":
        return ch == "*"
    if kind == "italic":
        return ch == "_" and nxt != "_"
    if kind == "underline":
        return ch == "_" and nxt == "_"
    if kind == "strikethrough":
        return ch == "~"
    if kind == "spoiler":
        return ch == "|" and nxt == "|"
    if kind in ("text_link", "custom_emoji"):
        return ch == "]"
    if kind == "code":
        return ch == "`"
    if kind == "pre":
        return text.startswith("```", i)
    return False


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    entities: list[dict[str, Any]] = []
    # (entity type, start offset in UTF-16, byte offset of the opening marker, extra fields)
    stack: list[tuple[str, int, int, dict[str, Any]]] = []
    quote_start: int | None = None  # UTF-16 start of the blockquote being built, if any
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        in_code = bool(stack) and stack[-1][0] in ("code", "pre")

        if at_line_start and not in_code:
            if ch == ">":
                if quote_start is None:
                    quote_start = out.length16
                i += 1
                at_line_start = False
                continue
            if quote_start is not None:
                # The quote ends at the previous line break, which stays outside the entity.
                entity = _entity("blockquote", quote_start, out.length16 - 1)
                if entity is not None:
                    entities.append(entity)
                quote_start = None
        at_line_start = False

        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if ch == "\n":
            out.add(ch)
            i += 1
            at_line_start = True
            continue
        reserved = "`" if in_code else _MDV2_RESERVED
        if ch not in reserved:
            out.add(ch)
            i += 1
            continue

        offset = _byte_offset(text, i)
        if stack and _is_mdv2_end(stack[-1][0], text, i):
            kind, start, _, opened_extra = stack.pop()
            i += {"underline": 2, "spoiler": 2, "pre": 3}.get(kind, 1)
            if kind in ("text_link", "custom_emoji"):
                target, i = _read_mdv2_link_target(text, i, kind, offset)
                key = "url" if kind == "text_link" else "custom_emoji_id"
                if kind == "custom_emoji":
                    target = target.removeprefix("tg://emoji?id=")
                opened_extra = {**opened_extra, key: target}
            entity = _entity(kind, start, out.length16, **opened_extra)
            if entity is not None:
                entities.append(entity)
            continue

        nxt = text[i + 1] if i + 1 < n else ""
        extra = {}
        if ch == "_":
            kind, width = ("underline", 2) if nxt == "_" else ("italic", 1)
        elif ch == "*":
            kind, width = "bold", 1
        elif ch == "~":
            kind, width = "strikethrough", 1
        elif ch == "|" and nxt == "|":
            kind, width = "spoiler", 2
        elif ch == "[":
            kind, width = "text_link", 1
        elif ch == "!" and nxt == "[":
            kind, width = "custom_emoji", 2
        elif ch == "`" and text.startswith("```", i):
            kind = "pre"
            line_end = text.find("\n", i + 3)
            header = text[i + 3 : line_end] if line_end != -1 else ""
            # "```python\n" names a language; a first line with spaces or a backtick is content.
            if line_end != -1 and header and not any(c.isspace() or c == "`" for c in header):
                extra["language"] = header
                width = 3 + len(header) + 1
            else:
                width = 3
        elif ch == "`":
            kind, width = "code", 1
        else:
            raise FormattingError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        stack.append((kind, out.length16, offset, extra))
        i += width

    if stack:
        kind, _, offset, _ = stack[-1]
        raise FormattingError(
            f"Can't find end of {_MDV2_NAMES.get(kind, kind)} entity at byte offset {offset}"
        )
    if quote_start is not None:
        entity = _entity("blockquote", quote_start, out.length16)
        if entity is not None:
            entities.append(entity)
    return out.text(), entities


def _read_mdv2_link_target(text: str, i: int, kind: str, offset: int) -> tuple[str, int]:
    if i >= len(text) or text[i] != "(":
        raise FormattingError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}"
        )
    i += 1
    target: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        target.append(text[i])
        i += 1
    if i >= len(text):
        raise FormattingError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}"
        )
    return "".join(target), i + 1


# --------------------------------------------------------------------------------------------
# Legacy Markdown
# --------------------------------------------------------------------------------------------


def _parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        offset = _byte_offset(text, i)
        start = out.length16
        if ch == "[":
            close = text.find("]", i + 1)
            if close == -1 or close + 1 >= n or text[close + 1] != "(":
                raise FormattingError(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            url_end = text.find(")", close + 2)
            if url_end == -1:
                raise FormattingError(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            out.add(text[i + 1 : close])
            entity = _entity("text_link", start, out.length16, url=text[close + 2 : url_end])
            i = url_end + 1
        else:
            marker = "```" if text.startswith("```", i) else ch
            close = text.find(marker, i + len(marker))
            if close == -1:
                raise FormattingError(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            out.add(text[i + len(marker) : close])
            kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[marker]
            entity = _entity(kind, start, out.length16)
            i = close + len(marker)
        if entity is not None:
            entities.append(entity)
    return out.text(), entities


# --------------------------------------------------------------------------------------------


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram does, keeping entities aligned with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for e in entities:
        start = min(max(e["offset"] - lead, 0), new_len)
        end = min(max(e["offset"] + e["length"] - lead, 0), new_len)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


_PARSERS = {
    "html": _parse_html,
    "markdownv2": _parse_markdown_v2,
    "markdown": _parse_markdown_legacy,
}


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` as Telegram would store the message.

    Explicit ``entities`` win over ``parse_mode`` (the Bot API ignores the mode then). Raises
    :class:`FormattingError` for markup Telegram refuses.
    """
    if entities is not None:
        parsed_text, parsed = text, list(entities)
    elif not parse_mode:
        parsed_text, parsed = text, []
    else:
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise FormattingError("unsupported parse_mode")
        try:
            parsed_text, parsed = parser(text)
        except FormattingError as exc:
            raise FormattingError(f"can't parse entities: {exc}") from None
    parsed_text, parsed = _strip(parsed_text, parsed)
    parsed.sort(key=lambda e: (e["offset"], -e["length"]))
    return parsed_text, parsed
