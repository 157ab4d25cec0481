"""/boost: add rent and council tax to the score, and the buttons that go with it (invite a
landlord, letting agent or council; Confirm / Dispute a late or missed payment one reported).
Logic lives in services.boost; wording in texts.boost."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_button, registered_only
from handlers.ui import edit_in_place
from services.boost import CONFIRM_DAYS, ROLES, BoostError
from services.callbacks import BOOST
from storage.statuses import BoostReviewStatus
from texts import boost as words

__all__ = ["OPEN_BOOST", "on_button", "show_boost"]

OPEN_BOOST = BOOST.encode("open")

INVITE_MARKUP = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton(words.INVITE_BUTTONS[role], callback_data=BOOST.encode("inv", role))]
        for role in ROLES
    ]
)


async def _send_screen(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    screen = await context.services.boost.screen(user.id)
    await context.bot.send_message(
        user.id, words.boost_text(screen, CONFIRM_DAYS), reply_markup=INVITE_MARKUP
    )


@registered_only
async def show_boost(update: Update, context: BotContext) -> None:
    await _send_screen(update, context)


@registered_button
async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = BOOST.decode(query.data)
    boost = context.services.boost
    if press.action == "open":
        await query.answer()
        await _send_screen(update, context)
        return
    if press.action == "inv":
        try:
            invitation = await boost.invite(user.id, press.word)
        except BoostError as refused:
            await query.answer()
            await context.bot.send_message(user.id, str(refused))
            return
        await query.answer()
        await context.bot.send_message(
            user.id, words.invite_text(invitation.role, invitation.url, invitation.expires_on)
        )
        return
    try:
        answer = await boost.answer(user.id, press.number, press.action)
    except BoostError as refused:
        await query.answer(str(refused), show_alert=True)
        return
    await query.answer()
    say = words.confirmed if answer.status is BoostReviewStatus.CONFIRMED else words.disputed
    await edit_in_place(update, say(answer.partner, answer.kind, answer.due_on, answer.outcome))
