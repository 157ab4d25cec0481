"""Callback codecs: what goes on the wire decodes to what was meant, and nothing else does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import callbacks as cb
from services.callbacks import BARE, Arg, BadCallback, Codec, Press

ALL = [v for v in vars(cb).values() if isinstance(v, Codec)]


def _argument(arg: Arg) -> st.SearchStrategy[str | int | None]:
    if arg is Arg.NONE:
        return st.none()
    if arg is Arg.ID:
        return st.integers(min_value=0, max_value=10**12 - 1)
    if arg is Arg.OPTIONAL_WORD:
        return st.none() | st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True)
    return st.from_regex(re.compile(arg.value, re.ASCII), fullmatch=True)


@st.composite
def presses(draw: st.DrawFn) -> tuple[Codec, str, str | int | None]:
    codec = draw(st.sampled_from(ALL))
    action = draw(st.sampled_from(sorted(codec.actions)))
    return codec, action, draw(_argument(codec.actions[action]))


@given(presses())
def test_every_button_round_trips_and_fits_telegrams_64_bytes(
    press: tuple[Codec, str, str | int | None],
) -> None:
    codec, action, argument = press
    data = codec.encode(action, argument)
    assert len(data.encode()) <= 64
    assert re.match(codec.pattern, data)
    decoded = codec.decode(data)
    assert decoded == Press(action, None if argument is None else str(argument))


@given(st.text(max_size=80))
def test_anything_else_is_refused_as_bad_callback_never_another_error(data: str) -> None:
    for codec in ALL:
        try:
            press = codec.decode(data)
        except BadCallback:
            continue
        assert codec.encode(press.action, press.argument) == data


def test_the_wire_format_is_what_buttons_already_in_chats_carry() -> None:
    assert cb.COMPARE.encode(BARE, 7) == "cmp:7"
    assert cb.FRIEND_LIST.encode("in") == "fl:in"
    assert cb.DISPUTE.encode("dim") == "dsp:dim"
    assert cb.DISPUTE.encode("dim", "payment_history") == "dsp:dim:payment_history"
    assert cb.OFFERS.encode("r", 12) == "off:r:12"
    assert cb.LOAN.encode("ok", "a1-b2") == "loan:ok:a1-b2"
    assert cb.REGISTRATION.encode("postcode", "skip") == "reg:postcode:skip"


@pytest.mark.parametrize("data", ["cmp:²", "cmp:p:", "fl:v:1:2", "off:r:1 ", "", None])
def test_non_ascii_digits_and_extra_parts_do_not_decode(data: str | None) -> None:
    for codec in (cb.COMPARE, cb.FRIEND_LIST, cb.OFFERS):
        with pytest.raises(BadCallback):
            codec.decode(data)


def test_a_press_without_a_number_is_bad_callback() -> None:
    with pytest.raises(BadCallback):
        _ = Press("p", None).number
