"""Benefit tiers: what each score band unlocks, read from the packaged ``tiers.toml``.

The benefits are data so that product changes (a loan limit, a new deposit-free service) are
an edit to one reviewed file. :func:`load_tiers` checks the file against the bands of
:mod:`scoring.model` and refuses a file in which a higher tier loses a benefit.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from scoring.bands import BANDS, Band, band_for
from texts.format import money

__all__ = [
    "Tier",
    "Tiers",
    "TiersError",
    "VoucherAccess",
    "default_tiers",
    "load_tiers",
    "next_tier",
    "points_to_next_tier",
    "tier_for",
]


class TiersError(ValueError):
    """tiers.toml does not describe a valid set of tiers."""


class VoucherAccess(StrEnum):
    NONE = "none"
    STANDARD = "standard"
    PREMIUM = "premium"


_TIER_KEYS = frozenset(
    {
        "band",
        "title",
        "summary",
        "voucher_access",
        "loan_limit_pence",
        "deposit_free",
        "housing_priority",
        "tax_relief",
    }
)
_VOUCHER_RANK = {VoucherAccess.NONE: 0, VoucherAccess.STANDARD: 1, VoucherAccess.PREMIUM: 2}


@dataclass(frozen=True)
class Tier:
    band: Band
    title: str
    summary: str
    voucher_access: VoucherAccess
    loan_limit_pence: int
    deposit_free: tuple[str, ...]
    """Partner services that waive a deposit at this tier."""
    housing_priority: bool
    tax_relief: bool
    benefits: tuple[str, ...]
    """Plain-English lines, one per benefit, worded by tiers.toml."""

    @property
    def min_score(self) -> int:
        return self.band.lower


@dataclass(frozen=True)
class Tiers:
    """One tier per band, lowest first."""

    version: int
    tiers: tuple[Tier, ...]

    def __iter__(self) -> Iterator[Tier]:
        return iter(self.tiers)

    def __len__(self) -> int:
        return len(self.tiers)

    def tier_for(self, score: int) -> Tier:
        band = band_for(score)
        for tier in self.tiers:
            if tier.band == band:
                return tier
        raise AssertionError("load_tiers guarantees a tier per band")

    def next_tier(self, score: int) -> Tier | None:
        """The tier above the one ``score`` is in, or None at the top."""
        i = self.tiers.index(self.tier_for(score))
        return self.tiers[i + 1] if i + 1 < len(self.tiers) else None

    def points_to_next_tier(self, score: int) -> int | None:
        """Points still needed to reach the next tier, or None at the top."""
        nxt = self.next_tier(score)
        return None if nxt is None else nxt.min_score - score


def _join(items: tuple[str, ...]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _field(raw: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in raw:
        raise TiersError(f"{where}: missing {key!r}")
    value = raw[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TiersError(f"{where}: {key!r} must be an integer")
    if not isinstance(value, kind):
        raise TiersError(f"{where}: {key!r} must be a {kind.__name__}")
    return value


def load_tiers(text: str | None = None) -> Tiers:
    """Parse tiers from TOML ``text``, or from the packaged tiers.toml when None."""
    if text is None:
        text = resources.files("scoring").joinpath("tiers.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TiersError(f"tiers.toml is not valid TOML: {exc}") from exc

    raw_tiers = data.get("tier")
    if not isinstance(raw_tiers, list) or len(raw_tiers) != len(BANDS):
        raise TiersError(f"expected {len(BANDS)} [[tier]] entries, one per band")
    wording = data.get("wording")
    if not isinstance(wording, dict):
        raise TiersError("missing [wording]")

    parsed: list[dict[str, Any]] = []
    for band, raw in zip(BANDS, raw_tiers, strict=True):
        where = f"tier {band.name!r}"
        unknown = sorted(set(raw) - _TIER_KEYS)
        if unknown:
            raise TiersError(f"{where}: unknown keys {unknown}")
        if raw.get("band") != band.name:
            raise TiersError(
                f"tiers must follow band order; expected {where}, got {raw.get('band')!r}"
            )
        try:
            vouchers = VoucherAccess(_field(raw, "voucher_access", str, where))
        except ValueError as exc:
            raise TiersError(f"{where}: unknown voucher_access") from exc
        services = _field(raw, "deposit_free", list, where)
        if not all(isinstance(s, str) and s for s in services):
            raise TiersError(f"{where}: deposit_free must list service names")
        limit = _field(raw, "loan_limit_pence", int, where)
        if limit < 0:
            raise TiersError(f"{where}: loan_limit_pence must not be negative")
        parsed.append(
            {
                "band": band,
                "title": _field(raw, "title", str, where),
                "summary": _field(raw, "summary", str, where),
                "voucher_access": vouchers,
                "loan_limit_pence": limit,
                "deposit_free": tuple(services),
                "housing_priority": _field(raw, "housing_priority", bool, where),
                "tax_relief": _field(raw, "tax_relief", bool, where),
            }
        )

    for lower, upper in itertools.pairwise(parsed):
        where = f"tier {upper['band'].name!r}"
        if upper["loan_limit_pence"] < lower["loan_limit_pence"]:
            raise TiersError(f"{where}: loan limit lower than the tier below")
        if _VOUCHER_RANK[upper["voucher_access"]] < _VOUCHER_RANK[lower["voucher_access"]]:
            raise TiersError(f"{where}: voucher access lower than the tier below")
        if not set(lower["deposit_free"]) <= set(upper["deposit_free"]):
            raise TiersError(f"{where}: loses a deposit-free service of the tier below")
        for flag in ("housing_priority", "tax_relief"):
            if lower[flag] and not upper[flag]:
                raise TiersError(f"{where}: loses {flag} of the tier below")

    def unlock(predicate: Any) -> dict[str, str]:
        for t in parsed:
            if predicate(t):
                return {"unlock_band": t["band"].name, "unlock_score": str(t["band"].lower)}
        return {"unlock_band": "a higher band", "unlock_score": "?"}

    def text_of(key: str, **values: str) -> str:
        template = wording.get(key)
        if not isinstance(template, str):
            raise TiersError(f"[wording] is missing {key!r}")
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            raise TiersError(f"[wording] {key!r} uses an unknown placeholder") from exc

    voucher_words = wording.get("vouchers")
    if not isinstance(voucher_words, dict):
        raise TiersError("missing [wording.vouchers]")
    voucher_unlock = unlock(lambda t: t["voucher_access"] is not VoucherAccess.NONE)
    loan_unlock = unlock(lambda t: t["loan_limit_pence"] > 0)

    tiers: list[Tier] = []
    for t in parsed:
        template = voucher_words.get(t["voucher_access"].value)
        if not isinstance(template, str):
            raise TiersError(f"[wording.vouchers] is missing {t['voucher_access'].value!r}")
        lines = [template.format(**voucher_unlock)]
        if t["loan_limit_pence"]:
            lines.append(text_of("loan", limit=money(t["loan_limit_pence"], drop_zero_pence=True)))
        else:
            lines.append(text_of("no_loan", **loan_unlock))
        if t["deposit_free"]:
            lines.append(text_of("deposit_free", services=_join(t["deposit_free"])))
        if t["housing_priority"]:
            lines.append(text_of("housing_priority"))
        if t["tax_relief"]:
            lines.append(text_of("tax_relief"))
        tiers.append(Tier(benefits=tuple(lines), **t))

    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise TiersError("version must be an integer")
    return Tiers(version=version, tiers=tuple(tiers))


@cache
def default_tiers() -> Tiers:
    """The packaged tiers, loaded once per process."""
    return load_tiers()


def tier_for(score: int) -> Tier:
    return default_tiers().tier_for(score)


def next_tier(score: int) -> Tier | None:
    return default_tiers().next_tier(score)


def points_to_next_tier(score: int) -> int | None:
    return default_tiers().points_to_next_tier(score)
