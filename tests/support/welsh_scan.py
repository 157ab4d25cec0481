"""Checking that what the bot sent a Welsh reader has no English in it: every text, caption and
button of the calls it made to the chats asked about (and every callback answer), against each
catalog message's English that its Welsh does not also contain."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

from standin import BotApiStandIn
from texts import catalog

SENDING = {"sendMessage", "editMessageText", "answerCallbackQuery", "sendPhoto", "sendDocument"}
# English dates and one-word outcomes, too short for the catalog runs ("rent" is also Welsh:
# "ychwanegwch rent", the soft mutation of "rhent").
ENGLISH_WORDS = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
    r"April|June|July|August|September|October|November|December|missed|late|on time)\b"
    r"|\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b"
)


def _english_fragments() -> list[str]:
    """Long-enough literal runs of each English message that its Welsh doesn't also contain
    (names, numbers and the like are in placeholders, so not in the runs)."""
    welsh = catalog.read("cy")
    runs: set[str] = set()
    for message in welsh:
        if not message.id or not message.string or message.string == message.id:
            continue
        for literal, *_ in string.Formatter().parse(str(message.id)):
            for part in re.split(r"\n+", literal):
                part = part.strip(" .,:;—•()")
                if len(part) >= 14 and part not in str(message.string):
                    runs.add(part)
    return sorted(runs, key=len, reverse=True)


ENGLISH = _english_fragments()


def texts_of(call: Any) -> Iterator[str]:
    """The text or caption of a Bot API call and its buttons' labels."""
    for key in ("text", "caption"):
        if isinstance(call.params.get(key), str):
            yield call.params[key]
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) + markup.get("keyboard", []):
        for button in row:
            yield button["text"] if isinstance(button, dict) else str(button)


def assert_no_english(
    standin: BotApiStandIn,
    since: int,
    *chats: int,
    until: int | None = None,
    words: bool = False,
) -> int:
    """Every text the bot sent `chats` (all chats when none are named) between the marks, and
    every callback answer, has no English run from the catalog (and, with `words`, no English
    date or outcome word); how many texts were checked."""
    checked = 0
    for call in standin.calls[since:until]:
        if call.method not in SENDING:
            continue
        if call.method != "answerCallbackQuery":
            chat = call.params.get("chat_id")
            if chats and chat is not None and int(chat) not in chats:
                continue
        for text in texts_of(call):
            leaked = [run for run in ENGLISH if run in text]
            if words:
                leaked += [m.group(0) for m in ENGLISH_WORDS.finditer(text)]
            assert not leaked, f"English in a Welsh reply ({call.method}): {leaked[:3]}\n{text}"
            checked += 1
    return checked
