"""/invite, /friends, /compare and /leaderboard; picking friends from Telegram; the buttons on a
friend request; opening someone's invite link.

Callback data (all under 64 bytes) carries only ids the service re-checks against the person
pressing, so a forged or replayed button is told "no longer available" and changes nothing:

    fq:acc|dec|blk|show:<request id>    a friend request (only its recipient may answer)
    fl:p:<page>  fl:v:<id>  fl:rm:<id>  fl:rmy:<id>  fl:in      the friends list
    fa:pick                              show the Telegram friend picker
    cmp:<id>  cmp:p:<page>               compare
    inv:show  inv:new                    the invite link
"""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestUsers,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

import texts.common as texts
from handlers.context import BotContext
from handlers.guards import registered_button, registered_only
from handlers.ui import edit_in_place
from services.callbacks import BARE, COMPARE, FRIEND_LIST, FRIEND_PICK, FRIEND_REQUEST, INVITE
from services.charts import comparison_png
from services.errors import NotRegistered
from services.friends_model import (
    Answer,
    FriendsOverview,
    FriendView,
    RequestResult,
    ScoreNotShared,
)
from services.friendship import request_markup
from services.invites import invite_url
from texts import friends as words
from texts.friends import (
    NOT_NOW,
    comparison_caption,
    invite_caption,
    leaderboard_text,
    link_outcome_text,
    pending_request_text,
)

logger = logging.getLogger(__name__)


PAGE_SIZE = 8
FRIEND_PICKER_ID = 1
"""request_id of the reply-keyboard button that picks Telegram users to ask as friends."""
PICK_AT_ONCE = 10

ADD_FRIENDS_BUTTON = InlineKeyboardButton(
    words.ADD_FRIENDS_BUTTON, callback_data=FRIEND_PICK.encode("pick")
)
INVITE_BUTTON = InlineKeyboardButton(words.INVITE_BUTTON, callback_data=INVITE.encode("show"))
PICKER_KEYBOARD = ReplyKeyboardMarkup(
    [
        [
            KeyboardButton(
                words.CHOOSE_FRIENDS_BUTTON,
                request_users=KeyboardButtonRequestUsers(
                    request_id=FRIEND_PICKER_ID,
                    user_is_bot=False,
                    max_quantity=PICK_AT_ONCE,
                    # Names let us say "Sam isn't on Britizen yet" about someone we don't know.
                    request_name=True,
                ),
            )
        ],
        [KeyboardButton(NOT_NOW)],
    ],
    resize_keyboard=True,
    one_time_keyboard=True,
)


def _presser(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


# --------------------------------------------------------------------------------------------
# Screens (the wording is texts.friends')


def friends_page(overview: FriendsOverview, page: int) -> tuple[str, InlineKeyboardMarkup, int]:
    """The list text, its buttons, and the page actually shown (clamped)."""
    friends = overview.friends
    pages = max(1, -(-len(friends) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = friends[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[list[InlineKeyboardButton]] = []
    if friends:
        buttons = [
            InlineKeyboardButton(
                friend.name, callback_data=FRIEND_LIST.encode("v", friend.citizen_id)
            )
            for friend in shown
        ]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(
                    words.PREVIOUS_BUTTON, callback_data=FRIEND_LIST.encode("p", page - 1)
                )
            )
        if page < pages - 1:
            nav.append(
                InlineKeyboardButton(
                    words.NEXT_BUTTON, callback_data=FRIEND_LIST.encode("p", page + 1)
                )
            )
        if nav:
            rows.append(nav)
    incoming = len(overview.incoming)
    if incoming:
        rows.append(
            [InlineKeyboardButton(words.requests_waiting_button(incoming), callback_data="fl:in")]
        )
    rows.append([ADD_FRIENDS_BUTTON, INVITE_BUTTON])
    text = words.friends_list_text(shown, len(friends), page, pages, incoming)
    return text, InlineKeyboardMarkup(rows), page


def friend_card(friend: FriendView, context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    rows = []
    if friend.shares_score:
        rows.append(
            [
                InlineKeyboardButton(
                    words.COMPARE_BUTTON, callback_data=COMPARE.encode(BARE, friend.citizen_id)
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                words.REMOVE_FRIEND_BUTTON,
                callback_data=FRIEND_LIST.encode("rm", friend.citizen_id),
            ),
            InlineKeyboardButton(words.ALL_FRIENDS_BUTTON, callback_data="fl:p:0"),
        ]
    )
    return words.friend_card_text(friend, context.timezone), InlineKeyboardMarkup(rows)


# --------------------------------------------------------------------------------------------
# /invite and invite links


async def _send_invite(update: Update, context: BotContext, *, fresh: bool = False) -> None:
    user = update.effective_user
    assert user is not None
    invites = context.services.invites
    code = await (invites.new_code(user.id) if fresh else invites.code_for(user.id))
    url = invite_url(context.bot.username, code)
    png = await invites.qr_png(url)
    accepting = (await context.services.friends.settings(user.id)).accepts_friend_requests
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(words.NEW_LINK_BUTTON, callback_data="inv:new")],
            [ADD_FRIENDS_BUTTON],
        ]
    )
    await context.bot.send_photo(
        user.id,
        png,
        caption=invite_caption(url, accepting),
        reply_markup=markup,
        filename="britizen-invite.png",
    )


@registered_only
async def show_invite(update: Update, context: BotContext) -> None:
    await _send_invite(update, context)


@registered_button
async def on_invite_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    fresh = INVITE.decode(query.data).action == "new"
    await query.answer(words.OLD_LINK_GONE if fresh else None)
    await _send_invite(update, context, fresh=fresh)


async def open_invite_link(update: Update, context: BotContext, payload: str) -> None:
    """/start <code> from someone already registered: ask the link's owner to be friends."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    outcome = await context.services.invites.open_link(user.id, payload)
    await message.reply_text(link_outcome_text(outcome))


# --------------------------------------------------------------------------------------------
# Adding friends from Telegram


async def _offer_picker(message: Message) -> None:
    await message.reply_text(words.picker_prompt(PICK_AT_ONCE), reply_markup=PICKER_KEYBOARD)


async def on_pick_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if not await context.services.registration.is_registered(user.id):
        raise NotRegistered()
    await query.answer()
    if update.effective_message is None:
        return
    await _offer_picker(update.effective_message)


async def on_users_shared(update: Update, context: BotContext) -> None:
    """Someone picked people with the friend picker: a request to each one on Britizen."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    shared = message.users_shared
    if shared is None or shared.request_id != FRIEND_PICKER_ID:
        await message.reply_text(texts.UNKNOWN_TEXT, reply_markup=ReplyKeyboardRemove())
        return
    picked = [(u.user_id, u.first_name) for u in shared.users]
    try:
        outcomes = await context.services.friends.request_by_telegram_ids(user.id, picked)
    except NotRegistered:
        await message.reply_text(texts.NOT_REGISTERED, reply_markup=ReplyKeyboardRemove())
        return
    strangers = [o for o in outcomes if o.result is RequestResult.NOT_ON_BRITIZEN]
    url = None
    if strangers:
        code = await context.services.invites.code_for(user.id)
        url = invite_url(context.bot.username, code)
    # The reply also takes the picker keyboard away: it has done its job.
    await message.reply_text(words.picked_text(outcomes, url), reply_markup=ReplyKeyboardRemove())
    if strangers:
        await message.reply_text(
            words.INVITE_AS_QR,
            reply_markup=InlineKeyboardMarkup([[INVITE_BUTTON]]),
        )


async def close_picker(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        words.PICKER_CLOSED, reply_markup=ReplyKeyboardRemove()
    )


# --------------------------------------------------------------------------------------------
# Answering a request


async def on_request_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    user_id, press = _presser(update), FRIEND_REQUEST.decode(query.data)
    friends = context.services.friends
    if press.action == "show":
        pending = await friends.pending_request(user_id, press.number)
        await query.answer()
        await context.bot.send_message(
            user_id,
            pending_request_text(pending),
            reply_markup=InlineKeyboardMarkup.de_json(
                request_markup(pending.request_id), context.bot
            ),
        )
        return
    outcome = await friends.answer(user_id, press.number, Answer(press.action))
    await query.answer()
    await edit_in_place(update, words.answered_text(outcome.answer, outcome.name))


# --------------------------------------------------------------------------------------------
# /friends


@registered_only
async def show_friends(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    overview = await context.services.friends.overview(update.effective_user.id)
    text, markup, _ = friends_page(overview, 0)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_list_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    user_id, press = _presser(update), FRIEND_LIST.decode(query.data)
    friends = context.services.friends
    action = press.action
    if action == "p":
        overview = await friends.overview(user_id)
        text, markup, _ = friends_page(overview, press.number)
        await query.answer()
        await edit_in_place(update, text, markup)
    elif action == "v":
        friend = await friends.friend(user_id, press.number)
        await query.answer()
        await edit_in_place(update, *friend_card(friend, context))
    elif action == "rm":
        friend = await friends.friend(user_id, press.number)
        await query.answer()
        await edit_in_place(
            update,
            words.remove_question(friend.name),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            words.YES_REMOVE_BUTTON,
                            callback_data=FRIEND_LIST.encode("rmy", friend.citizen_id),
                        ),
                        InlineKeyboardButton(
                            words.NO_KEEP_BUTTON,
                            callback_data=FRIEND_LIST.encode("v", friend.citizen_id),
                        ),
                    ]
                ]
            ),
        )
    elif action == "rmy":
        name = await friends.remove(user_id, press.number)
        await query.answer()
        await edit_in_place(update, words.removed_text(name))
    else:  # "in": the requests waiting for this person, each with its buttons again
        overview = await friends.overview(user_id)
        await query.answer()
        if not overview.incoming:
            await context.bot.send_message(user_id, words.NO_REQUESTS_WAITING)
        for pending in overview.incoming:
            await context.bot.send_message(
                user_id,
                pending_request_text(pending),
                reply_markup=InlineKeyboardMarkup.de_json(
                    request_markup(pending.request_id), context.bot
                ),
            )


# --------------------------------------------------------------------------------------------
# /compare


def compare_picker(overview: FriendsOverview, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    comparable = [f for f in overview.friends if f.shares_score]
    if not overview.shares_score:
        return (
            words.COMPARE_NEEDS_SHARING,
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(words.SETTINGS_BUTTON, callback_data="set:open")]]
            ),
        )
    if not comparable:
        text = words.nobody_to_compare(bool(overview.friends))
        return text, InlineKeyboardMarkup([[ADD_FRIENDS_BUTTON, INVITE_BUTTON]])
    pages = -(-len(comparable) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = comparable[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    private = len(overview.friends) - len(comparable)
    buttons = [
        InlineKeyboardButton(f.name, callback_data=COMPARE.encode(BARE, f.citizen_id))
        for f in shown
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(words.PREVIOUS_BUTTON, callback_data=COMPARE.encode("p", page - 1))
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(words.NEXT_BUTTON, callback_data=COMPARE.encode("p", page + 1))
        )
    if nav:
        rows.append(nav)
    return words.compare_picker_text(private, page, pages), InlineKeyboardMarkup(rows)


@registered_only
async def show_compare(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    overview = await context.services.friends.overview(update.effective_user.id)
    text, markup = compare_picker(overview, 0)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_compare_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    user_id, press = _presser(update), COMPARE.decode(query.data)
    friends = context.services.friends
    if press.action == "p":
        overview = await friends.overview(user_id)
        text, markup = compare_picker(overview, press.number)
        await query.answer()
        await edit_in_place(update, text, markup)
        return
    try:
        comparison = await friends.comparison(user_id, press.number)
    except ScoreNotShared as refusal:
        if refusal.mine:
            reason = words.COMPARE_REFUSED_MINE
        else:
            reason = words.their_score_private(refusal.name)
        await query.answer(reason, show_alert=True)
        return
    await query.answer()
    png = await asyncio.to_thread(
        comparison_png,
        words.CHART_YOU,
        comparison.their_name,
        [(d.name, d.mine, d.theirs, d.max_points) for d in comparison.dimensions],
    )
    await context.bot.send_photo(
        user_id, png, caption=comparison_caption(comparison), filename="comparison.png"
    )


# --------------------------------------------------------------------------------------------
# /leaderboard


@registered_only
async def show_leaderboard(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    board = await context.services.friends.leaderboard(update.effective_user.id)
    markup = None
    if not board.me_listed:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(words.LEADERBOARD_SETTINGS_BUTTON, callback_data="set:open")]]
        )
    await update.effective_message.reply_text(leaderboard_text(board), reply_markup=markup)
