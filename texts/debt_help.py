"""Free, independent debt help: who to contact and how. Used by /debthelp, /help and the
overdue loan reminders.

The organisations and their published numbers: MoneyHelper (the government-backed money
guidance service), StepChange Debt Charity, National Debtline (Money Advice Trust) and
Citizens Advice's Adviceline. All are free to call and free to use.
"""

from __future__ import annotations

from dataclasses import dataclass

from texts.i18n import _


@dataclass(frozen=True)
class Adviser:
    name: str
    phone: str
    website: str
    about: str


ADVISERS: tuple[Adviser, ...] = (
    Adviser(
        "MoneyHelper",
        "0800 138 7777",
        "moneyhelper.org.uk",
        "free money and debt guidance, backed by the government",
    ),
    Adviser("StepChange", "0800 138 1111", "stepchange.org", "free debt advice charity"),
    Adviser(
        "National Debtline", "0808 808 4000", "nationaldebtline.org", "free debt advice charity"
    ),
    Adviser(
        "Citizens Advice",
        "Adviceline 0800 144 8848 (England) or 0800 702 2020 (Wales)",
        "citizensadvice.org.uk",
        "free, confidential advice, including face to face",
    ),
)

DEBT_HELP_BUTTON = "🤝 Free debt help"


def _line(adviser: Adviser) -> str:
    return f"• {adviser.name} — {adviser.phone} · {adviser.website}"


def debt_help_text() -> str:
    """/debthelp: the full list, and what to do about a Britizen loan."""
    lines = [
        _("🤝 Struggling to pay? You're not alone, and free help is there."),
        "",
        _("These organisations give free, confidential debt advice (never pay for debt advice):"),
    ]
    lines += [f"{_line(a)}\n  {a.about}" for a in ADVISERS]
    lines += [
        "",
        _(
            "If you can't pay a Britizen loan instalment, open /loans and tap \"I "
            "can't pay this\" to ask for a payment plan: reminders pause and no "
            "late fee is added while a person at Britizen looks at it."
        ),
    ]
    return "\n".join(map(str, lines))


def help_section() -> str:
    """The short version for /help."""
    lines = [_("Struggling with money? Free, confidential debt advice:")]
    lines += [_line(a) for a in ADVISERS]
    lines.append(_("/debthelp says more, and how to ask us for a payment plan."))
    return "\n".join(map(str, lines))


def reminder_section() -> str:
    """What an overdue reminder says about help (its button asks for a payment plan)."""
    phones = ", ".join(map(str, (f"{a.name} {a.phone}" for a in ADVISERS[:3])))
    return _(
        "Struggling? Free, confidential debt advice: {phones}, or Citizens "
        "Advice (citizensadvice.org.uk); /debthelp lists them. If you can't "
        'pay this, tap "I can\'t pay this" to ask us for a payment plan.'
    ).format(phones=phones)
