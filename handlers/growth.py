"""Growth outreach in the chat (issue 19): the Stop button on every growth ask, and /contest.

Callback data (services/callbacks.py):

    grow:stop          Stop these messages: turn the "Help Britizen grow" opt-in off and cancel
                       what is still queued. Acts on the presser's own account only, so a stale
                       copy works too; chats.keep_to_private_chats already refuses a press
                       outside its owner's private chat.
    cst:show           the /contest screen (from /settings)
    cst:jl|ju:<id>     join contest <id>, listed on its board or not
    cst:ls|hd:<id>     show or hide one's name on contest <id>'s board

Contest buttons carry the contest id: one from a contest that has ended changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_button, registered_only
from handlers.ui import edit_in_place
from services.callbacks import CONTEST, GROWTH, BadCallback
from services.contests import ContestOver, ContestView
from texts import growth_outreach as words

SETTINGS_OPEN_DATA = "set:open"
"""handlers.privacy's `set:open` (not imported: privacy imports this module's button)."""


def contest_button() -> InlineKeyboardButton:
    """The row /settings shows to reach /contest."""
    return InlineKeyboardButton(words.CONTEST_BUTTON, callback_data=CONTEST.encode("show"))


@registered_button
async def on_stop(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    GROWTH.decode(query.data)
    result = await context.services.growth.set_opt_in(user.id, False)
    await query.answer(words.STOPPED_TOAST)
    text = words.stopped(result.cancelled) if result.changed else words.ALREADY_STOPPED
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(words.SETTINGS_BUTTON, callback_data=SETTINGS_OPEN_DATA)]]
    )
    await context.bot.send_message(user.id, text, reply_markup=markup)


# --------------------------------------------------------------------------------------------
# /contest


def contest_screen(view: ContestView, context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [words.contest_heading(view.name, view.ends_at, context.timezone), ""]
    lines.append(words.CONTEST_RULES)
    rows: list[list[InlineKeyboardButton]] = []
    if not view.joined:
        lines += ["", words.NOT_JOINED]
        rows.append(
            [
                InlineKeyboardButton(
                    words.JOIN_LISTED_BUTTON, callback_data=CONTEST.encode("jl", view.contest_id)
                ),
                InlineKeyboardButton(
                    words.JOIN_UNLISTED_BUTTON, callback_data=CONTEST.encode("ju", view.contest_id)
                ),
            ]
        )
    else:
        lines += ["", words.your_count(view.my_count)]
        if view.listed:
            lines.append(words.you_are_listed(view.display_name))
            button = InlineKeyboardButton(
                words.HIDE_ME_BUTTON, callback_data=CONTEST.encode("hd", view.contest_id)
            )
        else:
            lines.append(words.YOU_ARE_UNLISTED)
            button = InlineKeyboardButton(
                words.SHOW_ME_BUTTON, callback_data=CONTEST.encode("ls", view.contest_id)
            )
        rows.append([button])
    lines += ["", words.board(view.board)]
    return "\n".join(map(str, lines)), InlineKeyboardMarkup(rows)


@registered_only
async def show_contest(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    view = await context.services.contests.view(update.effective_user.id)
    if view is None:
        await update.effective_message.reply_text(words.NO_CONTEST)
        return
    text, markup = contest_screen(view, context)
    await update.effective_message.reply_text(text, reply_markup=markup)


@registered_button
async def on_contest_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = CONTEST.decode(query.data)
    contests = context.services.contests
    if press.action == "show":
        view = await contests.view(user.id)
        await query.answer()
        if view is None:
            await context.bot.send_message(user.id, words.NO_CONTEST)
        else:
            text, markup = contest_screen(view, context)
            await context.bot.send_message(user.id, text, reply_markup=markup)
        return
    listed = {"jl": True, "ju": False, "ls": True, "hd": False}.get(press.action)
    if listed is None:
        raise BadCallback(press.action)
    try:
        view = await contests.join(user.id, press.number, listed=listed)
    except ContestOver:
        # A button from a contest that has ended: say so plainly, change nothing.
        await query.answer(words.CONTEST_OVER, show_alert=True)
        return
    if press.action in ("jl", "ju"):
        toast = words.JOINED_TOAST
    else:
        toast = words.LISTED_TOAST if listed else words.UNLISTED_TOAST
    await query.answer(toast)
    await edit_in_place(update, *contest_screen(view, context))
