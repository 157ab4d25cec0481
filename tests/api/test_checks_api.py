"""Yes/no checks for partners (issue 20) over loopback HTTP against the real service, on SQLite
and PostgreSQL: each check's true and false case, consent (code or allowed request) required
and used once, every answer logged with its question and told to the citizen, the threshold
lock against bisection, and the score refused without the citizen's explicit choice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from api.openapi import API_PREFIX, openapi_document
from bot.service import BritizenService
from services.clock import ManualClock
from services.loans.identity import BorrowingLocked, IdentityCheck, WrongIdentity
from storage.models import AccessRequest, OutboxMessage, PaymentEvent, ScoreAccess, ShareCode
from tests.api.checks_helpers import CHECKS, REQUESTS, VERIFIED, age, band, body, no_missed
from tests.api.rights_helpers import batch, event, new_partner, ni, register_directly
from tests.api.test_sponsor_api import Reply, call
from tests.e2e.conftest import TEST_SECRET
from tests.support.narrowing import present


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def ask(
    http: aiohttp.ClientSession, service: BritizenService, key: str, data: str | bytes
) -> Reply:
    return await call(http, service, CHECKS, method="POST", key=key, data=data)


async def with_code(
    http: aiohttp.ClientSession,
    service: BritizenService,
    key: str,
    telegram_id: int,
    check: dict[str, Any],
) -> Reply:
    """One check with a fresh yes/no code from the citizen."""
    code = (await service.services.sharing.new_code(telegram_id)).code
    return await ask(http, service, key, body(check, code=code))


async def log_rows(service: BritizenService) -> list[tuple[str | None, str | None, bool | None]]:
    async with service.db.transaction() as session:
        rows = await session.scalars(select(ScoreAccess).order_by(ScoreAccess.id))
        return [(r.check_name, r.check_value, r.answer) for r in rows]


async def told(service: BritizenService) -> list[str | None]:
    async with service.db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.text)
                    .where(OutboxMessage.kind == "score_access")
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )


async def test_band_at_least_is_true_up_to_the_band_and_false_above(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 201, ni(201))  # starts at 600, Good
    for value, expected in (("Poor", True), ("Good", True), ("Very good", False)):
        # A different partner per threshold: one partner may not move it (tested below).
        _pid, key = await new_partner(service, f"Landlord {value}")
        reply = await with_code(http, service, key, 201, band(value))
        assert reply.status == 200, reply.json
        assert reply.json == {
            "check": {"name": "band_at_least", "value": value},
            "result": expected,
            "computed_at": "2026-11-21T12:00:00Z",
        }


async def test_no_missed_payments_counts_back_whole_months_and_skips_disputed_records(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 202, ni(202))
    _pid, reporter = await new_partner(service, "Southern Water")
    none_yet = await with_code(http, service, reporter, 202, no_missed(72))
    assert none_yet.json["result"] is True
    sent = await call(
        http,
        service,
        f"{API_PREFIX}/events",
        method="POST",
        key=reporter,
        data=batch(
            event("m-1", ni(202), "missed", "2026-06-15"),
            event("l-1", ni(202), "late", "2026-10-01"),
        ),
    )
    assert sent.json["accepted"] == 2
    # Today is 21 Nov 2026: 6 months back is 21 May (the miss is inside), 5 back is 21 June.
    answers = {}
    for months in (6, 5):
        _pid, key = await new_partner(service, f"Lender {months}")
        answers[months] = (await with_code(http, service, key, 202, no_missed(months))).json
    assert (answers[6]["result"], answers[5]["result"]) == (False, True)
    # A late payment is not a missed one; a record under dispute counts for nothing, as for
    # the score.
    async with service.db.transaction() as session:
        missed = await session.scalar(select(PaymentEvent).where(PaymentEvent.outcome == "missed"))
        assert missed is not None
        missed.disputed = True
    _pid, key = await new_partner(service, "Lender disputed")
    assert (await with_code(http, service, key, 202, no_missed(6))).json["result"] is True


async def test_verified_identity_is_false_while_borrowing_is_locked_after_wrong_ni_numbers(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await register_directly(service, 203, ni(203))
    _pid, key = await new_partner(service, "Phone Contracts")
    assert (await with_code(http, service, key, 203, VERIFIED)).json == {
        "check": {"name": "verified_identity"},
        "result": True,
        "computed_at": "2026-11-21T12:00:00Z",
    }
    identity = IdentityCheck(service.db, TEST_SECRET.encode(), clock)
    for expected in (WrongIdentity, WrongIdentity, BorrowingLocked):
        with pytest.raises(expected):
            await identity.check(203, "ZZ999999Z")
    assert (await with_code(http, service, key, 203, VERIFIED)).json["result"] is False
    clock.advance(days=1, seconds=1)  # the lock lapses
    assert (await with_code(http, service, key, 203, VERIFIED)).json["result"] is True


async def test_age_at_least_turns_true_on_the_birthday(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 204, ni(204))  # born 14 March 1990: 36 on 21 Nov 2026
    for years, expected in ((18, True), (36, True), (37, False)):
        _pid, key = await new_partner(service, f"Venue {years}")
        reply = await with_code(http, service, key, 204, age(years))
        assert (reply.status, reply.json["result"]) == (200, expected)
    assert await log_rows(service) == [
        ("age_at_least", "18", True),
        ("age_at_least", "36", True),
        ("age_at_least", "37", False),
    ]


async def test_every_answer_is_logged_with_its_question_and_told_to_the_citizen(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 205, ni(205))
    _pid, key = await new_partner(service, "Lend Well")
    assert (await with_code(http, service, key, 205, age(18))).json["result"] is True
    assert (await with_code(http, service, key, 205, band("Excellent"))).json["result"] is False
    assert await log_rows(service) == [
        ("age_at_least", "18", True),
        ("band_at_least", "Excellent", False),
    ]
    assert await told(service) == [
        "Lend Well asked “Are you 18 or over?” with your code and was told: Yes. Nothing else "
        "was shared. /share lists every question asked.",
        "Lend Well asked “Is your Britizen score band Excellent or better?” with your code and "
        "was told: No. Nothing else was shared. /share lists every question asked.",
    ]
    log = await service.services.sharing.access_log(205)
    assert [(e.partner, e.via, e.check and e.check.name, e.answer) for e in log] == [
        ("Lend Well", "code", "band_at_least", False),
        ("Lend Well", "code", "age_at_least", True),
    ]
    export = json.loads((await service.services.data_rights.export(205)).content)
    assert [
        (a["check"], a["check_value"], a["answer"]) for a in export["score_sharing"]["access_log"]
    ] == [("age_at_least", "18", True), ("band_at_least", "Excellent", False)]


async def test_a_code_is_required_and_answers_once(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await register_directly(service, 206, ni(206))
    _pid, key = await new_partner(service)
    no_consent = await ask(http, service, key, body(VERIFIED))
    assert (no_consent.status, set(no_consent.json["fields"])) == (422, {"code"})
    both = await ask(http, service, key, body(VERIFIED, code="ABCD-EFGH", access_request_id=1))
    assert (both.status, set(both.json["fields"])) == (422, {"access_request_id"})
    unknown = await ask(http, service, key, body(VERIFIED, code="AAAA-AAAA"))
    assert unknown.status == 404 and unknown.json["error"] == "not_found"

    code = (await service.services.sharing.new_code(206)).code
    first = await ask(http, service, key, body(VERIFIED, code=code.lower().replace("-", "")))
    assert first.status == 200
    used = await ask(http, service, key, body(VERIFIED, code=code))
    assert used.status == 410 and "already been used" in used.json["detail"]
    expiring = (await service.services.sharing.new_code(206)).code
    clock.advance(minutes=10, seconds=1)
    expired = await ask(http, service, key, body(VERIFIED, code=expiring))
    assert expired.status == 410 and "expired" in expired.json["detail"]
    # Refusals leave nothing behind: one answer logged, one message to the citizen.
    assert len(await log_rows(service)) == 1 and len(await told(service)) == 1


async def test_two_racing_checks_with_one_code_get_one_answer(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 207, ni(207))
    _pid, key = await new_partner(service)
    code = (await service.services.sharing.new_code(207)).code
    replies = await asyncio.gather(
        *(ask(http, service, key, body(age(18), code=code)) for _ in range(4)),
        return_exceptions=True,
    )
    statuses = sorted(r.status for r in replies if not isinstance(r, BaseException))
    assert statuses[0] == 200 and statuses.count(200) == 1
    assert len(await log_rows(service)) == 1


async def test_a_request_answers_only_its_own_question_once_it_is_allowed(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 208, ni(208))
    _pid, key = await new_partner(service, "Lend Well")
    data = json.dumps({"ni_number": ni(208), "check": age(18)})
    made = await call(http, service, REQUESTS, method="POST", key=key, data=data)
    assert made.status == 202 and made.json["check"] == {"name": "age_at_least", "value": 18}
    request_id = made.json["id"]
    async with service.db.transaction() as session:
        prompt = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "access_request")
        )
    assert prompt is not None and "“Are you 18 or over?”" in present(prompt.text)
    assert "not your score" in present(prompt.text)

    pending = await ask(http, service, key, body(age(18), access_request_id=request_id))
    assert (pending.status, pending.json["error"]) == (403, "not_consented")
    assert "not answered" in pending.json["detail"]
    answered = await service.services.sharing.answer_request(208, request_id, allow=True)
    assert answered.partner == "Lend Well" and answered.check is not None
    # Reading the status shows the question, never a score, and uses nothing up.
    status = await call(http, service, f"{REQUESTS}/{request_id}", key=key)
    assert status.json["status"] == "allowed" and "score" not in status.json
    other = await ask(http, service, key, body(age(21), access_request_id=request_id))
    assert (other.status, other.json["error"]) == (403, "not_consented")
    assert other.json["detail"].startswith("check:")
    _other_pid, other_key = await new_partner(service, "Nosy Ltd")
    theirs = await ask(http, service, other_key, body(age(18), access_request_id=request_id))
    assert theirs.status == 404
    reply = await ask(http, service, key, body(age(18), access_request_id=request_id))
    assert reply.status == 200 and reply.json["result"] is True
    again = await ask(http, service, key, body(age(18), access_request_id=request_id))
    assert again.status == 410
    status = await call(http, service, f"{REQUESTS}/{request_id}", key=key)
    assert status.json["status"] == "used"
    assert await told(service) == [
        "Lend Well asked “Are you 18 or over?” with your permission and was told: Yes. "
        "Nothing else was shared. /share lists every question asked."
    ]


async def test_a_denied_or_score_request_gives_no_answer(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 209, ni(209))
    _pid, key = await new_partner(service)
    data = json.dumps({"ni_number": ni(209), "check": VERIFIED})
    denied = await call(http, service, REQUESTS, method="POST", key=key, data=data)
    await service.services.sharing.answer_request(209, denied.json["id"], allow=False)
    refused = await ask(http, service, key, body(VERIFIED, access_request_id=denied.json["id"]))
    assert (refused.status, refused.json["error"]) == (403, "not_consented")
    assert "denied" in refused.json["detail"]

    _pid, asker = await new_partner(service, "Score Reader")
    score_data = json.dumps({"ni_number": ni(209)})
    for_score = await call(http, service, REQUESTS, method="POST", key=asker, data=score_data)
    assert "check" not in for_score.json
    await service.services.sharing.answer_request(209, for_score.json["id"], allow=True)
    wrong_route = await ask(
        http, service, asker, body(VERIFIED, access_request_id=for_score.json["id"])
    )
    assert (wrong_route.status, wrong_route.json["error"]) == (403, "not_consented")
    # The citizen allowed the score on a prompt that said so: it is still readable once.
    read = await call(http, service, f"{REQUESTS}/{for_score.json['id']}", key=asker)
    assert read.json["score"]["score"] == 600
    assert await log_rows(service) == [(None, None, None)]


async def test_the_score_is_refused_without_the_citizens_explicit_choice(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await register_directly(service, 210, ni(210))
    _pid, key = await new_partner(service)
    code = (await service.services.sharing.new_code(210)).code
    refused = await call(http, service, f"{API_PREFIX}/scores/{code}", key=key)
    assert refused.status == 403
    assert refused.json["error"] == "score_not_shared"
    assert "yes/no answers only" in refused.json["detail"]
    assert await log_rows(service) == [] and await told(service) == []
    # Refusing the score did not use the code up: it still answers one check.
    assert (await ask(http, service, key, body(VERIFIED, code=code))).status == 200
    chosen = (await service.services.sharing.new_code(210, share_score=True)).code
    shared = await call(http, service, f"{API_PREFIX}/scores/{chosen}", key=key)
    assert shared.status == 200 and set(shared.json) == {"band", "score", "computed_at"}
    async with service.db.transaction() as session:
        scopes = (await session.scalars(select(ShareCode.scope).order_by(ShareCode.id))).all()
    assert list(scopes) == ["checks", "score"]


async def test_a_partner_cannot_move_a_threshold_for_90_days(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await register_directly(service, 211, ni(211))
    _pid, key = await new_partner(service, "Bisector Ltd")
    assert (await with_code(http, service, key, 211, band("Very good"))).json["result"] is False
    code = (await service.services.sharing.new_code(211)).code
    moved = await ask(http, service, key, body(band("Good"), code=code))
    assert (moved.status, moved.json["error"]) == (409, "conflict")
    assert moved.json["detail"] == (
        "check.value: you were answered band_at_least Very good about this person; until "
        "2027-02-19T12:00:00Z you may ask this check about them only with that value"
    )
    # The refusal did not use the code: the same question again, or another kind, is fine.
    assert (await ask(http, service, key, body(band("Very good"), code=code))).status == 200
    assert (await with_code(http, service, key, 211, age(18))).status == 200
    # Asking for a moved threshold by request is refused before the citizen is bothered.
    data = json.dumps({"ni_number": ni(211), "check": age(21)})
    by_request = await call(http, service, REQUESTS, method="POST", key=key, data=data)
    assert by_request.status == 409 and by_request.json["detail"].startswith("check.value:")
    async with service.db.transaction() as session:
        asked = await session.scalar(select(func.count()).select_from(AccessRequest))
    assert asked == 0
    # Another partner has its own 90 days; after them, this one may ask anew.
    _other, other_key = await new_partner(service, "Fair Landlord")
    assert (await with_code(http, service, other_key, 211, band("Good"))).json["result"] is True
    clock.advance(days=90, seconds=1)
    assert (await with_code(http, service, key, 211, band("Good"))).json["result"] is True


@pytest.mark.parametrize(
    ("check", "field"),
    [
        ({"name": "score_at_least", "value": 700}, "check.name"),
        ({"value": 18}, "check.name"),
        ({"name": "age_at_least", "value": 15}, "check.value"),
        ({"name": "age_at_least", "value": 121}, "check.value"),
        ({"name": "age_at_least"}, "check.value"),
        ({"name": "no_missed_payments_months", "value": 0}, "check.value"),
        ({"name": "no_missed_payments_months", "value": 73}, "check.value"),
        ({"name": "band_at_least", "value": "Superb"}, "check.value"),
        ({"name": "verified_identity", "value": True}, "check.value"),
        ("age_at_least", "check"),
    ],
)
async def test_a_bad_check_is_422_naming_the_field(
    service: BritizenService, http: aiohttp.ClientSession, check: Any, field: str
) -> None:
    _pid, key = await new_partner(service)
    reply = await ask(http, service, key, json.dumps({"check": check, "code": "ABCD-EFGH"}))
    assert (reply.status, set(reply.json["fields"])) == (422, {field})
    if field == "check.name":
        assert "score_at_least is not offered" in reply.json["fields"][field]
    same = await call(
        http,
        service,
        REQUESTS,
        method="POST",
        key=key,
        data=json.dumps({"ni_number": ni(1), "check": check}),
    )
    assert (same.status, set(same.json["fields"])) == (422, {field})


def test_the_document_lists_each_check_with_its_value_type() -> None:
    schemas = openapi_document()["components"]["schemas"]
    mapping = schemas["CheckBody"]["properties"]["check"]["discriminator"]["mapping"]
    assert set(mapping) == {
        "band_at_least",
        "no_missed_payments_months",
        "verified_identity",
        "age_at_least",
    }
    assert schemas["BandAtLeast"]["properties"]["value"]["enum"] == [
        "Poor",
        "Fair",
        "Good",
        "Very good",
        "Excellent",
    ]
    age_value = schemas["AgeAtLeast"]["properties"]["value"]
    assert (age_value["type"], age_value["minimum"], age_value["maximum"]) == ("integer", 16, 120)
    months = schemas["NoMissedPaymentsMonths"]["properties"]["value"]
    assert (months["minimum"], months["maximum"]) == (1, 72)
    assert "value" not in schemas["VerifiedIdentity"]["properties"]
    assert set(schemas["CheckResult"]["properties"]) == {"check", "result", "computed_at"}


async def test_a_birthday_begins_at_uk_midnight_not_utcs(
    service: BritizenService, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    reg = service.services.registration
    await reg.begin(212)
    await reg.give_consent(212)
    await reg.submit_ni_number(212, ni(212))
    await reg.submit_date_of_birth(212, "22/06/2009")
    await reg.complete(212, 212, "Summer Born", None)
    _pid, key = await new_partner(service, "Night Club")
    clock.now = datetime(2027, 6, 21, 22, 30, tzinfo=UTC)  # 23:30 on 21 June in London
    assert (await with_code(http, service, key, 212, age(18))).json["result"] is False
    clock.now = datetime(2027, 6, 21, 23, 30, tzinfo=UTC)  # 00:30 on the birthday, BST
    assert (await with_code(http, service, key, 212, age(18))).json["result"] is True
