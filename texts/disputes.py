"""What the bot says for disputes."""

from __future__ import annotations

from services.disputes import (
    QueueItem,
)

NOT_ADMIN = "/review is for Britizen's reviewers. To contest something yourself, send /dispute."


START_TEXT = (
    "What would you like to contest? A person at Britizen reviews every dispute and you'll "
    "hear the outcome here. A payment record you contest stops counting towards your score "
    "until it has been reviewed."
)


def queue_text(item: QueueItem) -> str:
    lines = [
        f"Dispute #{item.id} ({item.waiting} waiting) from {item.citizen_name}",
        f"About: {item.subject_label}",
        f"Statement: {item.statement}",
    ]
    if item.event is not None:
        lines.append(
            f"Record: {item.event.kind.replace('_', ' ')}, {item.event.outcome.replace('_', ' ')}"
            f" on {item.event.occurred_on.isoformat()}, from {item.event.source} "
            "(left out of scoring while open)"
        )
    lines.append("\nUphold (the citizen is right) or reject? You'll be asked for a note.")
    return "\n".join(lines)
