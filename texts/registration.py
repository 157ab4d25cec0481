"""What the bot says for registration."""

from __future__ import annotations

from services.friends_model import RequestResult
from services.invites import InviteRedemption
from texts.i18n import _

WELCOME = (
    "Welcome to Britizen 👋\n"
    "Britizen gives you a score from 350 to 950 that you can see, understand and improve.\n\n"
    "To set you up we keep:\n"
    "• your National Insurance number — only as a one-way code plus a masked form "
    "(like AB •• •• •• C), so one number means one account;\n"
    "• your date of birth — to confirm you're 15 or older;\n"
    "• your postcode district if you choose to give it (like SO17) — for local offers and "
    "anonymous area statistics.\n\n"
    "Your score comes only from paying bills and loans, your account, community activity and, "
    "capped, your friends — never from your age, where you live or what you say. "
    "You can download or delete your data at any time.\n\n"
    "Do you agree to Britizen keeping this?"
)


ASK_NI = (
    "Please send your National Insurance number. It looks like QQ 12 34 56 C — it's on your "
    "payslip, P60 or in the HMRC app.\n/cancel stops at any time."
)


ASK_DOB = "Now your date of birth, for example 14/03/1990 or 14 March 1990."


ASK_POSTCODE = (
    "Last step, and optional: your postcode district — the first half of your postcode, like "
    "SO17. It lets sponsors offer local deals and feeds anonymous area statistics. "
    "Or tap Skip."
)


DECLINED = "No problem — nothing has been stored. If you change your mind, send /start."


def _invite_note(invite: InviteRedemption | None) -> str:
    if invite is None:
        return ""
    name = invite.inviter_name
    if invite.request is RequestResult.SENT:
        return _(
            "\n\nYou joined with {name}'s invite, so I've asked {name} to be your "
            "friend. You'll hear when they accept."
        ).format(name=name)
    return _("\n\nYou joined with {name}'s invite.").format(name=name)


# --------------------------------------------------------------------------------------------
# The registration conversation in the chat (handlers.registration and registration_steps)

AGREE_BUTTON = "✅ I agree"
NO_THANKS_BUTTON = "No thanks"
SKIP_BUTTON = "Skip"

ASK_CONSENT = "Please answer with the buttons: do you agree to Britizen keeping this?"
CONSENT_GIVEN = "✅ Thanks for agreeing.\n\n" + ASK_NI


def mid_registration(prompt: str) -> str:
    """Someone mid-registration asked for a feature: where they are, then the step's prompt."""
    return _(
        "You're in the middle of registering — let's finish that first (or /cancel).\n\n{prompt}"
    ).format(prompt=prompt)


def welcome_back(first_name: str) -> str:
    return _("Welcome back, {first_name}! Send /score to see your score or /help for more.").format(
        first_name=first_name
    )


def ni_saved(masked: str) -> str:
    return _(
        "Thanks — saved as {masked}. I've removed your message so the full "
        "number isn't left in this chat.\n\n{ask_dob}"
    ).format(masked=masked, ask_dob=ASK_DOB)


def try_again(refusal: str) -> str:
    return _("{refusal}\n\nPlease try again, or /cancel to stop.").format(refusal=refusal)


def try_again_or_skip(refusal: str) -> str:
    return _("{refusal}\n\nPlease try again, or tap Skip.").format(refusal=refusal)


def registered(
    first_name: str,
    *,
    district: str | None,
    ni_masked: str,
    starting_score: int,
    band: str,
    invite: InviteRedemption | None,
) -> str:
    area = _(" in {district}").format(district=district) if district else ""
    return _(
        "🎉 You're registered{area}, {first_name}!\nNI number: {ni_masked}\nYour "
        "starting score is {starting_score} ({band}). It's recalculated every "
        "night from your payment history and activity.\n\nTry /score, or /help "
        "to see everything."
    ).format(
        area=area,
        first_name=first_name,
        ni_masked=ni_masked,
        starting_score=starting_score,
        band=_(band),
    ) + _invite_note(invite)


ALREADY_REGISTERED = "You're already registered. Send /score to see your score."
STEP_CLOSED = "That registration step is no longer open. Send /start to begin again."
