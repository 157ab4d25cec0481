"""SQLAlchemy 2 models. Every durable piece of state lives here, none only in memory.

Personal data is kept to what the product needs: the NI number only as a keyed HMAC (for "one
number, one account") and a masked form for display; the postcode only as its district.

One module per aggregate (base, citizens, messaging, money, sponsors, partners); import the
models from here. Importing this package registers every table on ``Base.metadata``.
"""

from sqlalchemy import CheckConstraint

from storage.models.base import (
    NAMING_CONVENTION,
    Base,
)
from storage.models.citizens import (
    Citizen,
    DialogState,
    FriendRequest,
    Friendship,
    InviteCode,
    LanguageChoice,
    PaymentEvent,
    ProcessedUpdate,
    Referral,
    Score,
    ScoreHistory,
    ScoringRun,
)
from storage.models.claims import (
    NiClaim,
    NiClaimEvent,
)
from storage.models.growth import (
    ContestEntry,
    GrowthCampaign,
    GrowthMessage,
    ReferralContest,
)
from storage.models.messaging import (
    OutboxMessage,
    SendBudgetRow,
    SendSeatRow,
)
from storage.models.money import (
    Instalment,
    Loan,
    LoanPayment,
    Overpayment,
    PaymentPlanRequest,
    Reminder,
)
from storage.models.partners import (
    AccessRequest,
    BoostInvite,
    BoostLink,
    BoostPartner,
    BoostReview,
    Dispute,
    Erasure,
    EventBatch,
    HeldPaymentEvent,
    Partner,
    PartnerBlock,
    RetainedRecord,
    ScoreAccess,
    ShareCode,
)
from storage.models.sponsors import (
    ApiRateCount,
    Operator,
    Promotion,
    Redemption,
    Sponsor,
    Voucher,
)
from storage.statuses import CHECKED_COLUMNS, check_sql

# Every status/kind/outcome column accepts only its enum's values (storage/statuses.py); the
# constraints are created by migration 0011 under the same names.
for (_table, _column), _values in CHECKED_COLUMNS.items():
    Base.metadata.tables[_table].append_constraint(
        CheckConstraint(check_sql(_column, _values), name=f"{_column}_values")
    )

__all__ = [
    "NAMING_CONVENTION",
    "AccessRequest",
    "ApiRateCount",
    "Base",
    "BoostInvite",
    "BoostLink",
    "BoostPartner",
    "BoostReview",
    "Citizen",
    "ContestEntry",
    "DialogState",
    "Dispute",
    "Erasure",
    "EventBatch",
    "FriendRequest",
    "Friendship",
    "GrowthCampaign",
    "GrowthMessage",
    "HeldPaymentEvent",
    "Instalment",
    "InviteCode",
    "LanguageChoice",
    "Loan",
    "LoanPayment",
    "NiClaim",
    "NiClaimEvent",
    "Operator",
    "OutboxMessage",
    "Overpayment",
    "Partner",
    "PartnerBlock",
    "PaymentEvent",
    "PaymentPlanRequest",
    "ProcessedUpdate",
    "Promotion",
    "Redemption",
    "Referral",
    "ReferralContest",
    "Reminder",
    "RetainedRecord",
    "Score",
    "ScoreAccess",
    "ScoreHistory",
    "ScoringRun",
    "SendBudgetRow",
    "SendSeatRow",
    "ShareCode",
    "Sponsor",
    "Voucher",
]
