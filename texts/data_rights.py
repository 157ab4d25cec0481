"""What the bot says for data rights."""

from __future__ import annotations

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
