"""The Welsh catalog is complete and current: every message the bot can send (module-level
wording in any texts module, and every _() in texts functions) has a Welsh translation with the
same placeholders, tags and %-conversions, none fuzzy, and the .po holds nothing stale.

A new texts module (or a new constant in one) fails this until `make i18n` has been run and its
messages translated in locale/cy/LC_MESSAGES/britizen.po (see locale/README.md)."""

from __future__ import annotations

import types

import pytest

from texts import catalog, i18n
from texts.i18n import Text, gettext, use_language


def test_every_message_has_a_welsh_translation_with_the_same_placeholders() -> None:
    problems = catalog.problems(i18n.WELSH)
    assert not problems, f"{len(problems)} catalog problems:\n" + "\n".join(problems[:40])


def test_the_catalog_holds_every_message_of_every_texts_module() -> None:
    extracted = {m.id for m in catalog.extract() if m.id}
    assert len(extracted) > 600
    # Module-level constants (also ones composed at import), and _() calls in functions.
    from texts import registration

    assert "Cancelled." in extracted
    assert str.__str__(registration.CONSENT_GIVEN) in extracted
    assert "Your Britizen score: {score} — {band}" in extracted


def test_a_new_texts_module_is_picked_up_and_reported_untranslated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What another feature's new module (texts/growth.py...) gets without doing anything."""
    module = types.ModuleType("texts.zz_new_feature")
    module.__file__ = catalog.TEXTS_DIR.joinpath("zz_new_feature.py").as_posix()
    module.__dict__.update(
        GREETING="Hello from a brand new feature, {name}!",
        KEY="growth:open",  # not wording
    )
    import texts

    texts.make_lazy(module)
    assert isinstance(module.GREETING, Text) and not isinstance(module.KEY, Text)
    original = catalog.wording_modules
    monkeypatch.setattr(catalog, "wording_modules", lambda: [*original(), module])
    monkeypatch.setattr(catalog, "extract_from_file", lambda *a, **k: iter(()))
    problems = catalog.problems(i18n.WELSH)
    assert any("Hello from a brand new feature" in p for p in problems)
    assert not any("growth:open" in p for p in problems)


def test_placeholder_differences_are_caught() -> None:
    assert catalog.fields("Hi {name}, <b>{n}</b> points") == sorted(["{name}", "{n}", "<b", "</b"])
    assert catalog.fields("{name} %s") != catalog.fields("{enw} %s")
    assert catalog.fields("%(count)d left") != catalog.fields("%d ar ôl")


def test_text_constants_read_in_the_readers_language() -> None:
    from texts import common

    assert isinstance(
        common.CANCEL_TEXT if hasattr(common, "CANCEL_TEXT") else common.NOT_ALLOWED, Text
    )
    english = str(common.NOT_ALLOWED)
    with use_language("cy"):
        welsh = str(common.NOT_ALLOWED)
        assert welsh != english and welsh == gettext(english)
        assert f"{common.NOT_ALLOWED}" == welsh
        assert welsh + "!" == common.NOT_ALLOWED + "!"
        assert "> " + welsh == "> " + common.NOT_ALLOWED
        assert "\n".join(map(str, [common.NOT_ALLOWED])) == welsh
    # Equality and hashing stay the English (callback keys, dict keys).
    assert english == common.NOT_ALLOWED


def test_localise_translates_constants_inside_api_parameters() -> None:
    from texts import registration

    params = {
        "text": registration.ASK_DOB,
        "reply_markup": {
            "inline_keyboard": [[{"text": registration.SKIP_BUTTON, "callback_data": "x"}]]
        },
    }
    with use_language("cy"):
        out = i18n.localise(params)
    assert out["text"] == gettext(str.__str__(registration.ASK_DOB), "cy")
    assert out["reply_markup"]["inline_keyboard"][0][0]["text"] == "Hepgor"
    assert type(out["text"]) is str


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("cy", "cy"),
        ("cy-GB", "cy"),
        ("CY_gb", "cy"),
        ("en", "en"),
        ("en-GB", "en"),
        (None, "en"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_telegram_language_codes(code: str | None, language: str) -> None:
    assert i18n.normalise(code) == language


def test_dates_and_money_follow_the_language() -> None:
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from texts.format import day, local_time, money

    moment = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert (day(date(2026, 12, 5)), money(123456), money(15000, drop_zero_pence=True)) == (
        "5 Dec 2026",
        "£1,234.56",
        "£150",
    )
    with use_language("cy"):
        assert day(date(2026, 12, 5)) == "5 Rhag 2026"
        assert local_time(moment, ZoneInfo("Europe/London")) == "21 Tach 2026, 12:00"
        assert money(123456) == "£1,234.56" and money(15000, drop_zero_pence=True) == "£150"
        assert money(-500) == "-£5.00"
