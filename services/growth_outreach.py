"""Growth outreach on consent (issue 19): the "Help Britizen grow" opt-in, ambassador
invitations for the best-placed people who opted in, and operators' area campaigns.

- Consent: off unless the citizen turns it on in /settings; every message carries a Stop
  button that turns it off and cancels whatever growth message is still queued for them.
- Ambassadors: the `top` opted-in citizens by the nightly pass's network figures (betweenness,
  then effective size, then degree; optionally one role or postcode areas) each get one
  personal invitation with their invite link. Anyone among them invited in the last 30 days is
  skipped, not replaced by the next in line: so a second run within 30 days sends nothing, and
  a run can never be used to walk down the ranking. Nobody is told a rank; the wording is the
  same for everyone.
- Campaigns: an operator's plain text in a fixed Britizen frame, to opted-in citizens in the
  named postcode areas, once per person per campaign (the same areas and text again carry on
  the same campaign). People asked anything in the last 7 days are left out, so the asks stay
  occasional.

Messages go through the outbox at the send rate, after quiet hours if queued during them
(services.quiet_hours), in one transaction with the record that they were sent, under a job
lock so two runs at once can't both send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field, TypeAdapter, ValidationError

from services.callbacks import GROWTH
from services.clock import Clock
from services.invites import InviteService, invite_url
from services.languages import citizens_languages
from services.quiet_hours import first_moment_to_send
from services.sponsor_text import PlainText
from storage.db import Database
from storage.locks import job_lock
from storage.models import GrowthCampaign
from storage.repositories import growth_outreach as repo
from texts import growth_outreach as words
from texts.i18n import ENGLISH, worded_in

AMBASSADOR_KIND = "ambassador"
CAMPAIGN_KIND = "campaign"
CONTEST_KIND = "contest"
GROWTH_KINDS = (AMBASSADOR_KIND, CAMPAIGN_KIND)
"""Outbox and growth_messages kinds that the Stop button stops."""
GROWTH_PRIORITY = 100
"""Behind every personal message (reminders 0, alerts 10), level with promotions."""
AMBASSADOR_GAP = timedelta(days=30)
CAMPAIGN_GAP = timedelta(days=7)
MAX_TOP = 1000
MAX_AREAS = 20
MAX_CAMPAIGN_TEXT = 1000
ROLES = ("broker", "connector")
STOPPED_ERROR = "growth asks stopped"
STOP_DATA = GROWTH.encode("stop")

_AREA = re.compile(r"^[A-Z]{1,2}$")
_CAMPAIGN_TEXT: TypeAdapter[str] = TypeAdapter(
    Annotated[PlainText, Field(max_length=MAX_CAMPAIGN_TEXT)]
)


class OutreachError(Exception):
    """A refusal for the operator, in plain words."""


class OutreachBusy(OutreachError):
    def __init__(self) -> None:
        super().__init__(words.OUTREACH_BUSY)


def stop_markup() -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": words.STOP_BUTTON, "callback_data": STOP_DATA}]]}


def parse_areas(raw: str, option: str = "--areas") -> tuple[str, ...]:
    """'so, bh' -> ('BH', 'SO'): postcode areas, one or two letters each, deduplicated."""
    areas = sorted({part.strip().upper() for part in raw.split(",") if part.strip()})
    if not areas:
        raise OutreachError(words.NO_AREAS.format(option=option))
    bad = [area for area in areas if not _AREA.fullmatch(area)]
    if bad:
        raise OutreachError(words.NOT_AREAS.format(option=option, bad=", ".join(bad)))
    if len(areas) > MAX_AREAS:
        raise OutreachError(words.TOO_MANY_AREAS.format(option=option, limit=MAX_AREAS))
    return tuple(areas)


def check_campaign_text(raw: str) -> str:
    try:
        return _CAMPAIGN_TEXT.validate_python(raw.strip())
    except ValidationError as problem:
        reason = problem.errors()[0]["msg"]
        raise OutreachError(words.BAD_OPTION.format(option="--text", reason=reason)) from None


@dataclass(frozen=True)
class AmbassadorRun:
    chosen: int
    """How many people the ranking picked (at most `top`)."""
    queued: int
    skipped_recent: int
    """Chosen but invited in the last 30 days: not asked again."""


@dataclass(frozen=True)
class CampaignRun:
    campaign_id: int
    areas: tuple[str, ...]
    queued: int
    skipped_recent: int
    """In the areas and opted in, but asked something in the last 7 days."""
    already: bool
    """The same campaign had run before: only people it had not reached were considered."""


@dataclass(frozen=True)
class StopResult:
    changed: bool
    cancelled: int


class GrowthOutreach:
    def __init__(
        self, db: Database, clock: Clock, timezone: ZoneInfo, invites: InviteService
    ) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone
        self._invites = invites

    # Consent -------------------------------------------------------------------------------

    async def opted_in(self, telegram_id: int) -> bool:
        async with self._db.transaction() as session:
            return bool(await repo.opted_in(session, telegram_id))

    async def set_opt_in(self, telegram_id: int, value: bool) -> StopResult:
        """Turn the asks on or off; off also cancels growth messages still queued for them."""
        async with self._db.transaction() as session:
            changed = await repo.set_opt_in(session, telegram_id, value)
            cancelled = 0
            if not value:
                cancelled = await repo.cancel_queued(
                    session, telegram_id, GROWTH_KINDS, STOPPED_ERROR
                )
        return StopResult(bool(changed), cancelled)

    # Ambassadors ----------------------------------------------------------------------------

    async def invite_ambassadors(
        self,
        *,
        top: int,
        bot_username: str,
        role: str | None = None,
        areas: Sequence[str] = (),
    ) -> AmbassadorRun:
        if not 1 <= top <= MAX_TOP:
            raise OutreachError(words.OUT_OF_RANGE.format(option="--top", limit=MAX_TOP))
        if role is not None and role not in ROLES:
            raise OutreachError(words.NOT_A_ROLE.format(roles=", ".join(ROLES)))
        async with job_lock(self._db, "growth-outreach") as held:
            if not held:
                raise OutreachBusy()
            now = self._clock()
            async with self._db.transaction() as session:
                chosen = await repo.ranked(session, top=top, role=role, areas=areas)
                recent = await repo.asked_since(
                    session,
                    [c.citizen_id for c in chosen],
                    (AMBASSADOR_KIND,),
                    now - AMBASSADOR_GAP,
                )
            to_ask = [c for c in chosen if c.citizen_id not in recent]
            codes = await self._invites.codes_for_many([c.citizen_id for c in to_ask])
            queued = await self._queue(
                AMBASSADOR_KIND,
                to_ask,
                lambda c: words.ambassador_invitation(invite_url(bot_username, codes[c])),
                now,
            )
        return AmbassadorRun(len(chosen), queued, len(recent))

    # Campaigns ------------------------------------------------------------------------------

    async def run_campaign(
        self, *, areas: Sequence[str], text: str, bot_username: str
    ) -> CampaignRun:
        checked = check_campaign_text(text)
        listed = ",".join(sorted(set(areas)))
        async with job_lock(self._db, "growth-outreach") as held:
            if not held:
                raise OutreachBusy()
            now = self._clock()
            async with self._db.transaction() as session:
                campaign = await repo.campaign_like(session, listed, checked)
                already = campaign is not None
                if campaign is None:
                    campaign = GrowthCampaign(areas=listed, text=checked, created_at=now)
                    session.add(campaign)
                    await session.flush()
                campaign_id = campaign.id
                audience = await repo.campaign_audience(session, campaign_id, areas)
                recent = await repo.asked_since(
                    session, [c.citizen_id for c in audience], GROWTH_KINDS, now - CAMPAIGN_GAP
                )
            to_ask = [c for c in audience if c.citizen_id not in recent]
            codes = await self._invites.codes_for_many([c.citizen_id for c in to_ask])
            queued = await self._queue(
                CAMPAIGN_KIND,
                to_ask,
                lambda c: words.campaign_message(checked, invite_url(bot_username, codes[c])),
                now,
                campaign_id=campaign_id,
            )
        return CampaignRun(campaign_id, tuple(areas), queued, len(recent), already)

    # Queueing -------------------------------------------------------------------------------

    async def _queue(
        self,
        kind: str,
        recipients: Sequence[repo.Recipient],
        text_for: Callable[[int], str],
        now: datetime,
        *,
        campaign_id: int | None = None,
    ) -> int:
        """The record and the outbox row together, or neither; due after quiet hours. Each
        message (`text_for(citizen id)`) and its Stop button in the recipient's language."""
        due = first_moment_to_send(now, self._tz)
        markup = stop_markup()
        async with self._db.transaction() as session:
            # Someone who pressed Stop since the audience was read is left out here.
            still = await repo.still_willing(session, [p.citizen_id for p in recipients])
            recipients = [p for p in recipients if p.citizen_id in still]
            languages = await citizens_languages(session, [p.citizen_id for p in recipients])
            markups = {lang: worded_in(lang, stop_markup) for lang in set(languages.values())}
            await repo.queue(
                session,
                [
                    repo.Queued(
                        p.citizen_id,
                        p.chat_id,
                        worded_in(languages.get(p.citizen_id), text_for, p.citizen_id),
                        markups.get(languages.get(p.citizen_id, ENGLISH)),
                    )
                    for p in recipients
                ],
                kind=kind,
                priority=GROWTH_PRIORITY,
                markup=markup,
                now=now,
                due=due,
                campaign_id=campaign_id,
            )
            if campaign_id is not None:
                campaign = await session.get(GrowthCampaign, campaign_id)
                assert campaign is not None
                campaign.recipients += len(recipients)
        return len(recipients)
