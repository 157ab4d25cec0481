"""What a citizen reads about their score: the reasons behind it, the tips, the band alert.

scoring.reasons decides which reasons and tips apply and with how many points; the sentences
are here. Everything takes plain numbers (the model's constants are passed in, not imported):
scoring imports this module, so importing scoring from here would be a cycle.
"""

from __future__ import annotations

from collections.abc import Set

from texts.format import money, plural
from texts.i18n import _

# -- reasons -------------------------------------------------------------------------------------


def with_points(text: str, points: int) -> str:
    """'Identity verified (+20)': every reason ends with the points it gives."""
    return f"{text} ({points:+d})" if points else f"{text} (0)"


NO_PAYMENT_HISTORY = "No payment history yet"
OUTCOME_LABELS = {"on_time": "paid on time", "late": "paid late", "missed": "missed"}
"""Payment outcome (scoring.inputs.Outcome's values) -> how a reason says it."""


def payment_noun(kinds: Set[str], n: int) -> str:
    """'3 bills', '1 loan instalment', or '2 payments' when the kinds are mixed."""
    if kinds == {"bill"}:
        return plural(n, _("bill"))
    if kinds == {"loan_instalment"}:
        return plural(n, _("loan instalment"))
    if kinds == {"rent"}:
        return plural(n, _("rent payment"))
    if kinds == {"council_tax"}:
        return plural(n, _("council tax payment"))
    return plural(n, _("payment"))


def payments_when(total: int, recent: int) -> str:
    if total == recent:
        return _("in the last year")
    if recent == 0:
        return _("in the last 6 years, none in the last year")
    return _("in the last 6 years, {recent} in the last year").format(recent=recent)


def payments(kinds: Set[str], outcome: str, total: int, recent: int) -> str:
    """'2 bills paid late in the last year'."""
    return f"{payment_noun(kinds, total)} {OUTCOME_LABELS[outcome]} {payments_when(total, recent)}"


def duration(days: int) -> str:
    if days < 31:
        return plural(days, _("day"))
    if days < 365:
        return plural(days // 30 if days // 30 < 12 else 11, _("month"))
    years, months = days // 365, (days % 365) // 30
    text = plural(years, _("year"))
    return (
        _("{text} and {months}").format(text=text, months=plural(months, _("month")))
        if months
        else text
    )


NOTHING_OWED = "Nothing owed"
NOTHING_OWED_REPAID = "Nothing owed: your loans are repaid in full"
NO_DEFAULTS = "No loans in default"
NO_UPHELD_DISPUTES = "No upheld disputes"
NO_VOUCHERS = "No sponsor vouchers redeemed yet"
NO_REFERRALS = "No verified referrals yet"
NO_FRIENDS = "No friends on Britizen yet, so connections neither add nor take away"
NEW_MEMBER = "New member"
_AT_CAP = ", the most that counts"


def owing(owed_pence: int, limit_pence: int) -> str:
    if limit_pence > 0:
        pct = owed_pence * 100 // limit_pence
        return _("Owing {owed_pence} of your {limit_pence} limit ({pct}%)").format(
            owed_pence=money(owed_pence), limit_pence=money(limit_pence), pct=pct
        )
    return _("Owing {owed_pence} with no credit limit").format(owed_pence=money(owed_pence))


def defaults(n: int) -> str:
    return _("{n} in default").format(n=plural(n, _("loan")))


def identity(verified: bool) -> str:
    return _("Identity verified") if verified else _("Identity not verified yet")


def member_for(days: int) -> str:
    return _("Member for {duration}").format(duration=duration(days))


def upheld_disputes(n: int) -> str:
    return plural(n, _("upheld dispute"))


def vouchers_redeemed(n: int, *, at_cap: bool) -> str:
    return _("{n} redeemed{value}").format(
        n=plural(n, _("sponsor voucher")), value=_AT_CAP if at_cap else ""
    )


def referrals(n: int, *, at_cap: bool) -> str:
    return _("{n}{value}").format(
        n=plural(n, _("verified referral")), value=_AT_CAP if at_cap else ""
    )


def friends_scores(friend_count: int, mean_score: int | None) -> str:
    """'Your 3 friends average 640', 'Your 1 friend has 640', or no scores yet."""
    friends = plural(friend_count, _("friend"))
    if mean_score is None:
        return _("Your {friends} have no scores yet").format(friends=friends)
    if friend_count == 1:
        return _("Your {friends} has {mean_score}").format(friends=friends, mean_score=mean_score)
    return _("Your {friends} average {mean_score}").format(friends=friends, mean_score=mean_score)


def reach(pagerank: float) -> str:
    return _("Your reach in the network is {pagerank:.1f}× the average").format(pagerank=pagerank)


def brokerage(effective_size: float) -> str:
    return _(
        "You link people who don't otherwise know each other (effective size {effective_size:.1f})"
    ).format(effective_size=effective_size)


# -- tips ----------------------------------------------------------------------------------------

HOLD_SCORE_TIP = "Keep paying every bill and instalment on time to hold your score."
PAY_ON_TIME_FROM_NOW_TIP = (
    "Pay every bill and instalment on time from now on: a late or missed payment counts "
    "half as much after a year and stops counting after 6 years."
)
KEEP_OWED_LOW_TIP = (
    "If you borrow, keep what you owe low against your limit: under 10% adds +30 or more."
)


def report_bills_tip(year_of_bills_points: int) -> str:
    return _(
        "Get your rent or council tax counted: send /boost to invite your landlord or "
        "council (energy, water and phone companies can report bills too). A year of "
        "monthly payments on time would add about +{year_of_bills_points}."
    ).format(year_of_bills_points=year_of_bills_points)


def keep_paying_tip(on_time_max: int, on_time_points: int) -> str:
    return _(
        "Keep paying on time: recent on-time payments count most, up to "
        "+{on_time_max} in all (you have {on_time_points:+d})."
    ).format(on_time_max=on_time_max, on_time_points=on_time_points)


def settle_defaults_tip(defaults: int, default_cost: int) -> str:
    loans = (
        _("defaulted loan")
        if defaults == 1
        else _("{defaults} defaulted loans").format(defaults=defaults)
    )
    return _("Settle your {loans}: each default costs {default_cost} points.").format(
        loans=loans, default_cost=default_cost
    )


def pay_down_tip(target_pence: int, gain: int) -> str:
    return _(
        "Pay what you owe down to {target_pence}, 30% of your limit: worth about +{gain} points."
    ).format(target_pence=money(target_pence), gain=gain)


def pay_off_tip(owed_pence: int, no_limit_cost: int) -> str:
    return _(
        "Pay off the {owed_pence} you owe: owing with no credit limit costs {no_limit_cost} points."
    ).format(owed_pence=money(owed_pence), no_limit_cost=no_limit_cost)


def verify_tip(verified_points: int) -> str:
    return _(
        "Complete identity verification: it turns {value} into "
        "+{verified_points} (+{value2} points)."
    ).format(value=-verified_points, verified_points=verified_points, value2=2 * verified_points)


def membership_tip(membership_max: int) -> str:
    return _(
        "Stay a member: membership adds about 1 point a month, up to "
        "+{membership_max} after 3 years."
    ).format(membership_max=membership_max)


def disputes_tip(dispute_cost: int) -> str:
    return _("Avoid further upheld disputes: each costs {dispute_cost} points.").format(
        dispute_cost=dispute_cost
    )


def voucher_tip(voucher_points: int, voucher_cap: int) -> str:
    return _(
        "Redeem a sponsor voucher from /offers: +{voucher_points} points each, "
        "up to +{voucher_cap}."
    ).format(voucher_points=voucher_points, voucher_cap=voucher_cap)


def invite_tip(referral_points: int, referral_cap: int) -> str:
    return _(
        "Invite friends with /invite: +{referral_points} points for each one "
        "who completes verification, up to +{referral_cap}."
    ).format(referral_points=referral_points, referral_cap=referral_cap)


def add_friends_tip(friend_influence_cap: int) -> str:
    return _(
        "Add people you know with /friends: connections can add up to "
        "+{friend_influence_cap} points."
    ).format(friend_influence_cap=friend_influence_cap)


def diverse_friends_tip(brokerage_max: int) -> str:
    return _(
        "Add friends from different parts of your life with /friends: linking "
        "groups that don't otherwise meet adds up to +{brokerage_max}."
    ).format(brokerage_max=brokerage_max)


# -- the band alert (queued by the scoring pass) -------------------------------------------------


def band_change(old_band: str, new_band: str, old_score: int, new_score: int) -> str:
    up = new_score > old_score
    headline = _("🎉 Your band went up") if up else _("Your band changed")
    return _(
        "{headline}: {old_band} → {new_band}.\nYour score is now {new_score} "
        "(was {old_score}).\nSend /why to see what changed and how to improve."
    ).format(
        headline=headline,
        old_band=_(old_band),
        new_band=_(new_band),
        new_score=new_score,
        old_score=old_score,
    )
