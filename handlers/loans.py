"""/loan (amount, term, a summary to confirm), /loans (what's owed, with a Pay button) and the
Telegram Payments steps behind Pay: the invoice, the pre-checkout check, the successful payment.

The conversation's state is the dialog row kept by ``LoanApplications``; these handlers only read
what the services return and word it. Callback data (all well under 64 bytes) is re-checked
against the presser's own dialog row or loans, so a stale, replayed or forged button is answered
"no longer available" and changes nothing:

    loan:amt:<pence>            an amount (only at the amount step, only one offered now)
    loan:term:<months>          a term (only at the term step)
    loan:ok:<key>  loan:no:<key>    Confirm / Cancel on a summary (the key is in the dialog row)
    loans:pay:<instalment id>   Pay (only the presser's own, only while unpaid)
    settle:all:<instalment id>  Settle in full (the loan of that unpaid instalment, the same way)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update
from telegram.error import TelegramError

import texts.payments as payments
from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.payment_plans import with_plan_buttons
from handlers.ui import edit_in_place
from services.callbacks import LOAN, LOAN_PAY, LOAN_SETTLE
from services.dialogs import Dialog
from services.loan_terms import (
    TERM_CHOICES,
    InvalidAmount,
)
from services.loans import (
    CURRENCY,
    STEP_AMOUNT,
    STEP_CONFIRM,
    STEP_TERM,
    STEP_VERIFY,
    Application,
    BorrowingLocked,
    Eligibility,
    IdentityRequested,
    InstalmentView,
    LoanView,
    NoLongerEligible,
    NotEligible,
    OverLimit,
    PaymentRejected,
    QuoteExpired,
    StaleApplication,
    WrongIdentity,
)
from storage.statuses import RefundStatus
from texts.credit import locked_refusal
from texts.format import money
from texts.loans import (
    APPLICATION_CANCELLED,
    APPLICATION_ENDED,
    ASK_NI_TO_CONFIRM,
    CANCEL_BUTTON,
    CHOOSE_TERM_AGAIN,
    CONFIRM_AGAIN,
    CONFIRM_BUTTON,
    CONFIRMED_TOAST,
    INVOICE_TITLE,
    NO_PAYMENTS,
    QUOTE_MOVED,
    QUOTE_TIMED_OUT,
    SETTLE_INVOICE_LABEL,
    TYPE_NI_TOAST,
    _months,
    amount_refused,
    confirmed_text,
    early_saving_line,
    invoice_description,
    invoice_label,
    loans_text,
    not_made,
    offer_text,
    paid_text,
    pay_label,
    refusal_text,
    settle_invoice_description,
    settle_label,
    settled_text,
    summary_text,
    term_text,
    wrong_ni,
)

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Keyboards


def amount_markup(e: Eligibility) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(money(pence), callback_data=LOAN.encode("amt", pence))
        for pence in e.amount_choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


TERM_MARKUP = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(_months(term), callback_data=LOAN.encode("term", term))
            for term in TERM_CHOICES
        ]
    ]
)


def summary_markup(application: Application) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    CONFIRM_BUTTON, callback_data=LOAN.encode("ok", application.key)
                ),
                InlineKeyboardButton(
                    CANCEL_BUTTON, callback_data=LOAN.encode("no", application.key)
                ),
            ]
        ]
    )


def loans_markup(loans: list[LoanView]) -> InlineKeyboardMarkup | None:
    dues = [
        (loan, loan.next_due) for loan in loans if not loan.repaid and loan.next_due is not None
    ]
    rows = []
    for loan, due in dues:
        assert due is not None
        label = pay_label(due, loan, several=len(dues) > 1)
        rows.append([InlineKeyboardButton(label, callback_data=LOAN_PAY.encode("pay", due.id))])
    rows += settle_rows(dues)
    return InlineKeyboardMarkup(rows) if rows else None


def settle_rows(
    dues: Sequence[tuple[LoanView, InstalmentView | None]],
) -> list[list[InlineKeyboardButton]]:
    """A Settle in full button for each loan with more than one instalment left."""
    rows: list[list[InlineKeyboardButton]] = []
    for loan, due in dues:
        if due is not None and loan.unpaid_count > 1:
            label = settle_label(loan, several=len(dues) > 1)
            rows.append(
                [InlineKeyboardButton(label, callback_data=LOAN_SETTLE.encode("all", due.id))]
            )
    return rows


# --------------------------------------------------------------------------------------------
# /loan


@registered_only
async def start_loan(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    eligibility = await context.services.loan_applications.begin(user.id)
    if not eligibility.can_borrow:
        await message.reply_text(refusal_text(eligibility))
        return
    await message.reply_text(offer_text(eligibility), reply_markup=amount_markup(eligibility))


async def on_loan_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Typed text during /loan: an amount at the amount step, otherwise a nudge to the buttons."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    applications = context.services.loan_applications
    try:
        if dialog.step == STEP_AMOUNT:
            try:
                amount = await applications.type_amount(user.id, message.text)
            except (InvalidAmount, OverLimit) as refusal:
                await message.reply_text(amount_refused(str(refusal)))
                return
            await _ask_term(update, context, amount, edit=False)
        elif dialog.step == STEP_TERM:
            amount = await applications.chosen_amount(user.id)
            await message.reply_text(
                CHOOSE_TERM_AGAIN + term_text(amount, applications.monthly_payments(amount)),
                reply_markup=TERM_MARKUP,
            )
        elif dialog.step == STEP_VERIFY:
            await _verify(update, context)
        elif dialog.step == STEP_CONFIRM:
            application = await applications.pending(user.id)
            await message.reply_text(
                CONFIRM_AGAIN + summary_text(application),
                reply_markup=summary_markup(application),
            )
    except NoLongerEligible as changed:
        await message.reply_text(refusal_text(changed.eligibility))
    except StaleApplication:
        # The row moved on between dispatch and now (another instance): start afresh.
        await message.reply_text(APPLICATION_ENDED)


async def _verify(update: Update, context: BotContext) -> None:
    """The NI number typed to confirm a loan: deleted from the chat at once, then checked."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    typed = message.text
    try:
        await message.delete()
    except TelegramError:
        logger.warning("update %s: could not delete an NI number message", update.update_id)
    applications = context.services.loan_applications
    try:
        loan = await applications.verify(user.id, typed)
    except WrongIdentity as wrong:
        await context.bot.send_message(user.id, wrong_ni(wrong.tries_left))
        return
    except BorrowingLocked as locked:
        await context.bot.send_message(
            user.id, locked_refusal(locked.until.astimezone(context.timezone))
        )
        return
    except QuoteExpired as moved:
        await context.bot.send_message(
            user.id,
            QUOTE_MOVED + "\n\n" + summary_text(moved.fresh),
            reply_markup=summary_markup(moved.fresh),
        )
        return
    except (OverLimit, NotEligible) as refusal:
        await context.bot.send_message(user.id, not_made(str(refusal)))
        return
    await context.bot.send_message(user.id, confirmed_text(loan))


async def _ask_term(update: Update, context: BotContext, amount: int, *, edit: bool) -> None:
    text = term_text(amount, context.services.loan_applications.monthly_payments(amount))
    if edit:
        await edit_in_place(update, text, TERM_MARKUP)
    else:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, reply_markup=TERM_MARKUP)


async def on_application_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = LOAN.decode(query.data)
    action, value = press.action, press.word
    applications = context.services.loan_applications
    try:
        if action == "amt":
            amount = await applications.choose_amount(user.id, press.number)
            await query.answer()
            await _ask_term(update, context, amount, edit=True)
        elif action == "term":
            application = await applications.choose_term(user.id, press.number)
            await query.answer()
            await edit_in_place(update, summary_text(application), summary_markup(application))
        elif action == "ok":
            await _confirm(update, context, value)
        else:
            await applications.cancel(user.id, value)
            await query.answer()
            await edit_in_place(update, APPLICATION_CANCELLED)
    except NoLongerEligible as changed:
        await query.answer()
        await edit_in_place(update, refusal_text(changed.eligibility))


async def _confirm(update: Update, context: BotContext, key: str) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    try:
        loan = await context.services.loan_applications.confirm(user.id, key)
    except QuoteExpired as moved:
        await query.answer(QUOTE_MOVED if moved.new_day else QUOTE_TIMED_OUT, show_alert=True)
        await edit_in_place(update, summary_text(moved.fresh), summary_markup(moved.fresh))
        return
    except (OverLimit, NotEligible) as refusal:
        # Over the limit by now (the score changed, or another loan came first).
        await query.answer()
        await edit_in_place(update, not_made(str(refusal)))
        return
    if isinstance(loan, IdentityRequested):
        await query.answer(TYPE_NI_TOAST if loan.again else None)
        if not loan.again:
            await context.bot.send_message(user.id, ASK_NI_TO_CONFIRM)
        return
    await query.answer(CONFIRMED_TOAST)
    # A double tap lands here too with the same loan, so the edit is the same (and a no-op).
    await edit_in_place(update, confirmed_text(loan))


# --------------------------------------------------------------------------------------------
# /loans and paying


@registered_only
async def show_loans(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    loans_service = context.services.loans
    loans = await loans_service.loans(user.id)
    held = await context.services.payment_plans.held_loans(user.id)
    credit = sum(i.credit_pence for loan in loans for i in loan.instalments if not i.paid)
    refunds = sum(
        o.refund_pence
        for o in await loans_service.overpayments(user.id)
        if o.refund_status == RefundStatus.DUE
    )
    text = loans_text(
        loans,
        loans_service.today(),
        context.timezone,
        credit_pence=credit,
        refund_pence=refunds,
        held=held,
    )
    markup = with_plan_buttons(loans_markup(loans), loans, held, loans_service.today())
    await message.reply_text(text, reply_markup=markup)


async def on_pay_button(update: Update, context: BotContext) -> None:
    """Pay: the instalment's one live invoice (offered again on a second tap)."""
    await _offer_invoice(update, context, settle=False)


async def on_settle_button(update: Update, context: BotContext) -> None:
    """Settle in full: one invoice for every unpaid instalment at today's price, through the
    same live invoice, pre-checkout and successful_payment as Pay."""
    await _offer_invoice(update, context, settle=True)


async def _offer_invoice(update: Update, context: BotContext, *, settle: bool) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    codec = LOAN_SETTLE if settle else LOAN_PAY
    instalment_id = codec.decode(query.data).number
    try:
        offer = await context.services.loans.offer_invoice(user.id, instalment_id, settle=settle)
    except PaymentRejected as refusal:
        await query.answer(str(refusal), show_alert=True)
        return
    await query.answer()
    token = context.payment_provider_token
    if not token:
        await context.bot.send_message(user.id, NO_PAYMENTS)
        return
    if settle:
        label = SETTLE_INVOICE_LABEL
        description = settle_invoice_description(offer.instalments, offer.saving_pence)
    else:
        label, description = invoice_label(offer.instalment), invoice_description(offer.instalment)
    await context.bot.send_invoice(
        chat_id=user.id,
        title=INVOICE_TITLE,
        description=description,
        payload=offer.payload,
        provider_token=token,
        currency=CURRENCY,
        prices=[LabeledPrice(label, offer.amount_pence)],
    )


async def on_pre_checkout(update: Update, context: BotContext) -> None:
    """Telegram asks before charging: only the presser's unpaid instalment at today's amount."""
    query = update.pre_checkout_query
    assert query is not None
    try:
        await context.services.loans.check_checkout(
            query.from_user.id, query.invoice_payload, query.total_amount, query.currency
        )
    except PaymentRejected as refusal:
        await query.answer(ok=False, error_message=str(refusal))
        return
    await query.answer(ok=True)


async def on_successful_payment(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    payment = message.successful_payment
    assert payment is not None
    loans = context.services.loans
    result = await loans.record_payment(
        user.id, payment.invoice_payload, payment.total_amount, payment.telegram_payment_charge_id
    )
    if result is None:
        return  # the same charge delivered again: counted once, thanked once
    if result.instalment is None:
        await message.reply_text(payments.not_counted_refund(result.amount_pence))
        return
    if result.settled:
        paid_here = result.amount_pence - result.overpaid_pence
        await message.reply_text(settled_text(paid_here, result.saved_pence))
    elif result.instalment.id in result.completed:
        loan = await loans.loan_of_instalment(user.id, result.instalment.id)
        paid_here = result.amount_pence - result.overpaid_pence
        text = paid_text(paid_here, result.instalment, loan)
        if result.saved_pence:
            text += "\n" + early_saving_line(result.saved_pence)
        await message.reply_text(text)
    elif not result.overpaid_pence:  # less than was due: counted, and the rest still due
        await message.reply_text(
            payments.part_paid(
                result.amount_pence, result.instalment.number, result.instalment.payable_pence
            )
        )
    if result.overpaid_pence:
        why = payments.OVERPAID_WHY.get(str(result.reason), payments.OVERPAID_WHY["more_than_due"])
        await message.reply_text(
            payments.overpaid(result.overpaid_pence, result.applied_pence, result.refund_pence, why)
        )
