"""What /settings says: each setting's title and button prefix, and each choice's label, what it
means and (for a few) a note said the moment it is chosen. Keyed by the service's name for the
setting and the value a choice sets; handlers.privacy holds which settings and choices exist."""

from __future__ import annotations

from dataclasses import dataclass

from services.friends_model import SCORE_FRIENDS, SCORE_NOBODY
from texts.offers import SCORE_NOTE


@dataclass(frozen=True)
class ChoiceWording:
    label: str
    explanation: str
    """What this choice means, shown while it is the current one."""
    saved_note: str | None = None
    """Said as an alert the moment this choice is made: a limit worth knowing right then."""


@dataclass(frozen=True)
class SettingWording:
    title: str
    button: str
    """Prefix of this setting's buttons, so every button on the screen reads differently."""
    choices: dict[str, ChoiceWording]


SETTINGS: dict[str, SettingWording] = {
    "score_visibility": SettingWording(
        "Who can see your score",
        "Score",
        {
            SCORE_FRIENDS: ChoiceWording(
                "Friends",
                "Your friends see your score and can compare its five parts with theirs.",
            ),
            SCORE_NOBODY: ChoiceWording(
                "Nobody",
                "Nobody sees your score; friends see only your band, and compare is off for you.",
            ),
        },
    ),
    "on_leaderboard": SettingWording(
        "Appear on your friends' leaderboards",
        "Leaderboard",
        {
            "yes": ChoiceWording(
                "Yes",
                "Friends see your place on /leaderboard (with your score if they can see it).",
            ),
            "no": ChoiceWording(
                "No", "You're left off your friends' leaderboards. Off unless you opt in."
            ),
        },
    ),
    "accepts_friend_requests": SettingWording(
        "Receive friend requests",
        "Requests",
        {
            "yes": ChoiceWording(
                "Yes", "People on Britizen can ask to be your friend; you decide."
            ),
            "no": ChoiceWording(
                "No",
                "Nobody can send you a friend request, not even through your invite link. You "
                "can still send them.",
            ),
        },
    ),
    "friendly_reminders": SettingWording(
        "Friendly loan reminders (3 days before, on the day)",
        "Reminders",
        {
            "yes": ChoiceWording(
                "On",
                "You get a reminder 3 days before each loan instalment is due and on the day.",
            ),
            "no": ChoiceWording(
                "Off",
                "No reminders before or on the day. If an instalment is overdue you're still "
                "told (1 and 7 days after): overdue reminders can't be switched off.",
                saved_note=(
                    "Saved: friendly reminders are off. Overdue reminders can't be switched off "
                    "— if an instalment is late, you'll still hear about it."
                ),
            ),
        },
    ),
    "marketing_opt_in": SettingWording(
        "Sponsor offers",
        "Offers",
        {
            "yes": ChoiceWording(
                "On",
                "Sponsors can send you offers, each labelled as sponsored with a “Stop offers” "
                f"button; /offers lists them. {SCORE_NOTE}",
            ),
            "no": ChoiceWording(
                "Off",
                "You get no sponsor offers. Off unless you opt in.",
                saved_note=(
                    "Saved: offers are off. Nothing more will be sent, including any offer "
                    "still queued for you."
                ),
            ),
        },
    ),
    "growth_opt_in": SettingWording(
        "Help Britizen grow: occasional asks to invite people you know",
        "Help grow",
        {
            "yes": ChoiceWording(
                "On",
                "Now and then Britizen may ask you to invite people you know, with your invite "
                "link. Each ask has a “Stop these messages” button.",
            ),
            "no": ChoiceWording(
                "Off",
                "Britizen won't ask you to invite anyone. Off unless you opt in.",
                saved_note=(
                    "Saved: no more asks to invite people, including any still waiting to be sent."
                ),
            ),
        },
    ),
}

HEADING = "⚙️ Your settings"
FOOTER = "Tap a button to change a setting."
SAVED = "Saved."


def current_line(title: str, label: str) -> str:
    """'Who can see your score: Friends'."""
    return f"{title}: {label}"


def choice_button(prefix: str, label: str, *, chosen: bool) -> str:
    """'✓ Score: Friends' for the current choice, 'Score: Nobody' for the others."""
    return f"{'✓ ' if chosen else ''}{prefix}: {label}"
