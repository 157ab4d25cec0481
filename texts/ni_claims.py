"""What the bot says for "someone registered with my NI number" (services.ni_claims).

Nothing here ever shows an NI number in full: the claimant's number is never echoed, and the
holder and reviewer see only the masked form the account already shows its owner.
"""

from __future__ import annotations

from datetime import datetime

from texts.format import Dated

# --- the claimant -----------------------------------------------------------------------------

NI_TAKEN = (
    "That NI number is already linked to a Britizen account, so it can't be used again.\n\n"
    "If it's your number and someone else registered with it, tap “Report this” (or send "
    "/reportni) and we'll look into it. Otherwise, send a different number."
)
REPORT_BUTTON = "🚩 Report this"
SKIP_BUTTON = "Skip"

NOTHING_TO_REPORT = (
    "There's nothing to report right now. If Britizen told you your NI number is already in "
    "use, send /start, type the number again and tap “Report this”."
)
MID_CLAIM = "You're in the middle of reporting your NI number. {step}\n/cancel stops the report."
MID_CLAIM_CONTACT = "Please send an email address or a phone number where our team can reach you."
MID_CLAIM_DOCUMENT = (
    "Please send a photo or a file (image or PDF) of a document that shows your NI number, "
    "or tap Skip."
)
ALREADY_REPORTING = "You're already reporting this: answer the last question above (or /cancel)."


def mid_claim(step: str) -> str:
    return MID_CLAIM.format(step=MID_CLAIM_DOCUMENT if step == "document" else MID_CLAIM_CONTACT)


ASK_CONTACT = (
    "Sorry this happened — let's sort it out.\n\n"
    "First, how can our team reach you? Send an email address or a phone number (like "
    "07700 900123 or +44 7700 900123). It's stored encrypted and used only for this report.\n"
    "/cancel stops at any time."
)
BAD_CONTACT = (
    "That doesn't look like an email address or a phone number. Please send one, for "
    "example name@example.com or 07700 900123."
)
ASK_DOCUMENT = (
    "Thanks. If you can, send a photo of a document that shows your NI number — a payslip, "
    "your P60 or a letter from HMRC (a photo, or an image or PDF file up to {max_mb} MB). "
    "It's stored encrypted and deleted once your report has been reviewed.\n\n"
    "Or tap Skip to send the report without one."
)
DOCUMENT_NEEDED = "Please send a photo or a file (image or PDF), or tap Skip."
DOCUMENT_TOO_BIG = "That file is too big: please send one of at most {max_mb} MB, or tap Skip."
DOCUMENT_WRONG_KIND = "Please send a photo, a JPEG or PNG image, or a PDF — or tap Skip."
DOCUMENT_UNREADABLE = "Sorry, I couldn't fetch that file. Please send it again, or tap Skip."
CLAIM_OPENED = (
    "✅ Your report #{claim_id} is with our team.\n\n"
    "While we check, the account using that number can't borrow or share its score. "
    "We'll tell you here what we decide, and may contact you at the {contact_kind} you gave."
)
ALREADY_UNDER_REVIEW = (
    "A report about this number is already being looked at. We'll get to it soon; "
    "please don't send another one."
)
YOU_HAVE_ONE_OPEN = (
    "You already have a report waiting for review. We'll tell you here what we decide."
)
TOO_MANY_CLAIMS = (
    "You've sent {limit} reports in the last {days} days, which is the most we accept. "
    "Please wait for the answers."
)
COOLING_DOWN = (
    "Your last report was looked at and not upheld, so a new one can be made from {day}. "
    "If you have new evidence, please wait until then."
)
NUMBER_FREE_NOW = (
    "Good news: that number is no longer linked to an account. Send /start to register with it."
)
CONTACT_KINDS = {"email": "email address", "phone": "phone number"}

CLAIMANT_MOVED = (
    "✅ Your report #{claim_id} was upheld: the NI number is yours now and no longer linked "
    "to the other account.{note}\n\n"
    "To finish registering, send your date of birth, for example 14/03/1990."
)
CLAIMANT_MOVED_FREE = (
    "✅ Your report #{claim_id} was upheld: the NI number is no longer linked to any account."
    "{note}\n\nSend /start to register with it."
)
CLAIMANT_REJECTED = (
    "Your report #{claim_id} was looked at and not upheld: the NI number stays with the account "
    "that has it.{note}\n\nYour document, if you sent one, has been deleted."
)

# --- the account holder -----------------------------------------------------------------------

HOLDER_NOTICE = (
    "⚠️ Someone has reported that the National Insurance number on your Britizen account "
    "({masked}) is theirs, and that it was registered without them.\n\n"
    "While our team checks, borrowing and sharing your score are paused. Nothing else "
    "changes, and your loans and their reminders carry on as before.\n\n"
    "If the number is yours, tap “Reply to this report” (or send /nireply) and tell us why — "
    "for example where you got it (payslip, P60, HMRC letter). We'll tell you here what we "
    "decide."
)
HOLDER_REPLY_BUTTON = "✍️ Reply to this report"
ASK_STATEMENT = (
    "Tell us in one message (up to {limit} characters) why this NI number is yours. "
    "Our team reads it with the report. /cancel stops."
)
NO_REPORT_AGAINST_YOU = "There's no open report about your NI number."
STATEMENT_EMPTY = "Please write your reply in one message of up to {limit} characters."
STATEMENT_SAVED = (
    "Thanks — our team will read it with the report. We'll tell you here what we decide."
)
HOLDER_MOVED = (
    "The report about the NI number on your account was upheld after review: the number "
    "({masked}) has been given back to its owner and is no longer linked to your account.{note}"
    "\n\nYour account keeps your loans (still yours to repay) and your history, but without an "
    "NI number it can't borrow or share its score. /delete erases it once nothing is owed; "
    "/dispute tells us if you think this is wrong."
)
HOLDER_CLEARED = (
    "✅ The report about the NI number on your account ({masked}) was not upheld: the number "
    "stays yours, and borrowing and sharing work again.{note}"
)
FROZEN = (
    "Borrowing and sharing your score are paused on this account: someone has reported that "
    "its NI number is theirs, and our team is checking (or gave the number back to its owner). "
    "/nireply lets you tell us your side."
)

# --- reviewers --------------------------------------------------------------------------------

NEW_CLAIM_FOR_REVIEWERS = "🚩 NI-number report #{claim_id} is waiting in /review."
MOVE_BUTTON = "Move number to claimant"
REJECT_BUTTON = "Reject report"
QUEUE_TEXT = (
    "🚩 NI-number report #{claim_id} ({waiting} waiting)\n"
    "Made {made:%d %b %Y, %H:%M} by {claimant} (not registered).\n"
    "Contact ({contact_kind}): {contact}\n"
    "Document: {document}\n\n"
    "The number ({masked}) is on the account of {holder}, registered {since:%d %b %Y}.\n"
    "Holder's reply: {statement}\n\n"
    "Move gives the number to the claimant (the account loses it); Reject keeps it where it is "
    "and lifts the freeze."
)
DOCUMENT_ATTACHED = "attached below"
NO_DOCUMENT = "none sent"
NO_STATEMENT = "none yet"
HOLDER_GONE = "an account since erased"
DOCUMENT_CAPTION = "Document for report #{claim_id} (deleted once you decide)."
ASK_NOTE = "Report #{claim_id}: {decision}. Type a short note for both people (or “-” for none)."
DECISION_MOVE = "moving the number to the claimant"
DECISION_REJECT = "rejecting the report"
DECIDED_MOVED = "Report #{claim_id}: the number was moved. Both people have been told."
DECIDED_REJECTED = "Report #{claim_id}: rejected, the freeze is lifted. Both people have been told."
NOT_REVIEWABLE = "That report has already been decided."
CLAIMANT_REGISTERED_SINCE = (
    "The claimant has since registered with another number, so the number can't be moved to "
    "them. Reject the report, or ask them to /delete that account first."
)
QUEUE_DONE = "That was the last NI-number report."


def ask_document(max_mb: int) -> str:
    return ASK_DOCUMENT.format(max_mb=max_mb)


def document_too_big(max_mb: int) -> str:
    return DOCUMENT_TOO_BIG.format(max_mb=max_mb)


def claim_opened(claim_id: int, contact_kind: str) -> str:
    return CLAIM_OPENED.format(claim_id=claim_id, contact_kind=CONTACT_KINDS[contact_kind])


def too_many_claims(limit: int, days: int) -> str:
    return TOO_MANY_CLAIMS.format(limit=limit, days=days)


def cooling_down(until: datetime) -> str:
    return COOLING_DOWN.format(day=f"{Dated(until):%d %b %Y}")


NOTE_LINE = "\n\nFrom our team: {note}"


def _note(note: str | None) -> str:
    return NOTE_LINE.format(note=note) if note else ""


def claimant_moved(claim_id: int, note: str | None, *, holder_left: bool) -> str:
    template = CLAIMANT_MOVED if holder_left else CLAIMANT_MOVED_FREE
    return template.format(claim_id=claim_id, note=_note(note))


def claimant_rejected(claim_id: int, note: str | None) -> str:
    return CLAIMANT_REJECTED.format(claim_id=claim_id, note=_note(note))


def holder_notice(masked: str) -> str:
    return HOLDER_NOTICE.format(masked=masked)


def ask_statement(limit: int) -> str:
    return ASK_STATEMENT.format(limit=limit)


def statement_empty(limit: int) -> str:
    return STATEMENT_EMPTY.format(limit=limit)


def holder_moved(masked: str, note: str | None) -> str:
    return HOLDER_MOVED.format(masked=masked, note=_note(note))


def holder_cleared(masked: str, note: str | None) -> str:
    return HOLDER_CLEARED.format(masked=masked, note=_note(note))


def new_claim_for_reviewers(claim_id: int) -> str:
    return NEW_CLAIM_FOR_REVIEWERS.format(claim_id=claim_id)


def queue_text(
    *,
    claim_id: int,
    waiting: int,
    made: datetime,
    claimant: str,
    contact_kind: str,
    contact: str,
    has_document: bool,
    masked: str | None,
    holder: str | None,
    since: datetime | None,
    statement: str | None,
) -> str:
    text = QUEUE_TEXT.format(
        claim_id=claim_id,
        waiting=waiting,
        made=Dated(made),
        claimant=claimant,
        contact_kind=CONTACT_KINDS.get(contact_kind, contact_kind),
        contact=contact,
        document=DOCUMENT_ATTACHED if has_document else NO_DOCUMENT,
        masked=masked or "?",
        holder=holder or HOLDER_GONE,
        since=Dated(since or made),
        statement=statement or NO_STATEMENT,
    )
    return text


def document_caption(claim_id: int) -> str:
    return DOCUMENT_CAPTION.format(claim_id=claim_id)


def ask_note(claim_id: int, *, move: bool) -> str:
    return ASK_NOTE.format(claim_id=claim_id, decision=DECISION_MOVE if move else DECISION_REJECT)


def decided(claim_id: int, *, moved: bool) -> str:
    return (DECIDED_MOVED if moved else DECIDED_REJECTED).format(claim_id=claim_id)


# --- /mydata ----------------------------------------------------------------------------------

LOG_ACTIONS = {
    "claim_started": "You started a report that your NI number was used by someone else.",
    "claim_opened": "Your report was sent for review.",
    "document_received": "You sent a document (stored encrypted).",
    "document_deleted": "The document you sent was deleted.",
    "account_reported": "Someone reported that your account's NI number is theirs; "
    "borrowing and sharing were paused.",
    "holder_replied": "You replied to the report about your NI number.",
    "number_moved_to_you": "The report was upheld: the NI number was moved to you.",
    "number_moved_away": "The report was upheld: the NI number was moved to its owner.",
    "claim_rejected": "Your report was not upheld.",
    "report_rejected": "The report about your NI number was not upheld; the pause was lifted.",
}


def log_line(action: str) -> str:
    return LOG_ACTIONS.get(action, action)
