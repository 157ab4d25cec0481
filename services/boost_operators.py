"""Boost for operators (``britizen boost list | revoke``, bot/cli_boost.py): every Boost partner,
one citizen's partners and waiting invitations, and stopping a partner reporting about one
citizen or anyone. Citizens are known here by their account id only.

A revocation is the citizen's own Remove in /boost (services.boost) done for them: the link
goes, the partner's key can no longer report about them, what it reported stays; it is logged
in the citizen's access log and told in their chat, in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.boost import ENDED_VIA, NOTICE_PRIORITY, WaitingInvite, log_removal, waiting_invites
from services.clock import Clock
from services.languages import tell_citizen
from storage.db import Database
from storage.models import BoostPartner, Citizen, Partner
from storage.repositories import boost as repo
from texts import boost as texts


@dataclass(frozen=True)
class CitizenBoost:
    """One citizen's Boost, as ``britizen boost list --citizen`` prints it."""

    citizen_id: int
    partners: list[repo.LinkedPartner]
    invites: list[WaitingInvite]


class BoostOperators:
    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    async def all_partners(self) -> list[repo.BoostPartnerRow]:
        async with self._db.transaction() as session:
            return await repo.all_boost_partners(session)

    async def of_citizen(self, citizen_id: int) -> CitizenBoost | None:
        """A citizen's Boost partners and waiting invitations; None for no such citizen."""
        async with self._db.transaction() as session:
            if await session.get(Citizen, citizen_id) is None:
                return None
            return CitizenBoost(
                citizen_id,
                await repo.partners_of(session, citizen_id),
                await waiting_invites(session, citizen_id, self._clock(), self._tz),
            )

    async def end(self, partner_id: int, citizen_id: int | None = None) -> list[int] | None:
        """Stop a Boost partner reporting about one citizen, or (no ``citizen_id``) about
        anyone. Each citizen concerned has it logged in their access log and is told in their
        chat. Returns their ids (empty: nothing to remove); None if ``partner_id`` is not a
        Boost partner."""
        now = self._clock()
        async with self._db.transaction() as session:
            partner = await session.get(Partner, partner_id)
            boost = await session.get(BoostPartner, partner_id)
            if partner is None or boost is None:
                return None
            linked = await repo.citizens_of(session, partner_id)
            chosen = linked if citizen_id is None else [c for c in linked if c == citizen_id]
            ended: list[int] = []
            for cid in chosen:
                if not await repo.remove_link(session, partner_id, cid):
                    continue
                ended.append(cid)
                log_removal(session, cid, partner_id, ENDED_VIA, now)
                citizen = await session.get(Citizen, cid)
                if citizen is not None:
                    await tell_citizen(
                        session, citizen, "boost_ended", now,
                        texts.ended_by_britizen, partner.name, boost.role,
                        priority=NOTICE_PRIORITY,
                    )  # fmt: skip
            return ended
