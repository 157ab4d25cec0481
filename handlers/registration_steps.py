"""Registration's steps as the bot shows them: the buttons, each step's prompt, the reminder.

Its own module so the registered-only guard can remind someone mid-registration without
importing the registration handlers (which import the features the guard protects).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from services import registration as reg
from services.callbacks import REGISTRATION
from services.dialogs import Dialog
from texts import registration as words
from texts.registration import ASK_CONSENT, ASK_DOB, ASK_NI, ASK_POSTCODE

CONSENT_YES = REGISTRATION.encode("consent", "yes")
CONSENT_NO = REGISTRATION.encode("consent", "no")
SKIP_POSTCODE = REGISTRATION.encode("postcode", "skip")


CONSENT_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(words.AGREE_BUTTON, callback_data=CONSENT_YES),
            InlineKeyboardButton(words.NO_THANKS_BUTTON, callback_data=CONSENT_NO),
        ]
    ]
)
SKIP_KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(words.SKIP_BUTTON, callback_data=SKIP_POSTCODE)]]
)

STEP_PROMPTS = {
    reg.STEP_CONSENT: ASK_CONSENT,
    reg.STEP_NI: ASK_NI,
    reg.STEP_DOB: ASK_DOB,
    reg.STEP_POSTCODE: ASK_POSTCODE,
}


async def remind_step(message: Message, dialog: Dialog) -> None:
    """Someone mid-registration sent a command we can't serve yet: say where they are."""
    prompt = STEP_PROMPTS.get(dialog.step, ASK_NI)
    markup = CONSENT_KEYBOARD if dialog.step == reg.STEP_CONSENT else None
    if dialog.step == reg.STEP_POSTCODE:
        markup = SKIP_KEYBOARD
    await message.reply_text(words.mid_registration(prompt), reply_markup=markup)
