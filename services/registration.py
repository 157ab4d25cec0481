"""Registration: consent, NI number, date of birth, optional postcode district, then an account.

Each step is validated by the pure functions in services.validation and remembered in the
dialog table, so the conversation survives restarts. Nothing about a person is stored before
they agree; declining or cancelling deletes the half-finished conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import texts.registration as words
from services.clock import Clock
from services.dialogs import Dialog, DialogService
from services.erasures import marketing_suppressed
from services.events import apply_held_events
from services.invites import InviteRedemption, InviteService
from services.retention import restore_retained
from services.scores import record_starting_score
from services.secrets import ni_number_hash
from services.validation import (
    mask_ni_number,
    normalise_ni_number,
    normalise_postcode_district,
    parse_date_of_birth,
)
from storage.db import Database
from storage.models import Citizen
from storage.repositories import citizens
from texts.ni_claims import NI_TAKEN

FLOW = "registration"
STEP_CONSENT = "consent"
STEP_NI = "ni_number"
STEP_DOB = "date_of_birth"
STEP_POSTCODE = "postcode"
TAKEN_KEY = "taken_ni_hash"
"""The registration dialog keeps the hash (never the number) of a number found already in
use, so "Report this" (services.ni_claims) can open a claim without asking for it again."""


class RegistrationError(Exception):
    """A refusal the citizen should read; the message is plain English."""


class NINumberTaken(RegistrationError):
    def __init__(self) -> None:
        # Deliberately vague: saying who holds the number, or even that it is "registered to
        # @someone", would leak a link between an NI number and a Telegram account. The
        # answer offers "Report this" (services.ni_claims).
        super().__init__(NI_TAKEN)


class AlreadyRegistered(RegistrationError):
    def __init__(self) -> None:
        super().__init__(words.ALREADY_REGISTERED)


class NotInRegistration(RegistrationError):
    def __init__(self) -> None:
        super().__init__(words.STEP_CLOSED)


@dataclass(frozen=True)
class RegisteredCitizen:
    citizen_id: int
    ni_masked: str
    postcode_district: str | None
    starting_score: int
    band: str
    invite_payload: str | None
    invite: InviteRedemption | None = None
    """What the invite link the person registered through did, if it was a live one."""


class RegistrationService:
    def __init__(
        self,
        db: Database,
        dialogs: DialogService,
        secret_key: bytes,
        clock: Clock,
        invites: InviteService | None = None,
    ) -> None:
        self._db = db
        self._dialogs = dialogs
        self._key = secret_key
        self._clock = clock
        self._invites = invites

    async def citizen_id(self, telegram_id: int) -> int | None:
        """The account behind a Telegram user, or None: the one registration read per update
        (the bot's guard hands the id on, so nothing downstream looks the account up again)."""
        async with self._db.autocommit() as session:
            return await citizens.id_by_telegram_id(session, telegram_id)

    async def is_registered(self, telegram_id: int) -> bool:
        # Asked before nearly every command: one statement, no transaction around it.
        async with self._db.autocommit() as session:
            return await citizens.id_by_telegram_id(session, telegram_id) is not None

    async def marketing_suppressed(self, telegram_id: int) -> bool:
        """True if this person's NI number belonged to an erased account: the marketing
        opt-in question should not be asked (or default to yes) after registration."""
        async with self._db.transaction() as session:
            ni_hash = await session.scalar(
                select(Citizen.ni_hash).where(Citizen.telegram_id == telegram_id)
            )
            return ni_hash is not None and await marketing_suppressed(session, ni_hash)

    async def begin(self, telegram_id: int, invite_payload: str | None = None) -> None:
        if await self.is_registered(telegram_id):
            raise AlreadyRegistered()
        data = {"invite": invite_payload} if invite_payload else {}
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_CONSENT, data))
        if invite_payload and self._invites is not None:
            await self._invites.record_opened(invite_payload)

    async def decline(self, telegram_id: int) -> None:
        await self._dialogs.clear(telegram_id)

    async def give_consent(self, telegram_id: int) -> None:
        dialog = await self._current(telegram_id, STEP_CONSENT)
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_NI, dialog.data))

    async def submit_ni_number(self, telegram_id: int, raw: str) -> str:
        """Validate and remember the number (hashed); returns the masked form to show back."""
        dialog = await self._current(telegram_id, STEP_NI)
        canonical = normalise_ni_number(raw)
        ni_hash = ni_number_hash(self._key, canonical)
        async with self._db.transaction() as session:
            taken = await session.scalar(select(Citizen.id).where(Citizen.ni_hash == ni_hash))
        if taken is not None:
            # Still at this step (another number can be typed); the hash is kept for a report.
            await self._dialogs.set(
                telegram_id, Dialog(FLOW, STEP_NI, {**dialog.data, TAKEN_KEY: ni_hash})
            )
            raise NINumberTaken()
        masked = mask_ni_number(canonical)
        data = {**dialog.data, "ni_hash": ni_hash, "ni_masked": masked}
        data.pop(TAKEN_KEY, None)
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_DOB, data))
        return masked

    async def submit_date_of_birth(self, telegram_id: int, raw: str) -> date:
        dialog = await self._current(telegram_id, STEP_DOB)
        today = self._clock().date()
        born = parse_date_of_birth(raw, today)
        data = {**dialog.data, "date_of_birth": born.isoformat()}
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_POSTCODE, data))
        return born

    async def complete(
        self, telegram_id: int, chat_id: int, display_name: str, postcode_raw: str | None
    ) -> RegisteredCitizen:
        """Finish with a postcode district (or None when skipped) and create the account."""
        dialog = await self._current(telegram_id, STEP_POSTCODE)
        district = normalise_postcode_district(postcode_raw) if postcode_raw is not None else None
        now = self._clock()
        payload: str | None = dialog.data.get("invite")
        redemption: InviteRedemption | None = None
        try:
            async with self._db.transaction() as session:
                citizen = Citizen(
                    telegram_id=telegram_id,
                    chat_id=chat_id,
                    display_name=display_name[:64] or "Citizen",
                    ni_hash=dialog.data["ni_hash"],
                    ni_masked=dialog.data["ni_masked"],
                    date_of_birth=date.fromisoformat(dialog.data["date_of_birth"]),
                    postcode_district=district,
                    registered_at=now,
                )
                session.add(citizen)
                await session.flush()
                starting = await record_starting_score(session, citizen.id, now)
                # Partners' events that arrived before the account did (within 90 days).
                await apply_held_events(session, citizen, now)
                # Someone who erased an account and rejoins gets their adverse records back.
                await restore_retained(session, citizen, now)
                if await marketing_suppressed(session, citizen.ni_hash):
                    # This number's earlier account was erased: promotions stay off, and we
                    # don't ask again (recorded as asked); /settings still lets them opt in.
                    citizen.marketing_opt_in = False
                    citizen.marketing_asked_at = now
                if payload and self._invites is not None:
                    # In the same transaction as the account: the referral is credited exactly
                    # when registration completes, never for a half-finished one.
                    redemption = await self._invites.redeem(session, citizen, payload, now)
        except IntegrityError:
            # Someone completed with the same number between our check and this insert (or the
            # same person double-tapped): the unique constraints are the real guard.
            if await self.is_registered(telegram_id):
                raise AlreadyRegistered() from None
            await self._dialogs.clear(telegram_id)
            raise NINumberTaken() from None
        await self._dialogs.clear(telegram_id)
        return RegisteredCitizen(
            citizen_id=citizen.id,
            ni_masked=citizen.ni_masked,
            postcode_district=district,
            starting_score=starting.score,
            band=starting.band,
            invite_payload=payload,
            invite=redemption,
        )

    async def _current(self, telegram_id: int, step: str) -> Dialog:
        dialog = await self._dialogs.get(telegram_id)
        if dialog is None or dialog.flow != FLOW or dialog.step != step:
            raise NotInRegistration()
        return dialog
