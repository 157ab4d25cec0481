"""Telegram edge: one module per feature; `register` adds every handler in one ordered list."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

import texts.common as texts
from handlers import (
    boost,
    chats,
    common,
    data_rights,
    disputes,
    errors,
    friends,
    growth,
    language,
    loans,
    ni_claims,
    offers,
    payment_plans,
    privacy,
    registration,
    score,
    share,
)
from handlers.context import BotContext
from services import callbacks as cb
from services.loans import FLOW as LOAN_FLOW
from services.ni_claims import FLOW as NI_CLAIM_FLOW
from texts import i18n


async def on_text(update: Update, context: BotContext) -> None:
    """Plain text belongs to whatever conversation the person is in, else gets a hint."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    dialog = await context.services.dialogs.get(user.id)
    if dialog is not None and dialog.flow == "registration":
        await registration.on_registration_text(update, context, dialog)
    elif dialog is not None and dialog.flow == LOAN_FLOW:
        await loans.on_loan_text(update, context, dialog)
    elif dialog is not None and dialog.flow == disputes.DISPUTE_FLOW:
        await disputes.on_dispute_text(update, context, dialog)
    elif dialog is not None and dialog.flow == disputes.REVIEW_FLOW:
        await disputes.on_review_text(update, context, dialog)
    elif dialog is not None and dialog.flow == payment_plans.PLAN_REVIEW_FLOW:
        await payment_plans.on_review_text(update, context, dialog)
    elif dialog is not None and dialog.flow == NI_CLAIM_FLOW:
        await ni_claims.on_claim_text(update, context, dialog)
    elif dialog is not None and dialog.flow == ni_claims.REVIEW_FLOW:
        await ni_claims.on_review_text(update, context, dialog)
    elif await context.services.registration.is_registered(user.id):
        await message.reply_text(texts.UNKNOWN_TEXT)
    else:
        await message.reply_text(texts.NOT_REGISTERED)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Order matters: within a group the first matching handler wins, so specific before general.
    # The reader's language first, so everything after (even a refusal) is worded in it.
    app.add_handler(TypeHandler(Update, language.set_reader_language), group=-3)
    app.add_handler(TypeHandler(Update, common.drop_redelivered_update), group=-2)
    # Then nothing outside a private chat, and no edited message, reaches a feature.
    app.add_handler(TypeHandler(Update, chats.keep_to_private_chats), group=-1)
    private = filters.ChatType.PRIVATE
    app.add_handlers(
        [
            CommandHandler("start", registration.start, filters=private),
            CommandHandler("help", common.show_help),
            CommandHandler("cancel", common.cancel),
            CommandHandler("score", score.show_score),
            CommandHandler("why", score.show_why),
            CommandHandler("history", score.show_history),
            CommandHandler("benefits", score.show_benefits),
            CommandHandler("invite", friends.show_invite),
            CommandHandler("friends", friends.show_friends),
            CommandHandler("compare", friends.show_compare),
            CommandHandler("leaderboard", friends.show_leaderboard),
            CommandHandler("contest", growth.show_contest),
            CommandHandler("loan", loans.start_loan),
            CommandHandler("loans", loans.show_loans),
            CommandHandler("debthelp", payment_plans.show_debt_help),
            CommandHandler("offers", offers.show_offers),
            CommandHandler("settings", privacy.show_settings),
            CommandHandler("share", share.show_share),
            CommandHandler("mydata", data_rights.send_my_data),
            CommandHandler("delete", data_rights.start_delete),
            CommandHandler("dispute", disputes.start_dispute),
            CommandHandler("review", disputes.show_review),
            CommandHandler("reportni", ni_claims.start_report, filters=private),
            CommandHandler("nireply", ni_claims.start_reply, filters=private),
            CommandHandler("boost", boost.show_boost),
            CommandHandler("language", language.show_language),
            CallbackQueryHandler(
                registration.consent, pattern=cb.REGISTRATION.action_pattern("consent")
            ),
            CallbackQueryHandler(
                registration.skip_postcode, pattern=cb.REGISTRATION.action_pattern("postcode")
            ),
            CallbackQueryHandler(score.on_button, pattern=cb.SCORE.pattern),
            CallbackQueryHandler(score.on_what_if, pattern=cb.WHAT_IF.pattern),
            CallbackQueryHandler(friends.on_request_button, pattern=cb.FRIEND_REQUEST.pattern),
            CallbackQueryHandler(friends.on_list_button, pattern=cb.FRIEND_LIST.pattern),
            CallbackQueryHandler(friends.on_pick_button, pattern=cb.FRIEND_PICK.pattern),
            CallbackQueryHandler(friends.on_compare_button, pattern=cb.COMPARE.pattern),
            CallbackQueryHandler(friends.on_invite_button, pattern=cb.INVITE.pattern),
            CallbackQueryHandler(privacy.on_button, pattern=privacy.SETTINGS.pattern),
            CallbackQueryHandler(loans.on_application_button, pattern=cb.LOAN.pattern),
            CallbackQueryHandler(loans.on_pay_button, pattern=cb.LOAN_PAY.pattern),
            CallbackQueryHandler(payment_plans.on_plan_button, pattern=cb.PAYMENT_PLAN.pattern),
            CallbackQueryHandler(payment_plans.on_review_button, pattern=cb.PLAN_REVIEW.pattern),
            CallbackQueryHandler(loans.on_settle_button, pattern=cb.LOAN_SETTLE.pattern),
            CallbackQueryHandler(offers.on_redeem, pattern=cb.OFFERS.action_pattern("r")),
            CallbackQueryHandler(offers.on_stop, pattern=cb.OFFERS.action_pattern("stop")),
            CallbackQueryHandler(offers.on_opt_button, pattern=cb.OFFERS.action_pattern("opt")),
            CallbackQueryHandler(offers.on_page_button, pattern=cb.OFFERS.action_pattern("p")),
            CallbackQueryHandler(share.on_button, pattern=cb.SHARE.pattern),
            CallbackQueryHandler(language.on_button, pattern=language.LANGUAGE.pattern),
            CallbackQueryHandler(data_rights.on_button, pattern=cb.DELETE.pattern),
            CallbackQueryHandler(disputes.on_button, pattern=cb.DISPUTE.pattern),
            CallbackQueryHandler(disputes.on_review_button, pattern=cb.REVIEW.pattern),
            CallbackQueryHandler(ni_claims.on_button, pattern=cb.NI_CLAIM.pattern),
            CallbackQueryHandler(ni_claims.on_review_button, pattern=cb.NI_REVIEW.pattern),
            CallbackQueryHandler(growth.on_stop, pattern=cb.GROWTH.pattern),
            CallbackQueryHandler(growth.on_contest_button, pattern=cb.CONTEST.pattern),
            CallbackQueryHandler(boost.on_button, pattern=cb.BOOST.pattern),
            # Payments: Telegram's check before charging, then the receipt (never plain text).
            PreCheckoutQueryHandler(loans.on_pre_checkout),
            MessageHandler(filters.SUCCESSFUL_PAYMENT & private, loans.on_successful_payment),
            MessageHandler(filters.StatusUpdate.USERS_SHARED & private, friends.on_users_shared),
            # The friend picker's "Not now" key, before general text (which it would otherwise be).
            MessageHandler(
                filters.Text(i18n.both(friends.NOT_NOW)) & private, friends.close_picker
            ),
            MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text),
            # A photo or file: an NI-number report's document at that step, else as below.
            MessageHandler((filters.PHOTO | filters.Document.ALL) & private, ni_claims.on_file),
            # Stickers, photos, voice, locations...: a prompt for what the step needs.
            MessageHandler(
                filters.UpdateType.MESSAGE & private & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                chats.on_not_text,
            ),
            MessageHandler(filters.COMMAND, common.unknown_command),
            CallbackQueryHandler(common.stale_button),
        ]
    )
    app.add_error_handler(errors.on_error)
