"""What the bot says for data rights."""

from __future__ import annotations

from texts.format import money

CONFIRM_TEXT = (
    "Erase your Britizen account?\n\n"
    "This deletes your profile, your score and its history, your friends and friend "
    "requests, your invite link and referrals, repaid loans, payment records, offers, share "
    "codes and who has looked at your score. It can't be undone.\n\n"
    "We keep one thing: a one-way fingerprint of your NI number (not the number), so that "
    "partners' reports about you are refused from now on, and so that if you join again you "
    "won't be signed up for offers.\n\n"
    "Want a copy first? Send /mydata before you confirm."
)


ERASED_TEXT = (
    "Your account has been erased. Everything listed has been deleted; only the fingerprint "
    "of your NI number is kept, for the reasons given. Thank you for using Britizen — send "
    "/start if you ever want to come back."
)


KEPT_TEXT = "Nothing was deleted: your account stays as it is."


def blocked_text(owed_pence: int) -> str:
    """Why /delete is refused while a loan is still owed, and what to do about it."""
    return (
        f"Your account can't be erased yet: you still owe {money(owed_pence)} on a "
        "loan, and the lender has to keep the loan's record until it is repaid. Nothing has "
        "been deleted. Repay it with /loans (you can pay early), then send /delete again. "
        "/mydata gives you a copy of everything we hold in the meantime."
    )


# -- the /mydata export (read by the person, so worded for them) --------------------------------

EXPORT_NOTE = (
    "Everything Britizen holds about you. Your NI number is kept only as a keyed "
    "hash (to stop it being registered twice) and shown here masked."
)
LOAN_SOURCE = "Britizen loan"
"""Where a payment record came from, when it was one of Britizen's own loans."""
