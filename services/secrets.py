"""Keyed hashing for identifiers we must recognise again but never keep in clear."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of value, domain-separated by purpose so an NI hash can never collide with
    an API-key hash or a share-code hash made with the same key."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def ni_number_hash(key: bytes, canonical_ni: str) -> str:
    return keyed_hash(key, "ni", canonical_ni)
