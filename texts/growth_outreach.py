"""What growth outreach says (issue 19): the ambassador invitation, the frame around an
operator's area campaign, the Stop button, /contest and a contest's result.

Nothing here ever mentions a rank or anyone's network position: an ambassador invitation reads
the same for everyone who gets one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from texts.format import Dated

STOP_BUTTON = "Stop these messages"
SETTINGS_BUTTON = "⚙️ Settings"
WHY_YOU_GET_THIS = (
    "You get this because you turned on “Help Britizen grow” in /settings. "
    "Tap “Stop these messages” and you'll get no more."
)

AMBASSADOR_INVITATION = (
    "🌱 Would you be a Britizen ambassador?\n\n"
    "Britizen works better the more of the people you know are on it. You said you'd be happy "
    "to help it grow, so here is a personal ask: would you invite a few people you know and "
    "trust?\n\n"
    "Your invite link: {link}\n\n"
    "Send it to anyone who might like it, or show the QR code from /invite. Each person who "
    "registers through it counts towards your community points. There is nothing to sign up "
    "for and nothing else to do.\n\n"
    "{why}"
)

CAMPAIGN_FRAME = (
    "📣 From Britizen, to members near you\n\n"
    "{text}\n\n"
    "If you'd like to invite a neighbour, your invite link is: {link}\n\n"
    "{why}"
)

STOPPED = (
    "Done: you won't get any more asks to invite people.{cancelled} You can turn them back on "
    "in /settings."
)
STOPPED_CANCELLED = " One that was still waiting to be sent has been cancelled."
STOPPED_CANCELLED_MANY = " {count} that were still waiting to be sent have been cancelled."
ALREADY_STOPPED = (
    "These asks are already off: you won't get any more. You can turn them back on in /settings."
)
STOPPED_TOAST = "Stopped."


def ambassador_invitation(link: str) -> str:
    return AMBASSADOR_INVITATION.format(link=link, why=WHY_YOU_GET_THIS)


def campaign_message(text: str, link: str) -> str:
    return CAMPAIGN_FRAME.format(text=text, link=link, why=WHY_YOU_GET_THIS)


def stopped(cancelled: int) -> str:
    if cancelled == 0:
        note = ""
    elif cancelled == 1:
        note = STOPPED_CANCELLED
    else:
        note = STOPPED_CANCELLED_MANY.format(count=cancelled)
    return STOPPED.format(cancelled=note)


# --------------------------------------------------------------------------------------------
# /contest

NO_CONTEST = (
    "There's no referral contest running right now. When there is one, /contest lets you join."
)
CONTEST_HEADING = "🏆 Referral contest: {name}\nRuns until {ends}."
CONTEST_RULES = (
    "What counts: someone new who completes registration (NI number checked, aged 18 or over) "
    "through your invite link while the contest runs. Each NI number counts once, ever: nobody "
    "counts again after erasing their account and rejoining, invites from an account that was "
    "erased and rejoined don't count, and you can't count yourself. Your invite link is in "
    "/invite."
)
NOT_JOINED = (
    "Joining is up to you. You choose whether your name appears on this contest's "
    "leaderboard; either way you see your own count here."
)
JOIN_LISTED_BUTTON = "Join, show my name"
JOIN_UNLISTED_BUTTON = "Join, keep me off the board"
SHOW_ME_BUTTON = "Show my name on the board"
HIDE_ME_BUTTON = "Hide my name"
YOUR_COUNT = "Your verified referrals so far: {count}."
YOU_ARE_LISTED = "You're on the leaderboard as {name}."
YOU_ARE_UNLISTED = "You're not on the leaderboard: only you see your count."
BOARD_HEADING = "Leaderboard (only people who chose to be listed):"
BOARD_EMPTY = "Nobody listed has a verified referral yet."
BOARD_LINE = "{place}. {name} — {count}"
JOINED_TOAST = "You've joined."
LISTED_TOAST = "Your name is on the board."
UNLISTED_TOAST = "Your name is off the board."
CONTEST_OVER = "That contest has ended."
CONTEST_BUTTON = "🏆 Referral contest"

CONTEST_RESULT = (
    "🏁 The referral contest “{name}” has ended.\n\n"
    "Your verified referrals: {count}.\n\n"
    "{board}\n\n"
    "Thank you for helping Britizen grow."
)


def when(moment: datetime, tz: ZoneInfo) -> str:
    """'5 Dec 2026, 18:00'."""
    local = moment.astimezone(tz)
    return f"{local.day} {Dated(local):%b %Y, %H:%M}"


def board(lines: list[tuple[int, str, int]]) -> str:
    """The leaderboard: heading, then '1. Alice — 3' per listed participant."""
    if not lines:
        return f"{BOARD_HEADING}\n{BOARD_EMPTY}"
    rows = [BOARD_LINE.format(place=place, name=name, count=count) for place, name, count in lines]
    return "\n".join(map(str, [BOARD_HEADING, *rows]))


def contest_heading(name: str, ends_at: datetime, tz: ZoneInfo) -> str:
    return CONTEST_HEADING.format(name=name, ends=when(ends_at, tz))


def your_count(count: int) -> str:
    return YOUR_COUNT.format(count=count)


def you_are_listed(name: str) -> str:
    return YOU_ARE_LISTED.format(name=name)


def contest_result(name: str, count: int, lines: list[tuple[int, str, int]]) -> str:
    return CONTEST_RESULT.format(name=name, count=count, board=board(lines))


# --------------------------------------------------------------------------------------------
# The operator's command line: refusals (services raise them, bot/cli_growth.py prints them)

OUTREACH_BUSY = "another growth outreach command is running; try again when it ends"
NO_AREAS = "{option} needs at least one postcode area, such as SO or BH"
NOT_AREAS = "{option}: {bad} is not a postcode area (one or two letters, as SO in SO17)"
TOO_MANY_AREAS = "{option}: at most {limit} areas at a time"
BAD_OPTION = "{option} {reason}"
OUT_OF_RANGE = "{option} must be between 1 and {limit}"
NOT_A_ROLE = "--role must be one of {roles}"
STILL_RUNNING = "contest #{id} ({name}) is still running; end it first"
NO_SUCH_CONTEST = "there is no contest #{id}"
