"""/settings: a menu of toggles, one row of buttons per setting (privacy, loan reminders, offers).

Each setting is a :class:`Toggle` in ``TOGGLES``; a later feature (offers, reminders) adds its
own entries and a line to ``_current`` and the screen, buttons and callback handling follow.
What each setting and choice is called, and what it means, is worded in texts.settings.
Buttons carry the value they set ("set:<key>:<value>"), not "flip", so a double tap or a replayed
press sets the same thing again instead of undoing it; and a settings button only ever changes
the account of the person pressing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers import language
from handlers.context import BotContext
from handlers.growth import contest_button
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import Arg, BadCallback, Codec
from services.friends_model import SCORE_FRIENDS, SCORE_NOBODY, PrivacySettings
from texts import settings as words

MARKETING = "marketing_opt_in"
"""Kept by the offers service (opting out also cancels queued offers), not the friends one."""
GROWTH = "growth_opt_in"
"""Kept by the growth outreach service (turning it off also cancels queued asks)."""


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


def _toggle(key: str, setting: str, values: tuple[str, ...]) -> Toggle:
    """A setting's toggle, worded by texts.settings."""
    wording = words.SETTINGS[setting]
    return Toggle(
        key,
        setting,
        wording.title,
        wording.button,
        tuple(
            Choice(
                value,
                wording.choices[value].label,
                wording.choices[value].explanation,
                wording.choices[value].saved_note,
            )
            for value in values
        ),
    )


TOGGLES: tuple[Toggle, ...] = (
    _toggle("sc", "score_visibility", (SCORE_FRIENDS, SCORE_NOBODY)),
    _toggle("lb", "on_leaderboard", ("yes", "no")),
    _toggle("rq", "accepts_friend_requests", ("yes", "no")),
    _toggle("rm", "friendly_reminders", ("yes", "no")),
    _toggle("of", MARKETING, ("yes", "no")),
    _toggle("gr", GROWTH, ("yes", "no")),
)
_BY_KEY = {toggle.key: toggle for toggle in TOGGLES}
SETTINGS = Codec("set", {"open": Arg.NONE, **{toggle.key: Arg.WORD for toggle in TOGGLES}})
"""`set:open` shows the screen; `set:<toggle>:<value>` sets a value (never "flip")."""


def _current(settings: PrivacySettings, offers: bool, growth: bool) -> dict[str, str]:
    """Each setting's value as the toggles name it."""
    return {
        MARKETING: "yes" if offers else "no",
        GROWTH: "yes" if growth else "no",
        "score_visibility": settings.score_visibility,
        "on_leaderboard": "yes" if settings.on_leaderboard else "no",
        "accepts_friend_requests": "yes" if settings.accepts_friend_requests else "no",
        "friendly_reminders": "yes" if settings.friendly_reminders else "no",
    }


def settings_screen(
    settings: PrivacySettings, *, offers: bool, growth: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    values = _current(settings, offers, growth)
    lines = [words.HEADING]
    rows = []
    for toggle in TOGGLES:
        chosen = values[toggle.setting]
        current = next((c for c in toggle.choices if c.value == chosen), toggle.choices[0])
        lines += ["", words.current_line(toggle.title, current.label), current.explanation]
        rows.append(
            [
                InlineKeyboardButton(
                    words.choice_button(toggle.button, choice.label, chosen=choice.value == chosen),
                    callback_data=SETTINGS.encode(toggle.key, choice.value),
                )
                for choice in toggle.choices
            ]
        )
    rows.append([contest_button()])
    rows.append([language.settings_button()])
    lines += ["", words.FOOTER]
    return "\n".join(map(str, lines)), InlineKeyboardMarkup(rows)


@registered_only
async def show_settings(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    settings = await context.services.friends.settings(update.effective_user.id)
    offers = await context.services.offers.opted_in(update.effective_user.id)
    growth = await context.services.growth.opted_in(update.effective_user.id)
    text, markup = settings_screen(settings, offers=offers, growth=growth)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = SETTINGS.decode(query.data)
    friends = context.services.friends
    if press.action == "open":
        settings = await friends.settings(user.id)
        offers = await context.services.offers.opted_in(user.id)
        growth = await context.services.growth.opted_in(user.id)
        await query.answer()
        text, markup = settings_screen(settings, offers=offers, growth=growth)
        await context.bot.send_message(user.id, text, reply_markup=markup)
        return
    toggle = _BY_KEY[press.action]
    chosen = next((choice for choice in toggle.choices if choice.value == press.argument), None)
    if chosen is None:
        raise BadCallback(f"no choice {press.argument!r} for {toggle.key}")
    if toggle.setting == MARKETING:
        await context.services.offers.set_marketing(user.id, chosen.value == "yes")
        settings = await friends.settings(user.id)
    elif toggle.setting == GROWTH:
        await context.services.growth.set_opt_in(user.id, chosen.value == "yes")
        settings = await friends.settings(user.id)
    else:
        settings = await friends.change_setting(user.id, toggle.setting, chosen.value)
    offers = await context.services.offers.opted_in(user.id)
    growth = await context.services.growth.opted_in(user.id)
    if chosen.saved_note is None:
        await query.answer(words.SAVED)
    else:
        await query.answer(chosen.saved_note, show_alert=True)
    await edit_in_place(update, *settings_screen(settings, offers=offers, growth=growth))
