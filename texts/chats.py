"""What the bot says about where and how it listens: groups, channels, edits, and messages that
are not text (stickers, photos, voice...)."""

from __future__ import annotations

OPEN_PRIVATE_CHAT = "Open a private chat with me"

PERSONAL_IN_GROUP = (
    "I only handle /{command} in a private chat, so nothing personal is posted here. "
    "Tap below to open it."
)
HELP_IN_GROUP = (
    "I'm Britizen, a credit score bot. Everything personal (your score, friends, loans, "
    "offers, data) happens in a private chat with me, never in a group. "
    "Tap below to open it, then send /help there."
)
ADDED_TO_GROUP = (
    "Hello! I'm Britizen, a credit score bot. I work only in private chats, so I won't post "
    "anyone's score or details here. To use me, open a private chat with me."
)
NOT_YOUR_BUTTON = (
    "This button only works in a private chat with the person it was made for. Nothing changed."
)

EDITS_NOT_READ = (
    "I only read new messages, so I've ignored that edit. Please send it again as a new message."
)

NOT_TEXT_OUTSIDE_STEP = (
    "I can only read text messages and buttons. Send /help to see what I can do."
)
NOT_TEXT_UNREGISTERED = (
    "I can only read text messages and buttons. Send /start to join Britizen, or /help."
)

# Mid-conversation, each step says exactly what it needs (keyed by (flow, step); a flow's
# entry under None covers any of its steps).
NOT_TEXT_AT_STEP: dict[tuple[str, str | None], str] = {
    ("registration", "consent"): (
        "Please answer with the buttons: do you agree to Britizen keeping this? (or /cancel)"
    ),
    ("registration", "ni_number"): (
        "Please type your National Insurance number as text, like QQ 12 34 56 C (or /cancel)."
    ),
    ("registration", "date_of_birth"): (
        "Please type your date of birth as text, like 14/03/1990 (or /cancel)."
    ),
    ("registration", "postcode"): (
        "Please type the first half of your postcode as text, like SW1A, or tap Skip (or /cancel)."
    ),
    ("loan", "amount"): (
        "Please type the amount you'd like to borrow as text, like 150, or tap one of the "
        "amounts above (or /cancel)."
    ),
    ("loan", "term"): "Please choose how long to repay with the buttons above (or /cancel).",
    ("loan", "confirm"): "Please tap Confirm or Cancel under your loan summary (or /cancel).",
    ("loan", "verify"): (
        "Please type your National Insurance number as text to confirm the loan (or /cancel)."
    ),
    ("dispute", None): (
        "Please type what's wrong as a text message, in a sentence or two (or /cancel)."
    ),
    ("review", None): "Please type your note on the decision as text (or /cancel).",
    ("ni_claim", "contact"): (
        "Please type an email address or a phone number as text, like 07700 900123 (or /cancel)."
    ),
    ("ni_claim", "document"): (
        "Please send a photo, or a JPEG, PNG or PDF file, of a document that shows your NI "
        "number — or tap Skip (or /cancel)."
    ),
    ("ni_claim", "statement"): (
        "Please type your reply to the report as text, in one message (or /cancel)."
    ),
    ("ni_claim_review", None): "Please type your note on the decision as text (or /cancel).",
    ("delete", None): "Please answer with the buttons above: erase your account or keep it.",
}
NOT_TEXT_IN_A_STEP = "Please answer as text, or with the buttons above (or /cancel)."


def not_text_at_step(flow: str, step: str) -> str:
    return NOT_TEXT_AT_STEP.get(
        (flow, step), NOT_TEXT_AT_STEP.get((flow, None), NOT_TEXT_IN_A_STEP)
    )


def personal_in_group(command: str) -> str:
    return PERSONAL_IN_GROUP.format(command=command)
