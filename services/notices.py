"""Queueing a message the bot starts itself to one citizen, the way every service does it."""

from storage.repositories.outbox import enqueue_to_citizen as queue_to_citizen

__all__ = ["queue_to_citizen"]
