"""What a citizen reads about their score: the reasons behind it, the tips, the band alert.

scoring.reasons decides which reasons and tips apply and with how many points; the sentences
are here. Everything takes plain numbers (the model's constants are passed in, not imported):
scoring imports this module, so importing scoring from here would be a cycle.
"""

from __future__ import annotations

from collections.abc import Set

from texts.format import money, plural

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
        return plural(n, "bill")
    if kinds == {"loan_instalment"}:
        return plural(n, "loan instalment")
    if kinds == {"rent"}:
        return plural(n, "rent payment")
    if kinds == {"council_tax"}:
        return plural(n, "council tax payment")
    return plural(n, "payment")


def payments_when(total: int, recent: int) -> str:
    if total == recent:
        return "in the last year"
    if recent == 0:
        return "in the last 6 years, none in the last year"
    return f"in the last 6 years, {recent} in the last year"


def payments(kinds: Set[str], outcome: str, total: int, recent: int) -> str:
    """'2 bills paid late in the last year'."""
    return f"{payment_noun(kinds, total)} {OUTCOME_LABELS[outcome]} {payments_when(total, recent)}"


def duration(days: int) -> str:
    if days < 31:
        return plural(days, "day")
    if days < 365:
        return plural(days // 30 if days // 30 < 12 else 11, "month")
    years, months = days // 365, (days % 365) // 30
    text = plural(years, "year")
    return f"{text} and {plural(months, 'month')}" if months else text


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
        return f"Owing {money(owed_pence)} of your {money(limit_pence)} limit ({pct}%)"
    return f"Owing {money(owed_pence)} with no credit limit"


def defaults(n: int) -> str:
    return f"{plural(n, 'loan')} in default"


def identity(verified: bool) -> str:
    return "Identity verified" if verified else "Identity not verified yet"


def member_for(days: int) -> str:
    return f"Member for {duration(days)}"


def upheld_disputes(n: int) -> str:
    return plural(n, "upheld dispute")


def vouchers_redeemed(n: int, *, at_cap: bool) -> str:
    return f"{plural(n, 'sponsor voucher')} redeemed{_AT_CAP if at_cap else ''}"


def referrals(n: int, *, at_cap: bool) -> str:
    return f"{plural(n, 'verified referral')}{_AT_CAP if at_cap else ''}"


def friends_scores(friend_count: int, mean_score: int | None) -> str:
    """'Your 3 friends average 640', 'Your 1 friend has 640', or no scores yet."""
    friends = plural(friend_count, "friend")
    if mean_score is None:
        return f"Your {friends} have no scores yet"
    verb = "has" if friend_count == 1 else "average"
    return f"Your {friends} {verb} {mean_score}"


def reach(pagerank: float) -> str:
    return f"Your reach in the network is {pagerank:.1f}× the average"


def brokerage(effective_size: float) -> str:
    return (
        f"You link people who don't otherwise know each other (effective size {effective_size:.1f})"
    )


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
    return (
        "Get your rent or council tax counted: send /boost to invite your landlord or "
        "council (energy, water and phone companies can report bills too). A year of "
        f"monthly payments on time would add about +{year_of_bills_points}."
    )


def keep_paying_tip(on_time_max: int, on_time_points: int) -> str:
    return (
        "Keep paying on time: recent on-time payments count most, up to "
        f"+{on_time_max} in all (you have {on_time_points:+d})."
    )


def settle_defaults_tip(defaults: int, default_cost: int) -> str:
    loans = "defaulted loan" if defaults == 1 else f"{defaults} defaulted loans"
    return f"Settle your {loans}: each default costs {default_cost} points."


def pay_down_tip(target_pence: int, gain: int) -> str:
    return (
        f"Pay what you owe down to {money(target_pence)}, 30% of your limit: worth about "
        f"+{gain} points."
    )


def pay_off_tip(owed_pence: int, no_limit_cost: int) -> str:
    return (
        f"Pay off the {money(owed_pence)} you owe: owing with no credit limit "
        f"costs {no_limit_cost} points."
    )


def verify_tip(verified_points: int) -> str:
    return (
        f"Complete identity verification: it turns {-verified_points} into "
        f"+{verified_points} (+{2 * verified_points} points)."
    )


def membership_tip(membership_max: int) -> str:
    return (
        f"Stay a member: membership adds about 1 point a month, up to +{membership_max} "
        "after 3 years."
    )


def disputes_tip(dispute_cost: int) -> str:
    return f"Avoid further upheld disputes: each costs {dispute_cost} points."


def voucher_tip(voucher_points: int, voucher_cap: int) -> str:
    return (
        f"Redeem a sponsor voucher from /offers: +{voucher_points} points each, up to "
        f"+{voucher_cap}."
    )


def invite_tip(referral_points: int, referral_cap: int) -> str:
    return (
        f"Invite friends with /invite: +{referral_points} points for each one who completes "
        f"verification, up to +{referral_cap}."
    )


def add_friends_tip(friend_influence_cap: int) -> str:
    return (
        f"Add people you know with /friends: connections can add up to "
        f"+{friend_influence_cap} points."
    )


def diverse_friends_tip(brokerage_max: int) -> str:
    return (
        "Add friends from different parts of your life with /friends: linking groups that "
        f"don't otherwise meet adds up to +{brokerage_max}."
    )


# -- the band alert (queued by the scoring pass) -------------------------------------------------


def band_change(old_band: str, new_band: str, old_score: int, new_score: int) -> str:
    up = new_score > old_score
    headline = "🎉 Your band went up" if up else "Your band changed"
    return (
        f"{headline}: {old_band} → {new_band}.\n"
        f"Your score is now {new_score} (was {old_score}).\n"
        "Send /why to see what changed and how to improve."
    )
