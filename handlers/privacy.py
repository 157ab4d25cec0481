"""/settings: a menu of toggles, one row of buttons per setting (privacy, loan reminders, offers).

Each setting is a :class:`Toggle` in ``TOGGLES``; a later feature (offers, reminders) adds its
own entries and a line to ``_current`` and the screen, buttons and callback handling follow.
Buttons carry the value they set ("set:<key>:<value>"), not "flip", so a double tap or a replayed
press sets the same thing again instead of undoing it; and a settings button only ever changes
the account of the person pressing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import Arg, BadCallback, Codec
from services.friends_model import SCORE_FRIENDS, SCORE_NOBODY, PrivacySettings
from texts.offers import SCORE_NOTE

MARKETING = "marketing_opt_in"
"""Kept by the offers service (opting out also cancels queued offers), not the friends one."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    explanation: str
    """What this choice means, shown while it is the current one."""
    saved_note: str | None = None
    """Said as an alert the moment this choice is made: a limit worth knowing right then."""


@dataclass(frozen=True)
class Toggle:
    key: str
    """Short name used in callback data."""
    setting: str
    """The service's name for the setting."""
    title: str
    button: str
    """Prefix of this toggle's buttons, so every button on the screen reads differently."""
    choices: tuple[Choice, ...]


TOGGLES: tuple[Toggle, ...] = (
    Toggle(
        "sc",
        "score_visibility",
        "Who can see your score",
        "Score",
        (
            Choice(
                SCORE_FRIENDS,
                "Friends",
                "Your friends see your score and can compare its five parts with theirs.",
            ),
            Choice(
                SCORE_NOBODY,
                "Nobody",
                "Nobody sees your score; friends see only your band, and compare is off for you.",
            ),
        ),
    ),
    Toggle(
        "lb",
        "on_leaderboard",
        "Appear on your friends' leaderboards",
        "Leaderboard",
        (
            Choice(
                "yes",
                "Yes",
                "Friends see your place on /leaderboard (with your score if they can see it).",
            ),
            Choice(
                "no", "No", "You're left off your friends' leaderboards. Off unless you opt in."
            ),
        ),
    ),
    Toggle(
        "rq",
        "accepts_friend_requests",
        "Receive friend requests",
        "Requests",
        (
            Choice("yes", "Yes", "People on Britizen can ask to be your friend; you decide."),
            Choice(
                "no",
                "No",
                "Nobody can send you a friend request, not even through your invite link. You "
                "can still send them.",
            ),
        ),
    ),
    Toggle(
        "rm",
        "friendly_reminders",
        "Friendly loan reminders (3 days before, on the day)",
        "Reminders",
        (
            Choice(
                "yes",
                "On",
                "You get a reminder 3 days before each loan instalment is due and on the day.",
            ),
            Choice(
                "no",
                "Off",
                "No reminders before or on the day. If an instalment is overdue you're still "
                "told (1 and 7 days after): overdue reminders can't be switched off.",
                saved_note=(
                    "Saved: friendly reminders are off. Overdue reminders can't be switched off "
                    "— if an instalment is late, you'll still hear about it."
                ),
            ),
        ),
    ),
    Toggle(
        "of",
        MARKETING,
        "Sponsor offers",
        "Offers",
        (
            Choice(
                "yes",
                "On",
                "Sponsors can send you offers, each labelled as sponsored with a “Stop offers” "
                f"button; /offers lists them. {SCORE_NOTE}",
            ),
            Choice(
                "no",
                "Off",
                "You get no sponsor offers. Off unless you opt in.",
                saved_note=(
                    "Saved: offers are off. Nothing more will be sent, including any offer "
                    "still queued for you."
                ),
            ),
        ),
    ),
)
_BY_KEY = {toggle.key: toggle for toggle in TOGGLES}
SETTINGS = Codec("set", {"open": Arg.NONE, **{toggle.key: Arg.WORD for toggle in TOGGLES}})
"""`set:open` shows the screen; `set:<toggle>:<value>` sets a value (never "flip")."""


def _current(settings: PrivacySettings, offers: bool) -> dict[str, str]:
    """Each setting's value as the toggles name it."""
    return {
        MARKETING: "yes" if offers else "no",
        "score_visibility": settings.score_visibility,
        "on_leaderboard": "yes" if settings.on_leaderboard else "no",
        "accepts_friend_requests": "yes" if settings.accepts_friend_requests else "no",
        "friendly_reminders": "yes" if settings.friendly_reminders else "no",
    }


def settings_screen(settings: PrivacySettings, *, offers: bool) -> tuple[str, InlineKeyboardMarkup]:
    values = _current(settings, offers)
    lines = ["⚙️ Your settings"]
    rows = []
    for toggle in TOGGLES:
        chosen = values[toggle.setting]
        current = next((c for c in toggle.choices if c.value == chosen), toggle.choices[0])
        lines += ["", f"{toggle.title}: {current.label}", current.explanation]
        rows.append(
            [
                InlineKeyboardButton(
                    f"{'✓ ' if choice.value == chosen else ''}{toggle.button}: {choice.label}",
                    callback_data=SETTINGS.encode(toggle.key, choice.value),
                )
                for choice in toggle.choices
            ]
        )
    lines += ["", "Tap a button to change a setting."]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


@registered_only
async def show_settings(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    settings = await context.services.friends.settings(update.effective_user.id)
    offers = await context.services.offers.opted_in(update.effective_user.id)
    text, markup = settings_screen(settings, offers=offers)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = SETTINGS.decode(query.data)
    friends = context.services.friends
    if press.action == "open":
        settings = await friends.settings(user.id)
        offers = await context.services.offers.opted_in(user.id)
        await query.answer()
        text, markup = settings_screen(settings, offers=offers)
        await context.bot.send_message(user.id, text, reply_markup=markup)
        return
    toggle = _BY_KEY[press.action]
    chosen = next((choice for choice in toggle.choices if choice.value == press.argument), None)
    if chosen is None:
        raise BadCallback(f"no choice {press.argument!r} for {toggle.key}")
    if toggle.setting == MARKETING:
        await context.services.offers.set_marketing(user.id, chosen.value == "yes")
        settings = await friends.settings(user.id)
    else:
        settings = await friends.change_setting(user.id, toggle.setting, chosen.value)
    offers = await context.services.offers.opted_in(user.id)
    if chosen.saved_note is None:
        await query.answer("Saved.")
    else:
        await query.answer(chosen.saved_note, show_alert=True)
    await edit_in_place(update, *settings_screen(settings, offers=offers))
