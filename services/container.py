"""The use cases, wired once at start-up and handed to handlers, the API and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.clock import Clock, system_clock
from services.dialogs import DialogService
from services.friends import FriendsService
from services.invites import InviteService
from services.loans import LoanApplications, LoanService
from services.offers import OffersService
from services.registration import RegistrationService
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from services.sponsors import SponsorService
from services.updates import UpdateLedger
from storage.db import Database

UK_TIME = ZoneInfo("Europe/London")


@dataclass
class Services:
    db: Database
    clock: Clock
    dialogs: DialogService
    registration: RegistrationService
    scores: ScoreService
    friends: FriendsService
    invites: InviteService
    loans: LoanService
    loan_applications: LoanApplications
    updates: UpdateLedger
    scoring: ScoringPass
    sponsors: SponsorService
    offers: OffersService

    @classmethod
    def build(
        cls,
        db: Database,
        secret_key: bytes,
        clock: Clock = system_clock,
        timezone: ZoneInfo = UK_TIME,
    ) -> Services:
        dialogs = DialogService(db)
        invites = InviteService(db, secret_key, clock)
        loans = LoanService(db, clock, timezone)
        return cls(
            db=db,
            clock=clock,
            dialogs=dialogs,
            registration=RegistrationService(db, dialogs, secret_key, clock, invites),
            scores=ScoreService(db, timezone),
            friends=FriendsService(db, clock, timezone),
            invites=invites,
            loans=loans,
            loan_applications=LoanApplications(loans, dialogs),
            updates=UpdateLedger(db, clock),
            scoring=ScoringPass(db, clock, timezone),
            sponsors=SponsorService(db, secret_key, clock),
            offers=OffersService(db, clock),
        )
