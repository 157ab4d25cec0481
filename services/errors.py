"""Errors the use cases raise and the bot's one error map turns into replies.

Services raise these; they never word a reply. `handlers/errors.py` maps each to what the person
reads (from `texts`), and anything not listed here is a bug: logged with the update id, answered
with the generic apology.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected, user-facing failure of a use case."""


class NotRegistered(ServiceError):
    """The Telegram user has no Britizen account."""


class NotAllowed(ServiceError):
    """The caller has no right to this use case (not an admin, not the owner)."""


class StaleAction(ServiceError):
    """A button or step that no longer applies (already answered, expired, withdrawn)."""


class ConfirmationExpired(StaleAction):
    """A confirmation for something irreversible pressed from an older prompt, or too late."""
