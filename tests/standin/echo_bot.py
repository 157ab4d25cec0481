"""A tiny real python-telegram-bot application used to exercise the stand-in and the driver.

It is deliberately independent of our application code: these tests check the stand-in
against PTB itself.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from PIL import Image
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestUsers,
    LabeledPrice,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

from standin import BotApiStandIn

TOKEN = "123456:TEST-TOKEN"
WEBHOOK_SECRET = "s3cret-token"
REPORT_CSV = b"a,b\n1,2\n"


def make_png(width: int = 40, height: int = 30) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buf, "PNG")
    return buf.getvalue()


CHART_PNG = make_png()


@dataclass
class EchoBot:
    """The PTB application plus what its handlers observed."""

    app: Application[Any, Any, Any, Any, Any, Any]
    updates: list[Update] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def build_echo_bot(standin: BotApiStandIn, *, webhook: bool = False) -> EchoBot:
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
    )
    if webhook:
        builder = builder.updater(None)
    app = builder.build()
    bot = EchoBot(app)

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        bot.updates.append(update)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(" ".join(context.args or []) or "(empty)")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "<b>Welcome!</b> Do you agree?",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton("Yes", callback_data="yes"),
                        InlineKeyboardButton("No", callback_data="no"),
                    ],
                    [InlineKeyboardButton("Docs", url="https://example.org/docs")],
                ]
            ),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if query.data == "yes":
            await query.answer("noted")
            await query.edit_message_text("Thanks, you agreed")
        else:
            # Markup-only edit first, then a new message: the driver must skip the former.
            await query.answer()
            await query.edit_message_reply_markup(None)
            assert query.message is not None
            await context.bot.send_message(query.message.chat.id, "Sad to hear that")

    async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_photo(CHART_PNG, caption="Your chart")

    async def roundtrip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Upload a photo, then download it again through getFile and the file URL."""
        message = update.effective_message
        assert message is not None
        sent = await message.reply_photo(CHART_PNG)
        file = await sent.photo[-1].get_file()
        data = await file.download_as_bytearray()
        await message.reply_text(f"downloaded {len(data)} bytes sha256={sha256(data).hexdigest()}")

    async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_document(
            REPORT_CSV, filename="report.csv", caption="Monthly report"
        )

    async def keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Choose",
            reply_markup=ReplyKeyboardMarkup(
                [
                    [KeyboardButton("Share phone", request_contact=True)],
                    [
                        KeyboardButton("Pick friends", request_users=KeyboardButtonRequestUsers(7)),
                        "Plain",
                    ],
                ]
            ),
        )

    async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.contact is not None
        await message.reply_text(f"Got phone {message.contact.phone_number}")

    async def users_shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.users_shared is not None
        ids = ",".join(str(u.user_id) for u in message.users_shared.users)
        await message.reply_text(f"Got users {ids} for request {message.users_shared.request_id}")

    async def buy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_invoice(
            update.effective_chat.id,
            title="Boost",
            description="One boost for your score",
            payload="boost-1",
            currency="XTR",
            prices=[LabeledPrice("Boost", 5)],
        )

    async def precheckout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.pre_checkout_query
        assert query is not None
        if query.invoice_payload == "boost-1":
            await query.answer(ok=True)
        else:
            await query.answer(ok=False, error_message="Unknown item")

    async def paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.successful_payment is not None
        payment = message.successful_payment
        await message.reply_text(f"Paid {payment.total_amount} {payment.currency}")

    async def said(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await message.reply_text(f"You said: {message.text}")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            bot.errors.append(context.error)

    app.add_handler(TypeHandler(Update, record), group=-1)
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("chart", chart))
    app.add_handler(CommandHandler("roundtrip", roundtrip))
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("keyboard", keyboard))
    app.add_handler(CommandHandler("buy", buy))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(PreCheckoutQueryHandler(precheckout))
    app.add_handler(MessageHandler(filters.CONTACT, contact))
    app.add_handler(MessageHandler(filters.StatusUpdate.USERS_SHARED, users_shared))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, paid))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, said))
    app.add_error_handler(on_error)
    return bot


@dataclass
class WebhookReceiver:
    """The bot's webhook endpoint: a tiny aiohttp route feeding PTB's update queue."""

    url: str = ""
    hits: int = 0
    fail_first: int = 0  # answer 500 to this many deliveries before accepting
    bad_secrets: int = 0
