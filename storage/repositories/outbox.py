"""The one way to queue a message the bot starts itself (alerts, notices, reminders, promotions).

A row at a time (enqueue), or set-based for a whole audience or population; every way starts
its rows from storage.models.messaging.pending_defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, delete, exists, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from storage.models import Citizen, LanguageChoice, OutboxMessage
from storage.models.messaging import pending_defaults
from storage.statuses import OutboxStatus


def _plain(value: Any) -> Any:
    """str() of every string inside (a Text's str() is its translation)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    citizen_id: int | None,
    kind: str,
    priority: int,
    text: str,
    now: datetime,
    reply_markup: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add a pending row, due at once, to the caller's transaction.

    Wording constants (texts.i18n.Text, a str whose value is the English) become plain text in
    the language being worded in now, which the caller sets to the recipient's."""
    row = OutboxMessage.due_now(
        chat_id=chat_id,
        citizen_id=citizen_id,
        kind=kind,
        priority=priority,
        text=str(text),
        now=now,
        reply_markup=_plain(reply_markup),
    )
    session.add(row)
    return row


def enqueue_to_citizen(
    session: AsyncSession,
    to: Citizen,
    text: str,
    kind: str,
    now: datetime,
    markup: dict[str, Any] | None = None,
    *,
    priority: int,
) -> bool:
    """Queue `text` for `to` in the caller's transaction; False if they blocked the bot.

    Nothing is queued for someone unreachable: the dispatcher would only fail it, and what
    the message was about (a friend request, an access request) still waits for them in the
    bot when they come back.
    """
    if to.unreachable_at is not None:
        return False
    enqueue(
        session,
        chat_id=to.chat_id,
        citizen_id=to.id,
        kind=kind,
        priority=priority,
        text=text,
        now=now,
        reply_markup=markup,
    )
    return True


def staged_insert_sql(
    *, kind: str, priority: int, now: object, text_column: str, due: object = None
) -> tuple[str, dict[str, object]]:
    """Queue a message for each row of storage.bulk's `staging` table whose `text_column` is set.

    For population-wide jobs that write through storage.bulk.write_via_staging: the returned
    statement (and its parameters, prefixed ``outbox_`` so they can't clash with the caller's)
    joins staging to citizens on ``citizen_id`` and skips anyone unreachable, as
    enqueue_to_citizen does one at a time. `now` (and `due`, when the rows may not go out before
    then, such as after quiet hours) is in the form the bulk driver binds.
    """
    values = {"kind": kind, "priority": priority, **pending_defaults(now)}
    if due is not None:
        values["next_attempt_at"] = due
    params = {f"outbox_{name}": value for name, value in values.items()}
    columns = ", ".join(["chat_id", "citizen_id", "text", *values])
    selected = ", ".join(["c.chat_id", "c.id", f"s.{text_column}", *(f":{p}" for p in params)])
    statement = (
        f"INSERT INTO outbox ({columns}) SELECT {selected} "
        "FROM staging s JOIN citizens c ON c.id = s.citizen_id "
        f"WHERE s.{text_column} IS NOT NULL AND c.unreachable_at IS NULL"
    )
    return statement, params


async def enqueue_audience(
    session: AsyncSession,
    audience: Callable[..., Select[Any]],
    *,
    kind: str,
    priority: int,
    text: str | None,
    markup: dict[str, Any] | None,
    now: datetime,
    promotion_id: int | None = None,
    by_language: Mapping[str, tuple[str, dict[str, Any] | None]] | None = None,
) -> int:
    """Queue the same message to everyone `audience` selects, in one INSERT ... SELECT.

    `audience(*columns)` must return the query selecting `columns` once per recipient, with
    Citizen in its FROM clause: the rows are built by the database, so a large audience never
    passes through Python. Returns the number of rows queued. A promotion's rows pass no text
    or markup (None): the dispatcher renders them from the promotion when it sends.

    `by_language` gives the text and markup for recipients who read another language (their
    language_choices row says so): chosen per row by the same statement.
    """
    table = OutboxMessage.__table__
    constants: dict[str, object] = {
        "kind": kind,
        "priority": priority,
        "text": text,
        "reply_markup": markup,
        **pending_defaults(now),
        "promotion_id": promotion_id,
    }
    alternatives = {
        "text": {lang: str(alt_text) for lang, (alt_text, _) in (by_language or {}).items()},
        "reply_markup": {lang: _plain(alt) for lang, (_, alt) in (by_language or {}).items()},
    }
    columns = [
        Citizen.chat_id,
        Citizen.id,
        *(
            _per_language(_plain(value), alternatives.get(name), _bound_type(table.c[name].type))
            for name, value in constants.items()
        ),
    ]
    inserted = await session.execute(
        insert(OutboxMessage).from_select(["chat_id", "citizen_id", *constants], audience(*columns))
    )
    return int(getattr(inserted, "rowcount", 0) or 0)


def _per_language(
    value: object, alternatives: Mapping[str, object] | None, bound: TypeEngine[Any]
) -> Any:
    """`value` for everyone, or a CASE on the recipient's stored language."""
    if not alternatives:
        return literal(value, bound)
    whens = [
        (
            exists().where(
                LanguageChoice.telegram_id == Citizen.telegram_id,
                LanguageChoice.language == language,
            ),
            literal(alternative, bound),
        )
        for language, alternative in alternatives.items()
    ]
    return case(*whens, else_=literal(value, bound))


def _bound_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    # asyncpg casts every bound value to its type: a VARCHAR(n) cast would cut a value short
    # silently where the column itself refuses one too long, so strings bind unsized.
    return String() if isinstance(column_type, String) else column_type


async def cancel_pending(
    session: AsyncSession, promotion_ids: Collection[int], reason: str
) -> None:
    """Cancel what these promotions still have waiting; rows already in flight finish."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.promotion_id.in_(list(promotion_ids)),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
        .execution_options(synchronize_session=False)
    )


# Statuses a row never leaves: what pruning may delete.
FINAL_FAILURES = (
    OutboxStatus.FAILED,
    OutboxStatus.UNREACHABLE,
    OutboxStatus.UNCERTAIN,
    OutboxStatus.CANCELLED,
)


async def prune_batch(
    session: AsyncSession, *, sent_before: datetime, failed_before: datetime, limit: int
) -> list[tuple[int | None, str]]:
    """Delete up to `limit` finished rows: sent before `sent_before`, or ended any other way
    (failed, unreachable, uncertain, cancelled) and queued before `failed_before`.

    Returns (promotion id, status) of each row deleted, for the caller to add to the
    promotion's counters in the same transaction. The DELETE is the claim: two housekeepers
    at once can't both delete (and count) one row.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.SENT.value)
                & (OutboxMessage.sent_at < sent_before),
                OutboxMessage.status.in_([s.value for s in FINAL_FAILURES])
                & (OutboxMessage.created_at < failed_before),
            )
        )
        .limit(limit)
    )
    deleted = await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .returning(OutboxMessage.promotion_id, OutboxMessage.status)
        .execution_options(synchronize_session=False)
    )
    return [(pid, str(status)) for pid, status in deleted.all()]
