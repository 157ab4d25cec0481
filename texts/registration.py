"""What the bot says for registration."""

from __future__ import annotations

from services.friends_model import RequestResult
from services.invites import InviteRedemption

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
        return (
            f"\n\nYou joined with {name}'s invite, so I've asked {name} to be your friend. "
            "You'll hear when they accept."
        )
    return f"\n\nYou joined with {name}'s invite."
