"""/boost: add rent and council tax to the score, and the buttons that go with it (invite a
landlord, letting agent or council; Confirm / Dispute a late or missed payment one reported).
Logic lives in services.boost; wording in texts.boost."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_button, registered_only
from handlers.ui import edit_in_place
from services.boost import CONFIRM_DAYS, ROLES, BoostError, BoostScreen
from services.callbacks import BOOST
from storage.statuses import BoostReviewStatus
from texts import boost as words

__all__ = ["OPEN_BOOST", "on_button", "show_boost"]

OPEN_BOOST = BOOST.encode("open")

MAX_ROW_BUTTONS = 6
"""Remove / Cancel buttons shown at most (invitations are capped at MAX_OPEN_INVITES anyway)."""


def screen_markup(screen: BoostScreen) -> InlineKeyboardMarkup:
    """Invite buttons, then Remove per partner signed up through Boost and Cancel per
    invitation still waiting."""
    rows = [
        [InlineKeyboardButton(words.INVITE_BUTTONS[role], callback_data=BOOST.encode("inv", role))]
        for role in ROLES
    ]
    rows += [
        [
            InlineKeyboardButton(
                words.remove_button(p.name), callback_data=BOOST.encode("rm", p.partner_id)
            )
        ]
        for p in screen.partners[:MAX_ROW_BUTTONS]
    ]
    rows += [
        [
            InlineKeyboardButton(
                words.cancel_invite_button(i.role, i.expires_on),
                callback_data=BOOST.encode("cx", i.id),
            )
        ]
        for i in screen.invites[:MAX_ROW_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows)


def confirm_markup(partner_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    words.REMOVE_YES_BUTTON, callback_data=BOOST.encode("rmy", partner_id)
                ),
                InlineKeyboardButton(
                    words.REMOVE_NO_BUTTON, callback_data=BOOST.encode("rmn", partner_id)
                ),
            ]
        ]
    )


async def _send_screen(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    screen = await context.services.boost.screen(user.id)
    await context.bot.send_message(
        user.id, words.boost_text(screen, CONFIRM_DAYS), reply_markup=screen_markup(screen)
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
    if press.action in ("rm", "rmy", "rmn", "cx"):
        await _on_removal(update, context, press.action, press.number)
        return
    try:
        answer = await boost.answer(user.id, press.number, press.action)
    except BoostError as refused:
        await query.answer(str(refused), show_alert=True)
        return
    await query.answer()
    say = words.confirmed if answer.status is BoostReviewStatus.CONFIRMED else words.disputed
    await edit_in_place(update, say(answer.partner, answer.kind, answer.due_on, answer.outcome))


async def _on_removal(update: Update, context: BotContext, action: str, number: int) -> None:
    """Remove a partner (ask, then Yes / No) or cancel a waiting invitation. A button whose
    partner or invitation is gone says so in an alert and changes nothing."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    boost = context.services.boost
    try:
        if action == "rm":
            partner = await boost.removal(user.id, number)
            await query.answer()
            await context.bot.send_message(
                user.id,
                words.confirm_remove(partner.name, partner.role),
                reply_markup=confirm_markup(partner.partner_id),
            )
        elif action == "rmy":
            partner = await boost.revoke(user.id, number)
            await query.answer()
            await edit_in_place(update, words.removed(partner.name, partner.role))
        elif action == "rmn":
            partner = await boost.removal(user.id, number)
            await query.answer()
            await edit_in_place(update, words.kept(partner.name, partner.role))
        else:
            role = await boost.cancel_invite(user.id, number)
            await query.answer()
            await edit_in_place(update, words.invite_cancelled(role))
    except BoostError as refused:
        await query.answer(str(refused), show_alert=True)
