"""What the bot says for data rights."""

from __future__ import annotations

from datetime import date

from texts.format import day, money
from texts.i18n import _

CONFIRM_TEXT = (
    "Erase your Britizen account?\n\n"
    "This deletes your profile, your score and its history, your friends and friend "
    "requests, your invite link and referrals, repaid loans, on-time payment records, offers, "
    "share codes and who has looked at your score. It can't be undone.\n\n"
    "What we keep, and why: a one-way fingerprint of your NI number (not the number), so one "
    "number stays one account (no second sign-up offer or referral credit); and, like every "
    "UK credit file, any late or missed payment records for six years from each one "
    "(partner, kind, date, outcome only). If you join again, they come back, so erasing "
    "can't reset a score.\n\n"
    "Want a copy first? Send /mydata before you confirm."
)


def confirm_text(kept: int, last_kept_until: date | None) -> str:
    """The confirmation, with what this person's erasure would keep."""
    if not kept or last_kept_until is None:
        mine = _("You have no late or missed payment records: only the fingerprint would be kept.")
    else:
        records = (
            _("1 late or missed payment record")
            if kept == 1
            else _("{kept} late or missed payment records").format(kept=kept)
        )
        mine = _(
            "For you that means {records}, kept until {last_kept_until} at the latest."
        ).format(records=records, last_kept_until=day(last_kept_until))
    return CONFIRM_TEXT.replace(
        _("\n\nWant a copy first?"), _("\n\n{mine}\n\nWant a copy first?").format(mine=mine)
    )


ERASED_TEXT = (
    "Your account has been erased. Everything listed has been deleted; only the fingerprint "
    "of your NI number and any late or missed payment records are kept, for the reasons "
    "given. Thank you for using Britizen — send /start if you ever want to come back."
)


KEPT_TEXT = "Nothing was deleted: your account stays as it is."


def blocked_text(owed_pence: int) -> str:
    """Why /delete is refused while a loan is still owed, and what to do about it."""
    return _(
        "Your account can't be erased yet: you still owe {owed_pence} on a "
        "loan, and the lender has to keep the loan's record until it is "
        "repaid. Nothing has been deleted. Repay it with /loans (you can pay "
        "early), then send /delete again. /mydata gives you a copy of "
        "everything we hold in the meantime."
    ).format(owed_pence=money(owed_pence))


# -- the /mydata export (read by the person, so worded for them) --------------------------------

EXPORT_NOTE = (
    "Everything Britizen holds about you. Your NI number is kept only as a keyed "
    "hash (to stop it being registered twice) and shown here masked."
)
LOAN_SOURCE = "Britizen loan"
"""Where a payment record came from, when it was one of Britizen's own loans."""
