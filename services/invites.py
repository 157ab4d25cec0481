"""Personal invite links: ``https://t.me/<bot>?start=<code>``, the same as a QR code, and what
opening one does.

A code is ``inv_`` plus 22 URL-safe base64 characters (128 bits): inside Telegram's 64-character
``[A-Za-z0-9_-]`` rule for start payloads, unguessable, and unrelated to any id. It is derived
from the secret key, the citizen id and a random nonce, so only the nonce and a keyed hash of the
code are stored: the link can be shown again at any time, a copy of the database yields no
working links, and a new nonce retires the old link.

- A newcomer who registers through a link is linked to its owner once registration is complete,
  in the same transaction that creates their account: a referral is credited (once per newcomer)
  and the newcomer asks the owner to be friends.
- An existing citizen opening a link only asks its owner to be friends; there is no referral.
- For the operators' referral funnel (services.growth_report), each link counts how often
  someone without an account opened it and how many registrations completed through it; who
  opened it is not kept.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.clock import Clock
from services.erasures import was_erased
from services.friends_model import RequestOutcome, RequestResult, Via
from services.friendship import send_request, with_retry
from services.secrets import keyed_hash
from storage.db import Database
from storage.models import Citizen, InviteCode, Referral

INVITE_PREFIX = "inv_"
_CODE_BYTES = 16
_BATCH = 1000
_CODE_PATTERN = re.compile(rf"^{INVITE_PREFIX}[A-Za-z0-9_-]{{22}}$")


def is_invite_payload(payload: str | None) -> bool:
    return payload is not None and _CODE_PATTERN.match(payload) is not None


def invite_url(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as PNG bytes; medium error correction survives a smudged print."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class InviteRedemption:
    """What registering through an invite did."""

    inviter_name: str
    credited: bool
    """A referral was credited to the inviter (False only if this newcomer already had one)."""
    request: RequestResult
    """The newcomer's friend request to the inviter: SENT, or NOT_ACCEPTING when the inviter
    turned requests off (the referral counts either way)."""


class InviteService:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock

    def _code(self, citizen_id: int, nonce: str) -> str:
        digest = bytes.fromhex(keyed_hash(self._key, "invite-code", f"{citizen_id}:{nonce}"))
        token = base64.urlsafe_b64encode(digest[:_CODE_BYTES]).rstrip(b"=").decode()
        return INVITE_PREFIX + token

    def _lookup_hash(self, code: str) -> str:
        return keyed_hash(self._key, "invite-lookup", code)

    async def code_for(self, telegram_id: int) -> str:
        """The citizen's invite code, made on first use and the same every time after."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            row = await session.get(InviteCode, me.id)
            if row is None:
                row = self._new_row(me.id)
                session.add(row)
            return self._code(me.id, row.nonce)

    async def new_code(self, telegram_id: int) -> str:
        """Replace the citizen's code: the old link stops working at once."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            row = await session.get(InviteCode, me.id)
            fresh = self._new_row(me.id)
            if row is None:
                session.add(fresh)
            else:
                row.nonce, row.code_hash, row.created_at = (
                    fresh.nonce,
                    fresh.code_hash,
                    fresh.created_at,
                )
            return self._code(me.id, fresh.nonce)

    async def codes_for_many(self, citizen_ids: list[int]) -> dict[int, str]:
        """Many citizens' codes at once (growth outreach), made where missing: one transaction
        per thousand rather than one per person."""
        codes: dict[int, str] = {}
        for start in range(0, len(citizen_ids), _BATCH):
            chunk = list(citizen_ids[start : start + _BATCH])
            async with self._db.transaction() as session:
                rows = {
                    row.citizen_id: row
                    for row in await session.scalars(
                        select(InviteCode).where(InviteCode.citizen_id.in_(chunk))
                    )
                }
                for citizen_id in chunk:
                    if citizen_id not in rows:
                        rows[citizen_id] = self._new_row(citizen_id)
                        session.add(rows[citizen_id])
                codes.update((cid, self._code(cid, rows[cid].nonce)) for cid in chunk)
        return codes

    def _new_row(self, citizen_id: int) -> InviteCode:
        nonce = secrets.token_hex(16)
        return InviteCode(
            citizen_id=citizen_id,
            nonce=nonce,
            code_hash=self._lookup_hash(self._code(citizen_id, nonce)),
            created_at=self._clock(),
        )

    async def owner_of(self, session: AsyncSession, payload: str) -> Citizen | None:
        if not is_invite_payload(payload):
            return None
        return await session.scalar(
            select(Citizen)
            .join(InviteCode, InviteCode.citizen_id == Citizen.id)
            .where(InviteCode.code_hash == self._lookup_hash(payload))
        )

    async def record_opened(self, payload: str) -> None:
        """Someone without an account opened this link (the funnel's "opened"). One UPDATE, no
        read: an unknown or retired code matches no row and changes nothing."""
        if not is_invite_payload(payload):
            return
        async with self._db.transaction() as session:
            await session.execute(
                update(InviteCode)
                .where(InviteCode.code_hash == self._lookup_hash(payload))
                .values(opened_count=InviteCode.opened_count + 1, last_opened_at=self._clock())
            )

    async def open_link(self, telegram_id: int, payload: str) -> RequestOutcome:
        """An existing citizen opened someone's link: a friend request, never a referral."""

        async def attempt() -> RequestOutcome:
            now = self._clock()
            async with self._db.transaction() as session:
                me = await citizen_for(session, telegram_id)
                owner = await self.owner_of(session, payload)
                if owner is None:
                    return RequestOutcome(RequestResult.LINK_NOT_VALID)
                result = await send_request(session, me, owner, Via.LINK, now)
                return RequestOutcome(result, owner.display_name)

        return await with_retry(attempt)

    async def redeem(
        self, session: AsyncSession, newcomer: Citizen, payload: str, now: datetime
    ) -> InviteRedemption | None:
        """Inside the registration transaction, once the newcomer's account exists: credit the
        referral and send the owner a friend request. None for a payload that isn't a live
        invite (a retired link registers the person all the same)."""
        owner = await self.owner_of(session, payload)
        if owner is None or owner.id == newcomer.id:
            return None
        # Every registration through a live link counts for the funnel's "registered"; only
        # a credited one (a referrals row) is "verified" there.
        await session.execute(
            update(InviteCode)
            .where(InviteCode.citizen_id == owner.id)
            .values(registered_count=InviteCode.registered_count + 1)
        )
        credited = False
        already = await session.scalar(
            select(Referral.id).where(Referral.invitee_id == newcomer.id)
        )
        # Someone who erased an account and registers again was credited (or not) the first
        # time: an erasure keeps only the NI hash, which is enough to refuse a second credit.
        repeat = await was_erased(session, newcomer.ni_hash)
        if already is None and not repeat:
            session.add(Referral(inviter_id=owner.id, invitee_id=newcomer.id, created_at=now))
            credited = True
        result = await send_request(session, newcomer, owner, Via.INVITE, now)
        return InviteRedemption(owner.display_name, credited, result)

    @staticmethod
    async def qr_png(text: str) -> bytes:
        # Drawing takes a few milliseconds of CPU: keep it off the event loop.
        return await asyncio.to_thread(qr_png, text)
