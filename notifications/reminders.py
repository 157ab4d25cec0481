"""The loan-reminder scan: reminders are rows, the scheduler only ticks.

Every minute (and at start, to catch up after downtime) the scan looks at unpaid instalments due
within the reminder horizon and decides each reminder kind not yet decided (see
services.reminder_rules): send it, skip it as stale, or wait. Deciding writes a `reminders` row
and, for a send, an outbox message in the same transaction, under a unique (instalment, kind)
constraint. So a reminder is queued exactly once, however often the scan runs, across restarts
and instances; a kill -9 mid-scan loses nothing (what was not committed is decided again at the
next tick), and delivery is the outbox's job (at most the message in flight at a kill is in
doubt, marked uncertain rather than resent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.callbacks import PAYMENT_PLAN
from services.clock import Clock
from services.languages import citizens_languages
from services.loans import mark_overdue
from services.reminder_rules import (
    KINDS_IN_ORDER,
    OVERDUE_7_DAYS_WINDOW,
    Decision,
    ReminderKind,
    decide,
)
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, Reminder
from storage.repositories import outbox, payment_plans
from storage.statuses import LoanStatus, ReminderOutcome
from texts.debt_help import DEBT_HELP_BUTTON
from texts.i18n import worded_in
from texts.payment_plans import PLAN_BUTTON
from texts.reminders import reminder_text

logger = logging.getLogger(__name__)

REMINDER_PRIORITY = 0  # ahead of score alerts and promotions
HORIZON_BEFORE = timedelta(days=3)
HORIZON_AFTER = timedelta(days=7) + OVERDUE_7_DAYS_WINDOW


def reminder_markup(kind: ReminderKind, instalment_id: int) -> dict[str, Any] | None:
    """Overdue reminders carry "I can't pay this" (a payment plan request) and free debt help."""
    if kind.optional:
        return None
    return {
        "inline_keyboard": [
            [{"text": PLAN_BUTTON, "callback_data": PAYMENT_PLAN.encode("ask", instalment_id)}],
            [{"text": DEBT_HELP_BUTTON, "callback_data": PAYMENT_PLAN.encode("help")}],
        ]
    }


@dataclass
class ScanSummary:
    queued: int = 0
    skipped: int = 0
    late_fees: int = 0


class ReminderScan:
    """Decide every due reminder once; see the module docstring."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    async def run_once(self) -> ScanSummary:
        now = self._clock()
        today = now.astimezone(self._tz).date()
        summary = ScanSummary()
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(
                        Instalment.id,
                        Instalment.due_on,
                        Instalment.late_fee_pence,
                        Citizen.id,
                        Citizen.chat_id,
                        Citizen.friendly_reminders,
                        Citizen.unreachable_at,
                    )
                    .join(Loan, Loan.id == Instalment.loan_id)
                    .join(Citizen, Citizen.id == Loan.citizen_id)
                    .where(
                        Instalment.paid_at.is_(None),
                        Loan.status == LoanStatus.ACTIVE,
                        # "I can't pay this": a loan under a payment plan request is not chased.
                        ~payment_plans.loan_is_held(Loan.id),
                        Instalment.due_on >= today - HORIZON_AFTER,
                        Instalment.due_on <= today + HORIZON_BEFORE,
                    )
                    .order_by(Instalment.due_on, Instalment.id)
                )
            ).all()
            decided: set[tuple[int, str]] = set()
            if rows:
                decided = {
                    (instalment_id, kind)
                    for instalment_id, kind in (
                        await session.execute(
                            select(Reminder.instalment_id, Reminder.kind).where(
                                Reminder.instalment_id.in_([row[0] for row in rows])
                            )
                        )
                    ).all()
                }
        for instalment_id, due_on, late_fee, citizen_id, chat_id, friendly, unreachable in rows:
            if today > due_on and not late_fee and await self._charge_late_fee(instalment_id):
                summary.late_fees += 1
            for kind in KINDS_IN_ORDER:
                if (instalment_id, kind.value) in decided:
                    continue
                decision = decide(kind, due_on, now, self._tz)
                if decision is Decision.WAIT:
                    continue
                if decision is Decision.STALE:
                    outcome = ReminderOutcome.SKIPPED_STALE
                elif kind.optional and not friendly:
                    outcome = ReminderOutcome.SKIPPED_OPTED_OUT
                elif unreachable is not None:
                    outcome = ReminderOutcome.SKIPPED_UNREACHABLE
                else:
                    outcome = ReminderOutcome.QUEUED
                if await self._decide(instalment_id, kind, outcome, citizen_id, chat_id, today):
                    if outcome is ReminderOutcome.QUEUED:
                        summary.queued += 1
                    else:
                        summary.skipped += 1
        if summary.queued or summary.skipped or summary.late_fees:
            logger.info(
                "reminder scan: %d queued, %d skipped, %d late fees",
                summary.queued,
                summary.skipped,
                summary.late_fees,
            )
        return summary

    async def _charge_late_fee(self, instalment_id: int) -> bool:
        try:
            async with self._db.transaction() as session:
                instalment = await session.get(Instalment, instalment_id)
                if instalment is None or instalment.paid_at is not None:
                    return False
                return await mark_overdue(session, instalment, self._clock())
        except IntegrityError:
            return False  # another instance recorded it first

    async def _decide(
        self,
        instalment_id: int,
        kind: ReminderKind,
        outcome: ReminderOutcome,
        citizen_id: int,
        chat_id: int,
        today: date,
    ) -> bool:
        """Record the decision and, for a send, queue the message, in one transaction. False if
        someone else decided this reminder first (the unique constraint says so)."""
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                session.add(
                    Reminder(
                        instalment_id=instalment_id,
                        kind=kind.value,
                        outcome=outcome.value,
                        decided_at=now,
                    )
                )
                await session.flush()
                if outcome is ReminderOutcome.QUEUED:
                    instalment = await session.get(Instalment, instalment_id)
                    assert instalment is not None
                    # Worded in the borrower's language, not the scheduler's.
                    language = (await citizens_languages(session, [citizen_id])).get(citizen_id)
                    outbox.enqueue(
                        session,
                        chat_id=chat_id,
                        citizen_id=citizen_id,
                        kind=f"reminder:{kind.value}",
                        priority=REMINDER_PRIORITY,
                        text=worded_in(
                            language,
                            reminder_text,
                            kind,
                            instalment.due_on,
                            today,
                            instalment.amount_pence,
                            instalment.late_fee_pence,
                        ),
                        now=now,
                        reply_markup=worded_in(language, reminder_markup, kind, instalment_id),
                    )
        except IntegrityError:
            return False
        return True
