"""NI-number claims: "someone registered with my NI number".

A person told at registration that their number is already in use can report it. The claim
holds only the number's keyed hash (never the number), an encrypted way to contact the
claimant and, optionally, an encrypted document photo (deleted once reviewed, or by
housekeeping after a limit). While a claim is open the account holding that number is frozen
for borrowing and sharing. At most one open claim per NI hash (a partial unique index).

Every step is logged per person (by Telegram id, since a claimant has no account yet) in
``ni_claim_events``, which /mydata exports.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

OPEN_ONLY = text("status = 'open'")


class NiClaim(Base):
    __tablename__ = "ni_claims"
    __table_args__ = (
        Index(
            "uq_ni_claims_open_ni_hash",
            "ni_hash",
            unique=True,
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ni_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open, moved, rejected
    claimant_telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    claimant_chat_id: Mapped[int] = mapped_column(BigInteger)
    claimant_name: Mapped[str] = mapped_column(String(64))
    holder_citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True, default=None
    )
    """The account that held the number when the claim was made (NULL once it is erased)."""
    holder_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """Kept so the holder's log entries can still be written after the account loses the
    number (and for /mydata of that Telegram user)."""
    contact_kind: Mapped[str | None] = mapped_column(String(8), default=None)  # email, phone
    contact_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    document_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    document_mime: Mapped[str | None] = mapped_column(String(64), default=None)
    holder_statement: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewer_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reviewer_note: Mapped[str | None] = mapped_column(String(500), default=None)
    document_deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class NiClaimEvent(Base):
    """One step of a claim, logged for the person it concerns (claimant or holder)."""

    __tablename__ = "ni_claim_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("ni_claims.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    role: Mapped[str] = mapped_column(String(8))  # claimant, holder
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()
