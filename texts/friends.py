"""What the friends feature says: request outcomes, the list, compare, leaderboard, invites."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from services.friends_model import (
    REQUESTS_PER_DAY,
    Answer,
    Comparison,
    FriendView,
    Leaderboard,
    LeaderboardEntry,
    PendingRequest,
    RequestOutcome,
    RequestResult,
    Via,
)
from texts.format import local_time, plural_s, signed
from texts.i18n import _


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def friends_word(n: int) -> str:
    return _("1 friend") if n == 1 else _("{n} friends").format(n=n)


def outcome_line(outcome: RequestOutcome) -> str:
    """One line about one request, whichever way it was made."""
    # Only someone picked in Telegram without a name shared can come without one.
    name = outcome.name or _("Someone you picked")
    return {
        RequestResult.SENT: _("✉️ {name}: request sent. You'll be friends once they accept.").format(
            name=name
        ),
        RequestResult.ACCEPTED_THEIRS: _(
            "🤝 {name} had already asked you, so you're now friends."
        ).format(name=name),
        RequestResult.ALREADY_FRIENDS: _("{name}: you're already friends.").format(name=name),
        RequestResult.ALREADY_ASKED: _(
            "{name}: you've already asked — waiting for their answer."
        ).format(name=name),
        RequestResult.SELF: _("That's you! Pick someone else."),
        RequestResult.NOT_ON_BRITIZEN: _("{name} isn't on Britizen yet.").format(name=name),
        RequestResult.NOT_ACCEPTING: _("{name} isn't accepting friend requests.").format(name=name),
        RequestResult.UNAVAILABLE: _(
            "{name}: you can't send them a friend request at the moment."
        ).format(name=name),
        RequestResult.LIMIT_REACHED: (
            _(
                "{name}: not sent. You can send up to {requests_per_day} friend "
                "requests in any 24 hours — please try again later."
            ).format(name=name, requests_per_day=REQUESTS_PER_DAY)
        ),
        RequestResult.LINK_NOT_VALID: (
            _("That invite link doesn't work any more. Ask your friend to send you a new one.")
        ),
    }[outcome.result]


def link_outcome_text(outcome: RequestOutcome) -> str:
    """What an existing citizen hears after opening someone's invite link."""
    name = outcome.name or _("They")
    if outcome.result is RequestResult.SENT:
        return _(
            "✉️ I've asked {name} to confirm you as a friend. You'll hear when they accept."
        ).format(name=name)
    if outcome.result is RequestResult.SELF:
        return _("That's your own invite link — share it with friends so they can join you.")
    return outcome_line(outcome)


def friend_summary(friend: FriendView) -> str:
    if friend.score is None:
        return _("{name} — {band} (keeps their score private)").format(
            name=friend.name, band=_(friend.band)
        )
    return f"{friend.name} — {friend.score}, {_(friend.band)}"


def comparison_caption(c: Comparison) -> str:
    gap = c.their_score - c.my_score
    if gap > 0:
        verdict = _("{their_name} is {gap} points ahead.").format(their_name=c.their_name, gap=gap)
    elif gap < 0:
        verdict = _("You're {value} points ahead.").format(value=-gap)
    else:
        verdict = _("You're level.")
    lines = [
        _("You and {their_name}").format(their_name=c.their_name),
        _("You: {my_score} ({my_band}) · {their_name}: {their_score} ({their_band})").format(
            my_score=c.my_score,
            my_band=_(c.my_band),
            their_name=c.their_name,
            their_score=c.their_score,
            their_band=_(c.their_band),
        ),
        verdict,
        "",
    ]
    lines += [
        _("{name}: {mine} vs {theirs}").format(
            name=_(d.name), mine=signed(d.mine), theirs=signed(d.theirs)
        )
        for d in c.dimensions
    ]
    lines += [
        "",
        _("The bars show each part as a share of the most it can add. /why explains yours."),
    ]
    return "\n".join(map(str, lines))


def leaderboard_text(board: Leaderboard) -> str:
    def line(entry: LeaderboardEntry) -> str:
        name = _("You") if entry.me else entry.name
        value = _(entry.band) if entry.score is None else f"{entry.score} ({_(entry.band)})"
        mark = " ◀" if entry.me else ""
        return f"{entry.rank}. {name} — {value}{mark}"

    lines = [_("🏆 You and your friends"), ""]
    lines += [line(entry) for entry in board.top]
    if not board.me_in_top:
        lines += ["…", line(board.me)]
    lines.append("")
    if board.size == 1:
        lines.append(
            _(
                "It's just you so far: friends appear here once they turn on "
                "leaderboards in /settings."
            )
        )
    else:
        lines.append(
            _("You're {ordinal} of {size}.").format(ordinal=ordinal(board.me.rank), size=board.size)
        )
    if board.hidden:
        who = _("friend isn't") if board.hidden == 1 else _("friends aren't")
        lines.append(
            _("{hidden} {who} shown because they keep off leaderboards.").format(
                hidden=board.hidden, who=who
            )
        )
    if not board.me_listed:
        lines.append(
            _(
                "Only you see yourself here: you're not on your friends' leaderboards. "
                "Turn that on in /settings if you'd like to be."
            )
        )
    return "\n".join(map(str, lines))


def invite_caption(url: str, accepting: bool) -> str:
    text = _(
        "Your personal invite link:\n{url}\n\nSend it to people you know, or let "
        "them scan this code. Anyone who joins with it asks to be your friend "
        "— you choose whether to accept — and you get 5 points for each person "
        "who completes registration, up to 20.\n\nAnyone with the link can ask "
        "to be your friend, so share it with people you know. You can make a "
        "new link at any time; the old one then stops working."
    ).format(url=url)
    if not accepting:
        text += _(
            "\n\nYou've turned friend requests off, so people who join with it can't "
            "ask to be your friend (you still get the points). You can change that "
            "in /settings."
        )
    return text


def pending_request_text(pending: PendingRequest) -> str:
    return request_text(pending.name, pending.via)


def request_text(name: str, via: Via) -> str:
    opening = {
        Via.CONTACTS: _("{name} would like to be your friend on Britizen.").format(name=name),
        Via.LINK: _(
            "{name} opened your invite link and would like to be your friend on Britizen."
        ).format(name=name),
        Via.INVITE: _(
            "{name} joined Britizen with your invite link and would like to be your friend."
        ).format(name=name),
    }[via]
    return _(
        "{opening}\n\nFriends see each other's band, and the score itself unless "
        "someone keeps it private. Nothing is shared until you accept. If you "
        "don't know them, you can block them."
    ).format(opening=opening)


def accepted_text(name: str) -> str:
    return _(
        "🤝 {name} accepted your friend request. You're now friends on Britizen — see /friends."
    ).format(name=name)


# --------------------------------------------------------------------------------------------
# The friends screens in the chat (handlers.friends): buttons, the list, a friend's card,
# the Telegram picker, removing a friend and the compare picker.

ADD_FRIENDS_BUTTON = "➕ Add friends"
INVITE_BUTTON = "📨 My invite link"
CHOOSE_FRIENDS_BUTTON = "👥 Choose friends"
NOT_NOW = "Not now"
PREVIOUS_BUTTON = "‹ Previous"
NEXT_BUTTON = "Next ›"
COMPARE_BUTTON = "📊 Compare"
REMOVE_FRIEND_BUTTON = "Remove friend"
ALL_FRIENDS_BUTTON = "‹ All friends"
NEW_LINK_BUTTON = "🔄 Make a new link"
YES_REMOVE_BUTTON = "Yes, remove"
NO_KEEP_BUTTON = "No, keep"
SETTINGS_BUTTON = "⚙️ Settings"
LEADERBOARD_SETTINGS_BUTTON = "⚙️ Leaderboard settings"
CHART_YOU = "You"
"""How the comparison chart labels the reader's own bars."""

OLD_LINK_GONE = "Your old link no longer works."
STRANGERS_INVITE = "Send them your invite link so they can join and ask you:"
INVITE_AS_QR = "Or show them your invite as a QR code:"
PICKER_CLOSED = "OK. /friends shows your friends whenever you want."
NO_REQUESTS_WAITING = "No friend requests are waiting for you."
COMPARE_NEEDS_SHARING = (
    "Compare shows both scores and their five parts side by side, so it needs you to "
    "share your score with friends too. Yours is set to Nobody: change it in /settings."
)
COMPARE_REFUSED_MINE = "Compare needs you to share your score with friends too: see /settings."
COMPARE_PROMPT = "Compare your score with…"


def requests_waiting_button(count: int) -> str:
    return _("Requests waiting ({count})").format(count=count)


def page_line(page: int, pages: int) -> str:
    """'Page 2 of 3' (page counts from 0)."""
    return _("Page {value} of {pages}").format(value=page + 1, pages=pages)


def friends_list_text(
    shown: Sequence[FriendView], total: int, page: int, pages: int, incoming: int
) -> str:
    """/friends: one page of friends (`shown` of `total`), and how many requests are waiting."""
    if not total:
        lines = [
            _("You haven't got any friends on Britizen yet."),
            "",
            _(
                "Pick people already on Britizen from your Telegram contacts, or send "
                "your invite link to people who aren't."
            ),
        ]
    else:
        lines = [_("Your friends ({total})").format(total=total), ""]
        lines += [f"• {friend_summary(friend)}" for friend in shown]
        if pages > 1:
            lines += ["", page_line(page, pages)]
        lines += ["", _("Tap a friend to compare or remove them.")]
    if incoming:
        waiting = (
            _("1 friend request is")
            if incoming == 1
            else _("{incoming} friend requests are").format(incoming=incoming)
        )
        lines += ["", _("{waiting} waiting for your answer.").format(waiting=waiting)]
    return "\n".join(map(str, lines))


def friend_card_text(friend: FriendView, tz: ZoneInfo) -> str:
    lines = [friend.name]
    if friend.score is None:
        lines.append(
            _("Band: {band}. {name} keeps their exact score private.").format(
                band=_(friend.band), name=friend.name
            )
        )
    else:
        lines.append(_("Score: {score} ({band})").format(score=friend.score, band=_(friend.band)))
    if friend.since is not None:
        lines.append(_("Friends since {since}").format(since=local_time(friend.since, tz)))
    return "\n".join(map(str, lines))


def picker_prompt(at_once: int) -> str:
    return _(
        "Choose people from your Telegram chats and I'll ask them to be your "
        "friend. Only people already on Britizen can be asked; for anyone else "
        "I'll give you your invite link. You can choose up to {at_once} at a "
        "time."
    ).format(at_once=at_once)


def picked_text(outcomes: Sequence[RequestOutcome], invite_url: str | None) -> str:
    """What happened to each person picked; the invite link when some aren't on Britizen."""
    lines = [outcome_line(outcome) for outcome in outcomes]
    if invite_url is not None:
        lines += ["", STRANGERS_INVITE, invite_url]
    return "\n".join(map(str, lines))


def answered_text(answer: Answer, name: str) -> str:
    """A friend request answered, in place of the request."""
    return {
        Answer.ACCEPT: _("🤝 You and {name} are now friends. See /friends.").format(name=name),
        Answer.DECLINE: _("Declined. {name} won't be told.").format(name=name),
        Answer.BLOCK: _(
            "🚫 Blocked. {name} can't send you friend requests any more, and won't be told."
        ).format(name=name),
    }[answer]


def remove_question(name: str) -> str:
    return _(
        "Remove {name} from your friends?\n\nThey won't be told. You'll stop "
        "seeing each other's band and score, and you'll stop counting towards "
        "each other's connections."
    ).format(name=name)


def removed_text(name: str) -> str:
    return _("{name} is no longer your friend.").format(name=name)


def nobody_to_compare(has_friends: bool) -> str:
    if has_friends:
        return _("None of your friends share their score yet, so there's nobody to compare with.")
    return _("You haven't got any friends on Britizen yet, so there's nobody to compare with.")


def compare_picker_text(private: int, page: int, pages: int) -> str:
    """The compare picker's heading: `private` friends can't be compared."""
    lines = [COMPARE_PROMPT]
    if private:
        lines.append(
            _("({friends_word} who keep{value} their score private can't be compared.)").format(
                friends_word=friends_word(private), value=plural_s(private, one=True)
            )
        )
    if pages > 1:
        lines.append(page_line(page, pages))
    return "\n".join(map(str, lines))


def their_score_private(name: str) -> str:
    return _("{name} keeps their score private, so you can't compare.").format(name=name)


# The buttons under a friend request (services.friendship queues them with the request).
ACCEPT_BUTTON = "✅ Accept"
DECLINE_BUTTON = "Decline"
BLOCK_BUTTON = "🚫 Block"
