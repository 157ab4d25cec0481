"""The use cases, wired once at start-up and handed to handlers, the API and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.boost import BoostService
from services.clock import Clock, system_clock
from services.confirmations import ErasureConfirmations
from services.contests import ContestService
from services.data_rights import DataRightsService
from services.dialogs import DialogService
from services.disputes import DisputeService
from services.events import EventService
from services.friends import FriendsService
from services.growth_outreach import GrowthOutreach
from services.invites import InviteService
from services.languages import LanguageService
from services.loans import LoanApplications, LoanService
from services.loans.identity import IdentityCheck
from services.ni_claims import NiClaimService
from services.offers import OffersService
from services.open_data import OpenDataService
from services.partners import PartnerService
from services.payment_plans import PaymentPlanService
from services.promotions import PromotionService
from services.registration import RegistrationService
from services.score_history import ScoreHistoryService
from services.scores import ScoreService
from services.scoring_pass import ScoringPass
from services.sharing import SharingService
from services.sponsors import SponsorService
from services.updates import UpdateLedger
from services.whatif import WhatIfService
from storage.db import Database

UK_TIME = ZoneInfo("Europe/London")


@dataclass
class Services:
    db: Database
    clock: Clock
    dialogs: DialogService
    registration: RegistrationService
    scores: ScoreService
    score_history: ScoreHistoryService
    friends: FriendsService
    invites: InviteService
    loans: LoanService
    loan_applications: LoanApplications
    erasure: ErasureConfirmations
    updates: UpdateLedger
    scoring: ScoringPass
    sponsors: SponsorService
    offers: OffersService
    promotions: PromotionService
    partners: PartnerService
    events: EventService
    sharing: SharingService
    open_data: OpenDataService
    data_rights: DataRightsService
    disputes: DisputeService
    whatif: WhatIfService
    payment_plans: PaymentPlanService
    ni_claims: NiClaimService
    growth: GrowthOutreach
    contests: ContestService
    boost: BoostService
    languages: LanguageService

    @classmethod
    def build(
        cls,
        db: Database,
        secret_key: bytes,
        clock: Clock = system_clock,
        timezone: ZoneInfo = UK_TIME,
        admin_ids: frozenset[int] = frozenset(),
        document_key: bytes | None = None,
        public_url: str = "http://127.0.0.1:8080",
    ) -> Services:
        dialogs = DialogService(db)
        invites = InviteService(db, secret_key, clock)
        loans = LoanService(db, clock, timezone)
        whatif = WhatIfService(db, clock, timezone)
        return cls(
            db=db,
            clock=clock,
            dialogs=dialogs,
            registration=RegistrationService(db, dialogs, secret_key, clock, invites),
            scores=ScoreService(db, timezone, clock=clock),
            score_history=ScoreHistoryService(db, clock),
            friends=FriendsService(db, clock, timezone),
            invites=invites,
            loans=loans,
            loan_applications=LoanApplications(
                loans, dialogs, IdentityCheck(db, secret_key, clock), whatif
            ),
            erasure=ErasureConfirmations(dialogs, clock),
            updates=UpdateLedger(db, clock),
            scoring=ScoringPass(db, clock, timezone),
            sponsors=SponsorService(db, secret_key, clock),
            offers=OffersService(db, clock),
            promotions=PromotionService(db, clock, timezone),
            partners=PartnerService(db, secret_key, clock),
            events=EventService(db, secret_key, clock),
            sharing=SharingService(db, secret_key, clock, timezone),
            open_data=OpenDataService(db, clock),
            data_rights=DataRightsService(db, clock),
            disputes=DisputeService(db, clock, admin_ids),
            whatif=whatif,
            payment_plans=PaymentPlanService(db, clock, timezone, admin_ids),
            ni_claims=NiClaimService(db, dialogs, secret_key, clock, admin_ids, document_key),
            growth=GrowthOutreach(db, clock, timezone, invites),
            contests=ContestService(db, clock, timezone),
            boost=BoostService(db, secret_key, clock, timezone, public_url),
            languages=LanguageService(db),
        )
