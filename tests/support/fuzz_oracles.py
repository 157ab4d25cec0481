"""What must hold after every fuzzed step, and of the database after every run.

- nothing was logged at ERROR: the error map logs a bug as "error handling update", PTB logs
  an exception that escaped everything;
- outside a private chat the bot only ever posts the short pointer (or its hello on being
  added to a group), with URL buttons only, and nothing at all in a channel;
- the bot speaks in private chats only to the people of the run;
- every private text, command, photo... got an answer in that chat; every button press and
  every pre-checkout query was answered exactly once;
- the database is consistent in ways its constraints don't enforce (`database_problems`).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

import texts.chats as chat_texts
from bot.service import BritizenService
from handlers.commands import COMMANDS
from standin import BotApiStandIn
from tests.support import fuzz_actions as fa
from tests.support.fuzz_driver import Step

PERSONAL = [name for name, _ in COMMANDS if name not in ("start", "help")]
ALLOWED_OUTSIDE = {chat_texts.HELP_IN_GROUP, chat_texts.ADDED_TO_GROUP} | {
    chat_texts.personal_in_group(c) for c in PERSONAL
}
NO_CHAT = {"answercallbackquery", "answerprecheckoutquery", "getme", "getupdates"}
ANSWERS = {
    "sendmessage",
    "sendphoto",
    "senddocument",
    "sendinvoice",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
}
PREFIX = f"https://t.me/{fa.BOT_NAME}?start="


def error_problems(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in records]


def step_problems(standin: BotApiStandIn, step: Step) -> list[str]:
    problems = []
    calls = [
        c for c in standin.calls[step.since : step.until] if c.method.lower() not in ("getupdates",)
    ]
    for call in calls:
        chat = call.chat_id
        if call.method.lower() in NO_CHAT or chat is None:
            continue
        if chat in fa.USERS:
            continue
        if chat not in (fa.GROUP, fa.SUPERGROUP):
            problems.append(f"{call.method} to chat {chat}: {call.params}")
            continue
        if call.method != "sendMessage" or call.params.get("text") not in ALLOWED_OUTSIDE:
            problems.append(f"{call.method} in group {chat}: {call.params.get('text')!r}")
            continue
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row]
        if not buttons or not all(
            set(b) == {"text", "url"} and str(b["url"]).startswith(PREFIX) for b in buttons
        ):
            problems.append(f"group {chat} got buttons other than the pointer: {buttons}")
    if step.wants_reply and step.chat_id is not None:
        answered = [c for c in calls if c.chat_id == step.chat_id and c.method.lower() in ANSWERS]
        if not answered:
            problems.append(f"no answer in the private chat to update {step.update_id}")
    if step.query_id is not None:
        method = "answercallbackquery" if step.kind == "callback" else "answerprecheckoutquery"
        field = "callback_query_id" if step.kind == "callback" else "pre_checkout_query_id"
        answers = [
            c
            for c in standin.calls
            if c.method.lower() == method and str(c.params.get(field)) == step.query_id
        ]
        if len(answers) != 1:
            problems.append(f"{step.kind} {step.query_id} answered {len(answers)} times")
    return problems


# Each query returns the rows that break one rule (none when all is well).
CONSISTENCY: dict[str, str] = {
    "every citizen has a score": """
        SELECT c.id FROM citizens c LEFT JOIN scores s ON s.citizen_id = c.id
        WHERE s.citizen_id IS NULL""",
    "every dialog is one of the bot's conversations": """
        SELECT telegram_id, flow FROM dialog_states
        WHERE flow NOT IN ('registration', 'loan', 'dispute', 'review', 'delete')""",
    "only a registered person is in a conversation other than registration": """
        SELECT d.telegram_id, d.flow FROM dialog_states d
        LEFT JOIN citizens c ON c.telegram_id = d.telegram_id
        WHERE d.flow <> 'registration' AND c.id IS NULL""",
    "a registered person is not registering again": """
        SELECT d.telegram_id FROM dialog_states d
        JOIN citizens c ON c.telegram_id = d.telegram_id
        WHERE d.flow = 'registration'""",
    "the outbox only writes to a citizen's own private chat": """
        SELECT o.id, o.chat_id FROM outbox o LEFT JOIN citizens c ON c.id = o.citizen_id
        WHERE o.chat_id <= 0 OR (o.citizen_id IS NOT NULL AND c.chat_id <> o.chat_id)""",
    "nobody is their own friend": """
        SELECT id FROM friendships WHERE low_id >= high_id
        UNION ALL SELECT id FROM friend_requests WHERE requester_id = recipient_id""",
    "an unpaid instalment's credit is less than what it costs": """
        SELECT id, credit_pence FROM instalments
        WHERE credit_pence < 0
           OR (paid_at IS NULL AND credit_pence >= amount_pence + late_fee_pence)""",
    "a loan is repaid exactly when every instalment is paid": """
        SELECT l.id, l.status FROM loans l
        WHERE (l.status = 'repaid') = EXISTS (
            SELECT 1 FROM instalments i WHERE i.loan_id = l.id AND i.paid_at IS NULL)
          AND l.status IN ('active', 'repaid')""",
    "an overpayment is all used or listed for refund": """
        SELECT id FROM overpayments
        WHERE applied_pence + refund_pence <> amount_pence
           OR applied_pence < 0 OR refund_pence < 0
           OR (refund_pence > 0) <> (refund_status <> 'none')""",
    "a charge is counted once: as a repayment or as a full refund, never both": """
        SELECT p.charge_id FROM loan_payments p JOIN overpayments o ON o.charge_id = p.charge_id
        WHERE o.instalment_id IS NULL""",
    "every penny paid towards a loan is on an instalment or listed for refund": """
        SELECT l.id FROM loans l
        WHERE (SELECT COALESCE(SUM(p.amount_pence), 0) FROM loan_payments p
               JOIN instalments i ON i.id = p.instalment_id WHERE i.loan_id = l.id)
           <> (SELECT COALESCE(SUM(CASE WHEN i.paid_at IS NULL THEN i.credit_pence
                                   ELSE i.amount_pence + i.late_fee_pence END), 0)
               FROM instalments i WHERE i.loan_id = l.id)
            + (SELECT COALESCE(SUM(o.refund_pence), 0) FROM overpayments o
               JOIN instalments i ON i.id = o.instalment_id WHERE i.loan_id = l.id)""",
}


async def database_problems(service: BritizenService, delivered: list[int]) -> list[str]:
    problems = []
    async with service.db.transaction() as session:
        for rule, query in CONSISTENCY.items():
            rows = (await session.execute(text(query))).all()
            if rows:
                problems.append(f"{rule}: {[tuple(r) for r in rows][:5]}")
        claimed = {
            row[0] for row in await session.execute(text("SELECT update_id FROM processed_updates"))
        }
    missing = sorted(set(delivered) - claimed)
    if missing:
        problems.append(f"updates never claimed: {missing[:10]}")
    return problems
