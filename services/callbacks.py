"""Typed callback data: one codec per button family instead of a regex and a `split(":")` each.

A button's data is `<family>:<action>[:<argument>]` (or `<family>:<argument>` for a family whose
only action takes a bare id, like `cmp:<id>`), always under Telegram's 64 bytes. The strings on
the wire are unchanged from before the codecs, so buttons already sitting in people's chats keep
working.

Handlers are routed by family prefix only; decoding checks the rest. Data that does not decode
(forged, truncated, from a version of the bot that had other actions) raises `BadCallback`, a
`StaleAction`, which the error map answers "no longer available" without changing anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from services.errors import StaleAction


class BadCallback(StaleAction):
    """Callback data that is not one of ours: nothing is done for it."""


class Arg(Enum):
    """What follows an action."""

    NONE = ""
    ID = r"\d{1,12}"
    """A database id or page number: ASCII digits only (a superscript digit is not an id)."""
    WORD = r"[a-z0-9_]{1,32}"
    """A key from a fixed list (a dimension, a setting's value)."""
    TOKEN = r"[\w-]{1,40}"
    """An opaque token (a loan application key)."""
    OPTIONAL_WORD = r"(?::[a-z0-9_]{1,32})?"
    """A menu action that may carry a chosen key: `dsp:dim` opens it, `dsp:dim:history` picks."""


BARE = ""
"""The action name of a family's bare-argument form: `cmp:<id>`."""


@dataclass(frozen=True)
class Press:
    """One decoded button press."""

    action: str
    argument: str | None = None

    @property
    def number(self) -> int:
        """The argument as an int; BadCallback when there is none."""
        if self.argument is None or not self.argument.isascii() or not self.argument.isdigit():
            raise BadCallback(f"no number in {self}")
        return int(self.argument)

    @property
    def word(self) -> str:
        if self.argument is None:
            raise BadCallback(f"no argument in {self}")
        return self.argument


class Codec:
    """A family of buttons: `Codec("fl", p=Arg.ID, v=Arg.ID, **{"in": Arg.NONE})`."""

    def __init__(self, family: str, actions: Mapping[str, Arg]) -> None:
        self.family = family
        self.actions = dict(actions)
        forms = []
        for action, arg in self.actions.items():
            if action == BARE:
                forms.append(f"(?P<bare>{arg.value})")
            elif arg is Arg.NONE:
                forms.append(re.escape(action))
            elif arg is Arg.OPTIONAL_WORD:
                forms.append(f"{re.escape(action)}{arg.value}")
            else:
                forms.append(f"{re.escape(action)}:{arg.value}")
        self._full = re.compile(rf"^{re.escape(family)}:(?:{'|'.join(forms)})$", re.ASCII)

    @property
    def pattern(self) -> str:
        """For PTB's CallbackQueryHandler: route the whole family; `decode` checks the rest."""
        return rf"^{re.escape(self.family)}:"

    def action_pattern(self, *actions: str) -> str:
        """Route only some actions of a family (the rest go to other handlers)."""
        names = "|".join(re.escape(action) for action in actions)
        return rf"^{re.escape(self.family)}:(?:{names})(?::|$)"

    def encode(self, action: str, argument: int | str | None = None) -> str:
        arg = self.actions.get(action)
        if arg is None:
            raise KeyError(f"{self.family} has no action {action!r}")
        parts = [self.family] if action == BARE else [self.family, action]
        if arg is Arg.OPTIONAL_WORD:
            if argument is not None:
                parts.append(str(argument))
        elif arg is not Arg.NONE:
            if argument is None:
                raise ValueError(f"{self.family}:{action} needs an argument")
            parts.append(str(argument))
        data = ":".join(parts)
        if not self._full.match(data):
            raise ValueError(f"{data!r} is not valid callback data for {self.family}")
        return data

    def decode(self, data: str | None) -> Press:
        match = self._full.match(data or "")
        if match is None:
            raise BadCallback(f"not {self.family} callback data")
        rest = (data or "")[len(self.family) + 1 :]
        if match.groupdict().get("bare"):
            return Press(BARE, rest)
        action, _, argument = rest.partition(":")
        return Press(action, argument or None)


# --------------------------------------------------------------------------------------------
# Every family the bot sends, in one table (the module docstrings of the handlers say more).
# Settings buttons (`set:open`, `set:<setting>:<value>`) are built from the toggle table in
# handlers/privacy.py, which knows the setting keys.

SCORE = Codec("score", {"why": Arg.NONE, "history": Arg.NONE, "benefits": Arg.NONE})
# What if… under /why: a preview that changes nothing (scoring.whatif.Change values).
WHAT_IF = Codec("wif", {"pay": Arg.NONE, "miss": Arg.NONE, "friend": Arg.NONE})
FRIEND_REQUEST = Codec("fq", {"acc": Arg.ID, "dec": Arg.ID, "blk": Arg.ID, "show": Arg.ID})
FRIEND_LIST = Codec("fl", {"p": Arg.ID, "v": Arg.ID, "rm": Arg.ID, "rmy": Arg.ID, "in": Arg.NONE})
FRIEND_PICK = Codec("fa", {"pick": Arg.NONE})
COMPARE = Codec("cmp", {BARE: Arg.ID, "p": Arg.ID})
INVITE = Codec("inv", {"show": Arg.NONE, "new": Arg.NONE})
# "block" answers a request No and blocks its partner; "bp"/"ub" block/unblock from /share;
# "score" makes a code that shares the score itself (the explicit choice, issue 20).
SHARE = Codec(
    "share",
    {
        "new": Arg.NONE,
        "score": Arg.NONE,
        "allow": Arg.ID,
        "deny": Arg.ID,
        "block": Arg.ID,
        "bp": Arg.ID,
        "ub": Arg.ID,
    },
)
# "yes" carries the prompt's token; a bare "del:yes" (an old button) decodes and is refused.
DELETE = Codec("del", {"yes": Arg.OPTIONAL_WORD, "no": Arg.NONE})
DISPUTE = Codec(
    "dsp",
    {
        "dim": Arg.OPTIONAL_WORD,
        "ev": Arg.OPTIONAL_WORD,
        "dec": Arg.OPTIONAL_WORD,
        "bat": Arg.OPTIONAL_WORD,
    },
)
REVIEW = Codec("rev", {"up": Arg.ID, "rej": Arg.ID})
OFFERS = Codec("off", {"opt": Arg.WORD, "p": Arg.ID, "r": Arg.ID, "stop": Arg.NONE})
LOAN = Codec("loan", {"amt": Arg.ID, "term": Arg.ID, "ok": Arg.TOKEN, "no": Arg.TOKEN})
LOAN_PAY = Codec("loans", {"pay": Arg.ID})
# "I can't pay this" (an instalment id), the free debt help list, a reviewer's Agree/Decline.
PAYMENT_PLAN = Codec("plan", {"ask": Arg.ID, "help": Arg.NONE})
PLAN_REVIEW = Codec("ppr", {"ok": Arg.ID, "no": Arg.ID})
LOAN_SETTLE = Codec("settle", {"all": Arg.ID})
REGISTRATION = Codec("reg", {"consent": Arg.WORD, "postcode": Arg.WORD})
# "Someone registered with my NI number": Report this, Skip the document, the holder's reply;
# a reviewer's Move / Reject (then a note).
NI_CLAIM = Codec("nic", {"report": Arg.NONE, "skip": Arg.NONE, "resp": Arg.ID})
NI_REVIEW = Codec("nir", {"mv": Arg.ID, "rej": Arg.ID})
# Growth outreach (issue 19): "Stop these messages" on every growth ask (acts on the presser's
# own opt-in only, so a stale copy works too), and /contest's buttons, which carry the contest
# id so a button from an ended contest changes nothing: show, join listed / unlisted, and
# show / hide one's name on the board.
GROWTH = Codec("grow", {"stop": Arg.NONE})
CONTEST = Codec("cst", {"show": Arg.NONE, "jl": Arg.ID, "ju": Arg.ID, "ls": Arg.ID, "hd": Arg.ID})
# Boost (issue 20): open /boost, invite a landlord / agent / council (a role), and Confirm or
# Dispute a late or missed payment a Boost partner reported (a payment event id).
BOOST = Codec(
    "boost",
    {
        "open": Arg.NONE,
        "inv": Arg.WORD,
        "ok": Arg.ID,
        "no": Arg.ID,
        "rm": Arg.ID,  # Remove a Boost partner: the confirm step
        "rmy": Arg.ID,  # ... Yes, remove them
        "rmn": Arg.ID,  # ... No, keep them
        "cx": Arg.ID,  # Cancel a waiting invitation
    },
)
