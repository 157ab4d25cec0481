"""Narrowing for a value a test knows is there: a nullable column on a row that has it."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value`, which must not be None here (an AssertionError if it is)."""
    assert value is not None
    return value
