"""/share: a one-time code for a third party (one yes/no answer by default, the score only if
the citizen presses "Share my score instead"), who has asked or looked, blocking a partner for
good, and the Allow / Deny / Block buttons on a partner's request. Logic lives in
services.sharing."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import SHARE
from services.sharing import ALLOW, BLOCK, PartnerChoices
from texts import share_ui as words
from texts.share import share_text

__all__ = ["on_button", "show_share"]

NEW_CODE = SHARE.encode("new")
SCORE_CODE = SHARE.encode("score")


MAX_PARTNER_BUTTONS = 6


def _markup(choices: PartnerChoices, *, shares_score: bool = False) -> InlineKeyboardMarkup:
    """New code, Share my score instead (unless this code already does), then a Block button
    per partner in touch and an Unblock per blocked one."""
    rows = [[InlineKeyboardButton(words.NEW_CODE_BUTTON, callback_data=NEW_CODE)]]
    if not shares_score:
        rows.append([InlineKeyboardButton(words.SHARE_SCORE_BUTTON, callback_data=SCORE_CODE)])
    rows += [
        [InlineKeyboardButton(words.block_button(name), callback_data=SHARE.encode("bp", pid))]
        for pid, name in choices.can_block[:MAX_PARTNER_BUTTONS]
    ]
    rows += [
        [InlineKeyboardButton(words.unblock_button(name), callback_data=SHARE.encode("ub", pid))]
        for pid, name in choices.blocked[:MAX_PARTNER_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows)


async def _screen(
    context: BotContext, telegram_id: int, *, share_score: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    sharing = context.services.sharing
    code = await sharing.new_code(telegram_id, share_score=share_score)
    log = await sharing.access_log(telegram_id)
    choices = await sharing.partners(telegram_id)
    text = share_text(code, log, context.timezone) + words.blocked_line(
        [name for _, name in choices.blocked]
    )
    return text, _markup(choices, shares_score=code.shares_score)


@registered_only
async def show_share(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    text, markup = await _screen(context, user.id)
    await message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    sharing = context.services.sharing
    press = SHARE.decode(query.data)
    if press.action in ("new", "score"):
        share_score = press.action == "score"
        text, markup = await _screen(context, user.id, share_score=share_score)
        await query.answer(words.SCORE_CODE_MADE if share_score else words.NEW_CODE_MADE)
        await edit_in_place(update, text, markup)
        return
    if press.action in ("bp", "ub"):
        # Blocking or unblocking leaves the live code alone (only "Make a new code" retires
        # it), so the screen becomes the list of partners rather than a fresh code.
        if press.action == "bp":
            toast = words.blocked_toast(await sharing.block_partner(user.id, press.number))
        else:
            toast = words.unblocked_toast(await sharing.unblock_partner(user.id, press.number))
        choices = await sharing.partners(user.id)
        await query.answer(toast)
        await edit_in_place(
            update, words.partners_text([name for _, name in choices.blocked]), _markup(choices)
        )
        return
    allow = press.action == ALLOW
    block = press.action == BLOCK
    answered = await sharing.answer_request(user.id, press.number, allow, block=block)
    await query.answer()
    if allow:
        await edit_in_place(update, words.allowed_text(answered.partner, answered.check))
    elif block:
        await edit_in_place(update, words.blocked_text(answered.partner))
    else:
        await edit_in_place(update, words.denied_text(answered.partner))
