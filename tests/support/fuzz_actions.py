"""What a fuzzed Telegram user can do, as small frozen actions, and Hypothesis strategies for them.

An action names people and chats by role (a user id from USERS, a place: "private", "group",
"supergroup", "channel"), never by state the bot created: the driver (tests/support/fuzz_driver.py)
resolves "press the 2nd newest real button" or "pay the latest invoice" against what the bot
really sent, so every generated list of actions can run from a fresh service, and shrinks well.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from handlers.commands import COMMANDS
from handlers.friends import NOT_NOW
from handlers.privacy import SETTINGS
from services import callbacks as cb
from standin.formatting import utf16_len
from standin.kinds import MEDIA_KINDS

# Four people, each with a valid NI number of their own (so registration can succeed).
USERS: dict[int, str] = {
    701: "AB 12 34 56 C",
    702: "AB 65 43 21 D",
    703: "AB 60 10 01 A",
    704: "AB 60 10 02 B",
}
DOB = "14/03/1990"
GROUP, SUPERGROUP, CHANNEL = -1001, -100200, -100300
PLACES = {"group": GROUP, "supergroup": SUPERGROUP}
BOT_NAME = "BritizenTestBot"
TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64


@dataclass(frozen=True)
class Say:
    """A text message (a command when it starts with "/"); "{ni}" and "{dob}" are the user's."""

    user: int
    where: str
    text: str


@dataclass(frozen=True)
class Media:
    user: int
    where: str
    kind: str
    caption: str | None = None


@dataclass(frozen=True)
class Edit:
    """The user edits their newest message in that place (nothing if there is none)."""

    user: int
    where: str
    text: str


@dataclass(frozen=True)
class Post:
    """A post in the channel the bot is in."""

    text: str
    edited: bool = False


@dataclass(frozen=True)
class Member:
    """The bot's membership of a group, supergroup or channel changes (added by `user`)."""

    user: int
    where: str
    old: str
    new: str


@dataclass(frozen=True)
class Block:
    """The user blocks the bot (unblocked again by their next action, as Telegram does)."""

    user: int


@dataclass(frozen=True)
class Press:
    """A button press: `data` None presses one of the bot's real buttons in the user's private
    chat (`pick` counts from the newest, so old ones are stale); in a group, under an old bot
    message there carrying the data."""

    user: int
    where: str
    data: str | None
    pick: int = 0


@dataclass(frozen=True)
class Checkout:
    """A pre_checkout_query; payload "@invoice" is the newest invoice the bot sent anyone,
    amount None its own amount."""

    user: int
    payload: str
    amount: int | None
    currency: str


@dataclass(frozen=True)
class Paid(Checkout):
    """A successful_payment message; the same charge id twice is a redelivery."""

    charge: str | None = None


@dataclass(frozen=True)
class Register:
    """The whole registration conversation, as far as the bot lets it go."""

    user: int
    postcode: str | None = None


@dataclass(frozen=True)
class Borrow:
    """/loan, an amount button, a term button, Confirm, the NI number: as far as it goes."""

    user: int
    amount_pick: int = 0
    term_pick: int = 0


@dataclass(frozen=True)
class PayDue:
    """/loans, the Pay button, then checkout and payment of that invoice at its amount."""

    user: int


Action = (
    Say
    | Media
    | Edit
    | Post
    | Member
    | Block
    | Press
    | Checkout
    | Paid
    | Register
    | Borrow
    | PayDue
)

# ---------------------------------------------------------------------------------------------
# Text

ODD = (
    "\u202e",  # right-to-left override
    "\u202d",
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero width space
    "\u200d",  # zero width joiner
    "\ufeff",
    "\u0301",  # combining acute
    "\u0000",
    "\u007f",
    "\u00a0",
    "\u3000",
    "\u00b2",  # superscript two: isdigit() but not a decimal
    "\u0663",  # Arabic-Indic three: isdecimal()
    "\uff11",  # fullwidth one
    "😀",
    "👨‍👩‍👧",
    "🇬🇧",
    "ﷺ",
    "𒐫",
    "<b>",
    "&amp;",
    "*_`[",
)
MEANINGFUL = (
    "{ni}",
    "{ni_lower}",
    "{dob}",
    "AB 12 34 56 C",
    "SW1A",
    "sw1a 1aa",
    "E1",
    "150",
    "£100",
    "50",
    "0",
    "-5",
    "1e9",
    "99999999999999999999",
    "14/03/2020",
    "31/02/1990",
    "01/01/1900",
    "yes",
    NOT_NOW,
    "I was never late, the lender made a mistake",
)
COMMAND_NAMES = (*(name for name, _ in COMMANDS), "start", "Score", "LOAN", "nope")
ADDRESSEES = ("", "", f"@{BOT_NAME}", f"@{BOT_NAME.lower()}", "@OtherBot")


def _fit(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Cut to Telegram's limit in UTF-16 units (emoji count twice)."""
    while (excess := utf16_len(text) - limit) > 0:
        text = text[: -max(1, excess // 2)]
    return text


odd_chars = st.sampled_from(ODD) | st.characters(exclude_categories=["Cs"])


def odd(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text from odd pieces: bidi controls, zero-width, NUL, emoji sequences, markup..."""
    return st.lists(odd_chars, min_size=min_size, max_size=max_size).map("".join)


odd_text = odd(1, 40)
huge_text = st.builds(
    lambda unit, extra: _fit(unit * (TELEGRAM_TEXT_LIMIT // max(1, utf16_len(unit)) + 1) + extra),
    odd(1, 6),
    odd(0, 3),
)
command_text = st.builds(
    lambda name, to, args: _fit(f"/{name}{to}{args}"),
    st.sampled_from(COMMAND_NAMES),
    st.sampled_from(ADDRESSEES),
    st.just("") | st.sampled_from(MEANINGFUL).map(" {}".format) | odd_text.map(" {}".format),
)
text = st.one_of(
    st.sampled_from(MEANINGFUL),
    command_text,
    command_text,
    odd_text,
    st.builds(lambda a, b: a + b, st.sampled_from(MEANINGFUL), odd_text),
    huge_text,
)

# ---------------------------------------------------------------------------------------------
# Callback data


def _codecs() -> list[cb.Codec]:
    return [v for v in vars(cb).values() if isinstance(v, cb.Codec)] + [SETTINGS]


CODECS = _codecs()
_argument = st.one_of(
    st.integers(min_value=0, max_value=40).map(str),
    st.integers(min_value=0, max_value=10**13).map(str),
    st.sampled_from(["", "-1", "\u00b2", "\u0663", "x", "on", "off", "all", "history", "a" * 40]),
    odd(0, 8),
)


def _codec_data(codec: cb.Codec, action: str, arguments: list[str]) -> str:
    parts = [codec.family] + ([action] if action else []) + arguments
    return ":".join(parts)


codec_data = st.sampled_from(CODECS).flatmap(
    lambda codec: st.builds(
        _codec_data,
        st.just(codec),
        st.sampled_from([*codec.actions, "zz"]),
        st.lists(_argument, max_size=2),
    )
)


def _fits_callback(data: str) -> bool:
    return 0 < len(data.encode()) <= CALLBACK_DATA_LIMIT


callback_data = (codec_data | odd(1, 64)).filter(_fits_callback)

# ---------------------------------------------------------------------------------------------
# Actions

users = st.sampled_from(sorted(USERS))
places = st.sampled_from(["private", "private", "private", "group", "supergroup"])
payloads = st.one_of(
    st.just("@invoice"),
    st.just("@invoice"),
    st.builds("inst:{}:{}".format, st.integers(0, 50), st.integers(0, 10**7)),
    st.builds(
        "inst:{}:{}:{}".format,
        st.integers(0, 10**12),
        st.integers(0, 10**7),
        st.sampled_from(["", "abc", "0" * 12]),
    ),
    odd(1, 40).filter(lambda p: len(p.encode()) <= 128),
)
amounts = st.none() | st.integers(min_value=1, max_value=10**7)
currencies = st.sampled_from(["GBP", "GBP", "XTR", "USD"])
charges = st.none() | st.sampled_from(["charge-1", "charge-2", "charge-3"])
statuses = st.sampled_from(["member", "administrator", "left", "kicked"])

actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Say, users, places, text),
    st.builds(Say, users, st.just("private"), text),
    st.builds(Media, users, places, st.sampled_from(MEDIA_KINDS), st.none() | text),
    st.builds(Edit, users, places, text),
    st.builds(Post, text, st.booleans()),
    st.builds(
        Member, users, st.sampled_from(["group", "supergroup", "channel"]), statuses, statuses
    ),
    st.builds(Block, users),
    st.builds(Press, users, st.just("private"), st.none(), st.integers(0, 6)),
    st.builds(Press, users, st.just("private"), st.none(), st.just(0)),
    st.builds(Press, users, places, callback_data),
    st.builds(Checkout, users, payloads, amounts, currencies),
    st.builds(Paid, users, payloads, amounts, currencies, charges),
    st.builds(Register, users, st.none() | st.sampled_from(["SW1A", "E1", "zz99"])),
    st.builds(Borrow, users, st.integers(0, 3), st.integers(0, 3)),
    st.builds(PayDue, users),
)

# People register, borrow and pay first more often than chance would have it, so the random
# actions after that meet accounts, loans, invoices and payments.
setup = st.one_of(
    st.builds(Register, users, st.none()),
    st.builds(Borrow, users, st.integers(0, 3), st.integers(0, 3)),
    st.builds(PayDue, users),
)


def plans(steps: int) -> st.SearchStrategy[list[Action]]:
    return st.builds(
        lambda first, then: first + then,
        st.lists(setup, max_size=6),
        st.lists(actions, min_size=steps // 4, max_size=steps),
    )
