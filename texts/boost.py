"""What /boost, its invitations, the landlord's sign-up page and the confirm / dispute
notices say (services.boost, handlers.boost, bot.pages)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from texts.format import day, plural, signed
from texts.i18n import _

if TYPE_CHECKING:
    from services.boost import BoostAdded, BoostScreen

ROLE_NAMES = {"landlord": "landlord", "agent": "letting agent", "council": "council"}
"""An invitation's role -> how a sentence names it."""
KIND_NAMES = {
    "rent": "rent",
    "council_tax": "council tax",
    "bill": "bills",
    "loan_instalment": "loan instalments",
}
OUTCOME_NAMES = {"on_time": "paid on time", "late": "paid late", "missed": "missed"}


def _named(names: dict[str, str], key: str, default: str | None = None) -> str:
    """A name from one of the maps above in the reader's language (one-word names, which the
    catalog takes only when marked, are marked in `_one_word_names`)."""
    if key not in names:
        return key if default is None else default
    return _(str.__str__(names[key]))


def _one_word_names() -> tuple[str, ...]:
    """The names of one lowercase word, marked for the catalog (see `_named`)."""
    return (_("landlord"), _("council"), _("rent"), _("missed"))


# -- /boost -----------------------------------------------------------------------------------

TITLE = "Boost: add rent and council tax to your score"
WHAT_CAN_BE_ADDED = (
    "What you can add:\n"
    "• Rent, reported by your landlord or letting agent\n"
    "• Council tax, reported by your council\n\n"
    "Invite them with a one-time link: they sign up in a minute and get their own key to "
    "report your payments. On-time payments count at once. A late or missed payment "
    "reported this way counts only if you confirm it, or if you don't dispute it within "
    "{days} days."
)
ALREADY_REPORTING = "Already on your record:"
NOTHING_REPORTING = "Nothing reports to your record yet."
REPORTING_LINE = "• {name}: {kind}"
YOUR_BOOST_PARTNERS = "Signed up through Boost:"
BOOST_PARTNER_LINE = "• {name} (your {role})"
OPEN_INVITES = "Invitations waiting to be used: {count}."
INVITE_LANDLORD_BUTTON = "Invite my landlord"
INVITE_AGENT_BUTTON = "Invite my letting agent"
INVITE_COUNCIL_BUTTON = "Invite my council"
INVITE_BUTTONS = {
    "landlord": INVITE_LANDLORD_BUTTON,
    "agent": INVITE_AGENT_BUTTON,
    "council": INVITE_COUNCIL_BUTTON,
}
BOOST_BUTTON = "Add rent or council tax"

REMOVE_BUTTON = "✖ Remove {name}"
CANCEL_INVITE_BUTTON = "✖ Cancel the {role} invitation (until {expires})"
CONFIRM_REMOVE = (
    "Remove {name} (your {role}) from Boost?\n\n"
    "They won't be able to report your {kind} any more. What they have already reported "
    "stays on your record and counts as before; a late or missed payment still waiting for "
    "your answer can still be confirmed or disputed. You can invite them again later."
)
REMOVE_YES_BUTTON = "Yes, remove them"
REMOVE_NO_BUTTON = "No, keep them"
REMOVED = (
    "Removed: {name} can no longer report your {kind}. What they already reported stays "
    "and counts as before. /share lists this with everyone who has had access to your record."
)
KEPT = "Nothing changed: {name} can still report your {kind}."
INVITE_CANCELLED = "Cancelled: the link you made for your {role} no longer works."
PARTNER_ALREADY_REMOVED = (
    "They can no longer report to your record: they were already removed. /boost shows "
    "where things stand."
)
INVITE_NOT_WAITING = (
    "This invitation isn't waiting any more: it was used, cancelled or has expired. /boost "
    "shows where things stand."
)
ENDED_BY_BRITIZEN = (
    "Britizen has stopped {name} (your {role}) reporting your {kind}. What they already "
    "reported stays on your record. /boost lets you invite someone else."
)

INVITE_LINK = (
    "Send this link to your {role}:\n{url}\n\n"
    "It works once, until {expires}. They give a name and get a key to report your {kind} "
    "to Britizen. To match the payments to you they'll need your National Insurance number: "
    "give it to them yourself (Britizen never shows it to them)."
)
TOO_MANY_INVITES = (
    "You already have {count} invitations waiting to be used. Wait for one to be used or "
    "to expire (after {days} days), then try again."
)


def boost_text(screen: BoostScreen, confirm_days: int) -> str:
    lines = [TITLE, "", WHAT_CAN_BE_ADDED.format(days=confirm_days), ""]
    if screen.reporting:
        lines.append(ALREADY_REPORTING)
        lines += [
            REPORTING_LINE.format(name=name, kind=_named(KIND_NAMES, kind, kind))
            for name, kind in screen.reporting
        ]
    else:
        lines.append(NOTHING_REPORTING)
    if screen.partners:
        lines += ["", YOUR_BOOST_PARTNERS]
        lines += [
            BOOST_PARTNER_LINE.format(name=p.name, role=_named(ROLE_NAMES, p.role, p.role))
            for p in screen.partners
        ]
    if screen.open_invites:
        lines += ["", OPEN_INVITES.format(count=screen.open_invites)]
    return "\n".join(map(str, lines))


def remove_button(name: str) -> str:
    return REMOVE_BUTTON.format(name=name)


def cancel_invite_button(role: str, expires: date) -> str:
    return CANCEL_INVITE_BUTTON.format(role=_named(ROLE_NAMES, role, role), expires=day(expires))


def confirm_remove(name: str, role: str) -> str:
    return CONFIRM_REMOVE.format(
        name=name, role=_named(ROLE_NAMES, role, role), kind=role_kind(role)
    )


def removed(name: str, role: str) -> str:
    return REMOVED.format(name=name, kind=role_kind(role))


def kept(name: str, role: str) -> str:
    return KEPT.format(name=name, kind=role_kind(role))


def invite_cancelled(role: str) -> str:
    return INVITE_CANCELLED.format(role=_named(ROLE_NAMES, role, role))


def ended_by_britizen(name: str, role: str) -> str:
    return ENDED_BY_BRITIZEN.format(
        name=name, role=_named(ROLE_NAMES, role, role), kind=role_kind(role)
    )


def role_kind(role: str) -> str:
    return _named(KIND_NAMES, "council_tax") if role == "council" else _named(KIND_NAMES, "rent")


def invite_text(role: str, url: str, expires: date) -> str:
    return INVITE_LINK.format(
        role=_named(ROLE_NAMES, role, role), url=url, expires=day(expires), kind=role_kind(role)
    )


def too_many_invites(count: int, days: int) -> str:
    return TOO_MANY_INVITES.format(count=count, days=days)


# -- notices in the citizen's chat ------------------------------------------------------------

SIGNED_UP = (
    "{name}, whom you invited as your {role}, has signed up to report your {kind} to "
    "Britizen. On-time payments they report count towards your score straight away."
)
ADVERSE_REPORTED = (
    "{name} reported your {kind} due {due} as {outcome}.\n\n"
    "It doesn't count towards your score unless you confirm it. If you don't dispute it, "
    "it counts from {counts_from}."
)
CONFIRM_BUTTON = "✅ Confirm"
DISPUTE_BUTTON = "✖ Dispute"
CONFIRMED = (
    "Confirmed: your {kind} due {due} ({outcome}, reported by {name}) counts from the next "
    "nightly calculation."
)
DISPUTED = (
    "Disputed: your {kind} due {due} ({outcome}, reported by {name}) won't count towards "
    "your score."
)
TOO_LATE_TO_DISPUTE = (
    "The {days} days to dispute this here have passed and it now counts. Send /dispute to "
    "ask a reviewer to look at it."
)
ALREADY_ANSWERED = "You've already answered this one."


def signed_up(name: str, role: str) -> str:
    return SIGNED_UP.format(name=name, role=_named(ROLE_NAMES, role, role), kind=role_kind(role))


def adverse_reported(name: str, kind: str, due: date, outcome: str, counts_from: date) -> str:
    return ADVERSE_REPORTED.format(
        name=name,
        kind=_named(KIND_NAMES, kind, kind),
        due=day(due),
        outcome=_named(OUTCOME_NAMES, outcome, outcome),
        counts_from=day(counts_from),
    )


def confirmed(name: str, kind: str, due: date, outcome: str) -> str:
    return CONFIRMED.format(
        name=name,
        kind=_named(KIND_NAMES, kind, kind),
        due=day(due),
        outcome=_named(OUTCOME_NAMES, outcome),
    )


def disputed(name: str, kind: str, due: date, outcome: str) -> str:
    return DISPUTED.format(
        name=name,
        kind=_named(KIND_NAMES, kind, kind),
        due=day(due),
        outcome=_named(OUTCOME_NAMES, outcome),
    )


def too_late_to_dispute(days: int) -> str:
    return TOO_LATE_TO_DISPUTE.format(days=days)


# -- /why -------------------------------------------------------------------------------------

WHY_HEADING = "\nWhat Boost added"
WHY_LINE = "• {kind} reported by {name}: {counted}, {points} points"
WHY_WAITING = " ({waiting} waiting for your answer)"
WHY_REMOVED = " (you removed them: they report no more, what they reported still counts)"
WHY_NOTHING_YET = "• {name} (your {role}) has signed up; nothing they reported counts yet"
WHY_INVITE_HINT = "\nPay rent or council tax? /boost lets your landlord or council report it."


def _counted(on_time: int, adverse: int) -> str:
    text = plural(on_time, _("on-time payment"))
    if adverse:
        text += ", " + plural(adverse, _("late or missed payment"))
    return text


def why_boost_lines(added: Sequence[BoostAdded]) -> str:
    """The /why section about Boost, or a one-line hint when nobody reports through it."""
    if not added:
        return WHY_INVITE_HINT
    lines = [WHY_HEADING]
    for item in added:
        if item.on_time + item.adverse == 0:
            line = WHY_NOTHING_YET.format(name=item.partner, role=_named(ROLE_NAMES, item.role, ""))
        else:
            line = WHY_LINE.format(
                kind=_named(KIND_NAMES, item.kind, item.kind).capitalize(),
                name=item.partner,
                counted=_counted(item.on_time, item.adverse),
                points=signed(item.points),
            )
        if item.waiting:
            line += WHY_WAITING.format(waiting=item.waiting)
        if item.removed:
            line += str(WHY_REMOVED)
        lines.append(line)
    return "\n".join(map(str, lines))


# -- the sign-up page (bot.pages; the HTML is bot/web/boost.html) -----------------------------

PAGE_TITLE = "Report rent or council tax to Britizen"
PAGE_INTRO = (
    "A Britizen citizen invited you as their {role}. Give the name your tenant or resident "
    "knows you by and you get an API key to report their {kind} payments. On-time payments "
    "help their score; a late or missed one counts only if they confirm it or don't dispute "
    "it within {days} days."
)
NAME_LABEL = "Your name or company name"
KEY_LABEL = "Already reporting through Britizen Boost? Paste your key instead"
SUBMIT = "Sign up"
DONE_TITLE = "You're signed up"
DONE_INTRO = (
    "This is your API key. It is shown only this once: keep it somewhere safe. Report "
    'payments with it (kind "rent" or "council_tax", the person\'s National Insurance '
    "number, the outcome and the date it was due):"
)
DONE_LINKED = (
    "Your key now also covers the person who sent you this link. Report their payments as "
    "you report the others'."
)
LINK_UNKNOWN = "This sign-up link isn't valid. Ask the person who invited you for a new one."
LINK_USED = (
    "This sign-up link has already been used. Each link works once: ask the person who "
    "invited you for a new one."
)
LINK_EXPIRED = (
    "This sign-up link has expired (links last {days} days). Ask the person who invited you "
    "for a new one."
)
NAME_MISSING = "Please give a name (or paste your Boost key)."
NAME_TOO_LONG = "A name can be at most {limit} characters."
NAME_TAKEN = "The name {name!r} is already taken on Britizen: add something to tell you apart."
KEY_NOT_BOOST = "That isn't a Britizen Boost key. Leave it empty to sign up with a name."

# -- the partner API (api.partners) -----------------------------------------------------------

API_OUTSIDE_SCOPE = (
    "A Boost key reports only rent and council_tax, and only for people who invited you "
    "through Britizen Boost; nothing in this request was recorded. Refused: {fields}."
)
API_BOOST_KEY_REFUSED = (
    "A Boost key only reports rent and council tax (POST /api/v1/events) for the people who "
    "invited you through Britizen Boost: it cannot ask to see anyone's score, read a shared "
    "code or ask yes/no questions. Nothing was read or recorded."
)


def api_outside_scope(fields: dict[str, str]) -> str:
    return API_OUTSIDE_SCOPE.format(
        fields="; ".join(map(str, (f"{field} ({why})" for field, why in fields.items())))
    )


API_EXAMPLE = (
    "curl -X POST {base}/api/v1/events \\\n"
    '  -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\\n'
    '  -d \'{{"events": [{{"id": "rent-2026-11", "ni_number": "QQ123456C", '
    '"kind": "{kind}", "outcome": "on_time", "occurred_on": "2026-11-01"}}]}}\''
)
