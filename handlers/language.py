"""The reader's language: set for every update, and /language (and its /settings button) to
change it. Wording in texts.language; the machinery in texts.i18n."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.ui import edit_in_place
from services.callbacks import Arg, BadCallback, Codec
from texts import i18n
from texts import language as words

LANGUAGE = Codec("lang", {"open": Arg.NONE, "set": Arg.WORD})
"""`lang:open` shows the choice; `lang:set:<cy|en>` sets it (a replayed press sets it again)."""

_NAMES = {i18n.ENGLISH: words.ENGLISH_NAME, i18n.WELSH: words.WELSH_NAME}


async def set_reader_language(update: Update, context: BotContext) -> None:
    """Runs first for every update: what follows is worded in this person's language."""
    user = update.effective_user
    if user is None:
        i18n.LANGUAGE.set(i18n.ENGLISH)
        return
    language = await context.services.languages.for_update(user.id, user.language_code)
    i18n.LANGUAGE.set(language)


def name_of(language: str) -> str:
    # Each language's name in its own language (never translated).
    return str.__str__(_NAMES[language])


def choice_screen() -> tuple[str, InlineKeyboardMarkup]:
    current = i18n.current()
    buttons = [
        InlineKeyboardButton(
            ("✓ " if language == current else "") + name_of(language),
            callback_data=LANGUAGE.encode("set", language),
        )
        for language in i18n.LANGUAGES
    ]
    return words.CHOOSE.format(current=name_of(current)), InlineKeyboardMarkup([buttons])


def settings_button() -> InlineKeyboardButton:
    """The row /settings adds: opens the language choice."""
    return InlineKeyboardButton(
        words.SETTINGS_BUTTON.format(current=name_of(i18n.current())),
        callback_data=LANGUAGE.encode("open"),
    )


async def show_language(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    text, markup = choice_screen()
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = LANGUAGE.decode(query.data)
    if press.action == "open":
        await query.answer()
        text, markup = choice_screen()
        await context.bot.send_message(user.id, text, reply_markup=markup)
        return
    if press.argument not in i18n.LANGUAGES:
        raise BadCallback(f"no language {press.argument!r}")
    language = await context.services.languages.choose(user.id, str(press.argument))
    i18n.LANGUAGE.set(language)  # the answer is already in the new language
    await query.answer()
    await edit_in_place(update, words.SWITCHED)
