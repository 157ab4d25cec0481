"""NI-number claims: "someone registered with my NI number".

A person told at registration that their number is already linked to an account (the
registration dialog keeps that number's keyed hash, never the number) can report it:

1. ``start`` (the "Report this" button or /reportni): checks the limits, then asks for a way
   to contact them (an email address or a phone number, validated, stored encrypted);
2. ``open`` with an optional document photo (encrypted with Fernet under
   ``BRITIZEN_DOCUMENT_KEY``): the claim opens, and at once the account holding the number is
   frozen for borrowing and sharing (``refuse_if_frozen``, called by the loan and sharing
   paths; its live share codes and open partner requests end) and its owner is told in their
   private chat, with how to reply (/nireply);
3. a reviewer (``BRITIZEN_ADMIN_IDS``) decides in /review: **move** takes the number (its hash,
   masked form and the NI check's state) off the old account, which stays frozen since it has
   no number to verify a loan or be asked about by a partner, and lets the claimant finish
   registering with it; **reject** closes the claim and lifts the freeze. Both are told; the
   document and the contact are deleted either way.

Limits: one open claim per NI hash (a partial unique index) and per claimant; at most
:data:`CLAIMS_PER_WINDOW` claims per Telegram user in :data:`CLAIM_WINDOW`; after a rejection
the claimant waits :data:`REJECTION_COOL_DOWN`. Housekeeping deletes any document older than
:data:`DOCUMENT_KEEP` even if the claim is still open. Each step is logged for the person it
concerns (``ni_claim_events``), which /mydata exports.

What a move leaves on the old account, and why: its loans stay (the person who borrowed owes
them; the lender's record can't just vanish), as do its referrals, friends and score history
(they are about the Telegram account, not the number). Partners' events held for the number
are keyed by its hash, so they follow it to the claimant when they register; but if the
holder erased their account while the claim was open, what that erasure kept (adverse records,
"promotions off") was theirs and is dropped at the move.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services import registration as reg
from services.accounts import citizen_for
from services.callbacks import NI_CLAIM
from services.clock import Clock, as_aware_utc
from services.dialogs import Dialog, DialogService
from services.errors import NotAllowed, ServiceError
from services.languages import citizen_language, language_of, remember_language
from services.secrets import keyed_hash
from storage.db import Database
from storage.models import Citizen, NiClaim
from storage.repositories import ni_claims as repo
from storage.repositories.outbox import enqueue, enqueue_to_citizen
from storage.statuses import NiClaimStatus
from texts import ni_claims as texts
from texts.i18n import ENGLISH, current, worded_in

FLOW = "ni_claim"
STEP_CONTACT = "contact"
STEP_DOCUMENT = "document"
STEP_STATEMENT = "statement"

CLAIMS_PER_WINDOW = 3
CLAIM_WINDOW = timedelta(days=30)
REJECTION_COOL_DOWN = timedelta(days=14)
DOCUMENT_KEEP = timedelta(days=30)
"""A document is deleted at review, or by housekeeping this long after it was sent."""
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
MAX_STATEMENT = 1000
MAX_NOTE = 500
MAX_CONTACT = 254
CLAIM_PRIORITY = 3
RELEASED_MASK = "—"
"""The masked form left on an account whose number was moved to its owner."""
RELEASED_PURPOSE = "ni-released"

CLAIMANT, HOLDER = "claimant", "holder"

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")


class ClaimError(ServiceError):
    """A refusal fit to show; the message is plain English from texts.ni_claims."""


class AccountFrozen(ClaimError):
    """Borrowing or sharing on an account whose NI number is claimed (or was moved)."""

    def __init__(self) -> None:
        super().__init__(texts.FROZEN)


class BadContact(ClaimError):
    def __init__(self) -> None:
        super().__init__(texts.BAD_CONTACT)


class BadDocument(ClaimError):
    pass


class NotReviewable(ClaimError):
    def __init__(self) -> None:
        super().__init__(texts.NOT_REVIEWABLE)


class ClaimantRegistered(ClaimError):
    def __init__(self) -> None:
        super().__init__(texts.CLAIMANT_REGISTERED_SINCE)


class NumberFree(ClaimError):
    """The account holding the number was erased meanwhile: nothing to claim, just register."""

    def __init__(self) -> None:
        super().__init__(texts.NUMBER_FREE_NOW)


async def refuse_if_frozen(session: AsyncSession, citizen_id: int) -> None:
    """The guard the loan and sharing paths call: AccountFrozen while the account's number is
    claimed, or after it was moved to its owner."""
    if await repo.is_frozen(session, citizen_id):
        raise AccountFrozen()


def document_key_from_secret(secret_key: bytes) -> bytes:
    """A Fernet key derived from the HMAC secret, for deployments that set no
    BRITIZEN_DOCUMENT_KEY (domain-separated by HKDF's info, so it reveals nothing of the HMAC
    key and can never equal an NI hash)."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"britizen ni-claim documents"
    ).derive(secret_key)
    return base64.urlsafe_b64encode(derived)


def normalise_contact(raw: str) -> tuple[str, str]:
    """(kind, value) for an email address or a phone number; BadContact otherwise.

    Phones: UK numbers (07..., 01..., 02..., 03...) or international (+ and 8 to 15 digits),
    spaces, dots, dashes and brackets allowed."""
    text = raw.strip()
    if not text or len(text) > MAX_CONTACT:
        raise BadContact()
    if "@" in text:
        if not _EMAIL.match(text) or ".." in text:
            raise BadContact()
        local, _, domain = text.rpartition("@")
        return "email", f"{local}@{domain.lower()}"
    compact = re.sub(r"[\s().-]", "", text)
    if re.fullmatch(r"\+[1-9]\d{7,14}", compact):
        return "phone", compact
    if re.fullmatch(r"0[1-37]\d{8,9}", compact):
        return "phone", compact
    raise BadContact()


@dataclass(frozen=True)
class ClaimOpened:
    id: int
    contact_kind: str


@dataclass(frozen=True)
class ClaimQueueItem:
    id: int
    waiting: int
    made: datetime
    claimant: str
    contact_kind: str
    contact: str
    has_document: bool
    masked: str | None
    holder: str | None
    holder_since: datetime | None
    statement: str | None


@dataclass(frozen=True)
class ClaimDocument:
    content: bytes
    mime: str


@dataclass(frozen=True)
class ClaimDecision:
    id: int
    moved: bool


class NiClaimService:
    def __init__(
        self,
        db: Database,
        dialogs: DialogService,
        secret_key: bytes,
        clock: Clock,
        admin_ids: Collection[int] = (),
        document_key: bytes | None = None,
    ) -> None:
        self._db = db
        self._dialogs = dialogs
        self._key = secret_key
        self._clock = clock
        self._admins = tuple(sorted(admin_ids))
        self._fernet = Fernet(document_key or document_key_from_secret(secret_key))

    # --- the claimant -----------------------------------------------------------------------

    async def start(self, telegram_id: int) -> None:
        """ "Report this": only right after registration found the number in use."""
        dialog = await self._dialogs.get(telegram_id)
        if dialog is None or dialog.flow != reg.FLOW or reg.TAKEN_KEY not in dialog.data:
            raise ClaimError(texts.NOTHING_TO_REPORT)
        ni_hash = str(dialog.data[reg.TAKEN_KEY])
        async with self._db.transaction() as session:
            await self._check_limits(session, telegram_id, ni_hash)
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_CONTACT, {"ni_hash": ni_hash}))

    async def submit_contact(self, telegram_id: int, raw: str) -> None:
        dialog = await self._dialog(telegram_id, STEP_CONTACT)
        kind, value = normalise_contact(raw)
        data = {
            **dialog.data,
            "contact_kind": kind,
            # Encrypted even in the conversation row: it's the claimant's personal data.
            "contact": self._fernet.encrypt(value.encode()).decode(),
        }
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_DOCUMENT, data))

    async def at_document_step(self, telegram_id: int) -> bool:
        dialog = await self._dialogs.get(telegram_id)
        return dialog is not None and dialog.flow == FLOW and dialog.step == STEP_DOCUMENT

    @staticmethod
    def check_document(size: int | None, mime: str | None) -> None:
        """Before downloading: a type we accept and a size within the limit."""
        if mime not in DOCUMENT_TYPES:
            raise BadDocument(texts.DOCUMENT_WRONG_KIND)
        if size is not None and size > MAX_DOCUMENT_BYTES:
            raise BadDocument(texts.document_too_big(MAX_DOCUMENT_BYTES // (1024 * 1024)))

    async def open(
        self,
        telegram_id: int,
        chat_id: int,
        display_name: str,
        document: bytes | None = None,
        mime: str | None = None,
    ) -> ClaimOpened:
        """Open the claim (with the document, if any), freeze the holder and tell them."""
        dialog = await self._dialog(telegram_id, STEP_DOCUMENT)
        sealed: bytes | None = None
        if document is not None:
            self.check_document(len(document), mime)
            # ~0.2 s for 5 MB: off the event loop, so other people's updates aren't held up.
            sealed = await asyncio.to_thread(self._fernet.encrypt, bytes(document))
        ni_hash = str(dialog.data["ni_hash"])
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                await self._check_limits(session, telegram_id, ni_hash)
                holder_row = await session.scalar(select(Citizen).where(Citizen.ni_hash == ni_hash))
                if holder_row is None:
                    raise NumberFree()
                claim = NiClaim(
                    ni_hash=ni_hash,
                    status=NiClaimStatus.OPEN,
                    claimant_telegram_id=telegram_id,
                    claimant_chat_id=chat_id,
                    claimant_name=display_name[:64] or "?",
                    holder_citizen_id=holder_row.id,
                    holder_telegram_id=holder_row.telegram_id,
                    contact_kind=str(dialog.data["contact_kind"]),
                    contact_encrypted=str(dialog.data["contact"]).encode(),
                    document_encrypted=sealed,
                    document_mime=mime if document is not None else None,
                    created_at=now,
                )
                session.add(claim)
                await session.flush()  # a second open claim on this number fails here
                # The outcome reaches the claimant later, maybe before they register: in the
                # language they reported in.
                await remember_language(session, telegram_id, current())
                repo.log(session, claim.id, telegram_id, CLAIMANT, "claim_started", now)
                if document is not None:
                    repo.log(session, claim.id, telegram_id, CLAIMANT, "document_received", now)
                repo.log(session, claim.id, telegram_id, CLAIMANT, "claim_opened", now)
                repo.log(session, claim.id, holder_row.telegram_id, HOLDER, "account_reported", now)
                await repo.retire_sharing(session, holder_row.id, now)
                holder_language = await citizen_language(session, holder_row)
                enqueue_to_citizen(
                    session,
                    holder_row,
                    worded_in(holder_language, texts.holder_notice, holder_row.ni_masked),
                    "ni_claim_notice",
                    now,
                    worded_in(holder_language, _reply_markup, claim.id),
                    priority=CLAIM_PRIORITY,
                )
                for admin in self._admins:
                    enqueue(
                        session,
                        chat_id=admin,
                        citizen_id=None,
                        kind="ni_claim_admin",
                        priority=CLAIM_PRIORITY,
                        text=worded_in(
                            await language_of(session, admin),
                            texts.new_claim_for_reviewers,
                            claim.id,
                        ),
                        now=now,
                    )
                opened = ClaimOpened(claim.id, claim.contact_kind or "email")
        except IntegrityError:
            raise ClaimError(texts.ALREADY_UNDER_REVIEW) from None
        except NumberFree:
            await self._dialogs.clear(telegram_id)
            raise
        await self._dialogs.clear(telegram_id)
        return opened

    async def _check_limits(self, session: AsyncSession, telegram_id: int, ni_hash: str) -> None:
        now = self._clock()
        if await repo.open_by_claimant(session, telegram_id) is not None:
            raise ClaimError(texts.YOU_HAVE_ONE_OPEN)
        if await repo.open_for_hash(session, ni_hash) is not None:
            raise ClaimError(texts.ALREADY_UNDER_REVIEW)
        rejected = await repo.last_rejected_at(session, telegram_id)
        if rejected is not None and as_aware_utc(rejected) + REJECTION_COOL_DOWN > now:
            raise ClaimError(texts.cooling_down(as_aware_utc(rejected) + REJECTION_COOL_DOWN))
        if await repo.claims_since(session, telegram_id, now - CLAIM_WINDOW) >= CLAIMS_PER_WINDOW:
            raise ClaimError(texts.too_many_claims(CLAIMS_PER_WINDOW, CLAIM_WINDOW.days))

    async def _dialog(self, telegram_id: int, step: str) -> Dialog:
        dialog = await self._dialogs.get(telegram_id)
        if dialog is None or dialog.flow != FLOW or dialog.step != step:
            raise ClaimError(texts.NOTHING_TO_REPORT)
        return dialog

    # --- the holder -------------------------------------------------------------------------

    async def start_statement(self, telegram_id: int) -> None:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            claim = await repo.open_against(session, me.id)
            if claim is None:
                raise ClaimError(texts.NO_REPORT_AGAINST_YOU)
            claim_id = claim.id
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_STATEMENT, {"claim": claim_id}))

    async def submit_statement(self, telegram_id: int, text: str) -> None:
        dialog = await self._dialogs.get(telegram_id)
        if dialog is None or dialog.flow != FLOW or dialog.step != STEP_STATEMENT:
            raise ClaimError(texts.NO_REPORT_AGAINST_YOU)
        statement = " ".join(text.split())
        if not statement or len(statement) > MAX_STATEMENT:
            raise ClaimError(texts.statement_empty(MAX_STATEMENT))
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            claim = await session.get(NiClaim, int(dialog.data["claim"]))
            if (
                claim is None
                or claim.holder_citizen_id != me.id
                or claim.status != NiClaimStatus.OPEN
            ):
                raise ClaimError(texts.NO_REPORT_AGAINST_YOU)
            claim.holder_statement = statement
            repo.log(session, claim.id, telegram_id, HOLDER, "holder_replied", now)
        await self._dialogs.clear(telegram_id)

    # --- reviewers --------------------------------------------------------------------------

    def is_reviewer(self, telegram_id: int) -> bool:
        return telegram_id in self._admins

    def _require_reviewer(self, telegram_id: int) -> None:
        if not self.is_reviewer(telegram_id):
            raise NotAllowed()

    async def next_in_queue(self, reviewer_id: int) -> ClaimQueueItem | None:
        self._require_reviewer(reviewer_id)
        async with self._db.transaction() as session:
            claim = await repo.oldest_open(session)
            if claim is None:
                return None
            holder = (
                None
                if claim.holder_citizen_id is None
                else await session.get(Citizen, claim.holder_citizen_id)
            )
            return ClaimQueueItem(
                id=claim.id,
                waiting=await repo.count_open(session),
                made=as_aware_utc(claim.created_at),
                claimant=claim.claimant_name,
                contact_kind=claim.contact_kind or "?",
                contact=self._decrypt_text(claim.contact_encrypted),
                has_document=claim.document_encrypted is not None,
                masked=None if holder is None else holder.ni_masked,
                holder=None if holder is None else holder.display_name,
                holder_since=None if holder is None else as_aware_utc(holder.registered_at),
                statement=claim.holder_statement,
            )

    async def document(self, reviewer_id: int, claim_id: int) -> ClaimDocument | None:
        """The claim's document, decrypted, for a reviewer only."""
        self._require_reviewer(reviewer_id)
        async with self._db.transaction() as session:
            claim = await session.get(NiClaim, claim_id)
            if claim is None or claim.document_encrypted is None:
                return None
            sealed, mime = claim.document_encrypted, claim.document_mime
        try:
            content = await asyncio.to_thread(self._fernet.decrypt, sealed)
        except InvalidToken:
            return None  # encrypted under a key since replaced: unreadable, say none
        return ClaimDocument(content, mime or "application/octet-stream")

    async def decide(self, claim_id: int, reviewer_id: int, move: bool, note: str) -> ClaimDecision:
        self._require_reviewer(reviewer_id)
        note_text = " ".join(note.split())
        if note_text in ("-", "—"):
            note_text = ""
        note_text = note_text[:MAX_NOTE]
        now = self._clock()
        claimant_dialog: Dialog | None = None
        async with self._db.transaction() as session:
            if not await repo.take_for_decision(session, claim_id, now):
                raise NotReviewable()
            claim = await session.get(NiClaim, claim_id)
            assert claim is not None
            holder = (
                None
                if claim.holder_citizen_id is None
                else await session.get(Citizen, claim.holder_citizen_id)
            )
            masked = RELEASED_MASK if holder is None else holder.ni_masked
            # Each is told in their own language (the reviewer's update is worded in theirs).
            claimant_language = await language_of(session, claim.claimant_telegram_id)
            holder_language = ENGLISH if holder is None else await citizen_language(session, holder)
            if move:
                claimant_account = await session.scalar(
                    select(Citizen.id).where(Citizen.telegram_id == claim.claimant_telegram_id)
                )
                if claimant_account is not None:
                    raise ClaimantRegistered()
                claim.status = NiClaimStatus.MOVED
                if holder is None:
                    # The account erased itself while the claim was open: what its erasure
                    # kept (adverse records, "promotions off") was the wrong person's, and
                    # must not land on the owner when they register.
                    await repo.forget_erasure_since(session, claim.ni_hash, claim.created_at)
                else:
                    # The old account keeps nothing tied to the number: its hash becomes one
                    # that no NI number can produce, and the NI check's state is reset.
                    holder.ni_hash = keyed_hash(self._key, RELEASED_PURPOSE, str(claim.id))
                    holder.ni_masked = RELEASED_MASK
                    holder.ni_check_failures = 0
                    holder.borrowing_locked_until = None
                    claimant_dialog = Dialog(
                        reg.FLOW, reg.STEP_DOB, {"ni_hash": claim.ni_hash, "ni_masked": masked}
                    )
                claimant_text = worded_in(
                    claimant_language,
                    texts.claimant_moved,
                    claim.id,
                    note_text or None,
                    holder_left=holder is not None,
                )
                holder_text = worded_in(
                    holder_language, texts.holder_moved, masked, note_text or None
                )
                claimant_action, holder_action = "number_moved_to_you", "number_moved_away"
            else:
                claim.status = NiClaimStatus.REJECTED
                claimant_text = worded_in(
                    claimant_language, texts.claimant_rejected, claim.id, note_text or None
                )
                holder_text = worded_in(
                    holder_language, texts.holder_cleared, masked, note_text or None
                )
                claimant_action, holder_action = "claim_rejected", "report_rejected"
            claim.decided_at = now
            claim.reviewer_telegram_id = reviewer_id
            claim.reviewer_note = note_text or None
            claim.contact_encrypted = None
            had_document = claim.document_encrypted is not None
            claim.document_encrypted = None
            claim.document_mime = None
            if had_document:
                claim.document_deleted_at = now
                repo.log(
                    session, claim.id, claim.claimant_telegram_id, CLAIMANT, "document_deleted", now
                )
            repo.log(session, claim.id, claim.claimant_telegram_id, CLAIMANT, claimant_action, now)
            if claim.holder_telegram_id is not None:
                repo.log(session, claim.id, claim.holder_telegram_id, HOLDER, holder_action, now)
            enqueue(
                session,
                chat_id=claim.claimant_chat_id,
                citizen_id=None,
                kind="ni_claim_outcome",
                priority=CLAIM_PRIORITY,
                text=claimant_text,
                now=now,
            )
            if holder is not None:
                enqueue_to_citizen(
                    session, holder, holder_text, "ni_claim_outcome", now, priority=CLAIM_PRIORITY
                )
            decision = ClaimDecision(claim.id, move)
        if claimant_dialog is not None:
            # After the commit: the number is free now, so their registration can complete
            # with it (the unique index is the guard if anything raced in between).
            await self._dialogs.set(claim.claimant_telegram_id, claimant_dialog)
        return decision

    # --- housekeeping and the person's own log ----------------------------------------------

    async def purge_documents(self) -> int:
        """Delete documents older than DOCUMENT_KEEP, reviewed or not; returns how many."""
        now = self._clock()
        async with self._db.transaction() as session:
            stale = await repo.stale_documents(session, now - DOCUMENT_KEEP)
            for claim in stale:
                claim.document_encrypted = None
                claim.document_mime = None
                claim.document_deleted_at = now
                repo.log(
                    session, claim.id, claim.claimant_telegram_id, CLAIMANT, "document_deleted", now
                )
            return len(stale)

    def _decrypt_text(self, token: bytes | None) -> str:
        if token is None:
            return "?"
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return "?"


def _reply_markup(claim_id: int) -> dict[str, Any]:
    """The holder's notice carries the button to reply (the outbox sends the markup as is)."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": texts.HOLDER_REPLY_BUTTON,
                    "callback_data": NI_CLAIM.encode("resp", claim_id),
                }
            ]
        ]
    }


async def log_for(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    """This person's steps in NI-number claims, for their data export."""
    return [
        {
            "claim": event.claim_id,
            "as": event.role,
            "what": texts.log_line(event.action),
            "at": as_aware_utc(event.at).isoformat(),
        }
        for event in await repo.events_for(session, telegram_id)
    ]
