"""The /loan conversation (amount, term, summary, confirm).

Its state is a dialog row, never process memory, and every step re-reads that row, so a stale
or forged button changes nothing and a restart carries on at the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

from scoring.whatif import LoanPreview
from services.confirmations import check_prompt, new_prompt
from services.dialogs import Dialog, DialogService
from services.errors import ConfirmationExpired
from services.loan_terms import (
    MIN_LOAN_PENCE,
    TERM_CHOICES,
    LoanQuote,
    parse_amount,
    quote,
)
from services.loans.identity import BorrowingLocked, IdentityCheck
from services.loans.model import (
    Eligibility,
    LoanError,
    LoanView,
    StaleApplication,
    _over_limit,
    new_application_key,
)
from services.loans.repayments import (
    LoanService,
)

if TYPE_CHECKING:
    from services.whatif import WhatIfService

# ------------------------------------------------------------------------------------------------
# The /loan conversation

FLOW = "loan"
STEP_AMOUNT = "amount"
STEP_TERM = "term"
STEP_CONFIRM = "confirm"
STEP_VERIFY = "verify"
"""After Confirm: waiting for the NI number (services.loans.identity)."""
MAX_REPLACED = 5


@dataclass(frozen=True)
class Application:
    """A quote as shown in the summary, with the key its Confirm button carries."""

    quote: LoanQuote
    key: str
    preview: LoanPreview | None = None
    """What the loan would do to the score (services.whatif); None where nothing previews."""


@dataclass(frozen=True)
class IdentityRequested:
    """Confirm was accepted; the NI number is asked for next (`again`: already asked)."""

    again: bool


class QuoteExpired(LoanError):
    """Confirm pressed on a later day than the summary was made (the dates have moved), or
    more than CONFIRM_WINDOW after it was shown: the citizen sees (and confirms) a fresh
    summary rather than one they may no longer have in mind."""

    def __init__(self, fresh: Application, *, new_day: bool) -> None:
        super().__init__("the quote's dates have moved" if new_day else "the quote timed out")
        self.fresh = fresh
        self.new_day = new_day


class SummaryReplaced(StaleApplication, ConfirmationExpired):
    """Confirm from a summary that a newer one has replaced: only the latest confirms."""


class NoLongerEligible(LoanError):
    """Mid-application, their band or what they owe changed so that they can't borrow now."""

    def __init__(self, eligibility: Eligibility) -> None:
        super().__init__(eligibility.refusal)
        self.eligibility = eligibility


class LoanApplications:
    """Amount, then term, then a summary to confirm or cancel, one dialog row per person.

    The row holds the amount, the term, the quote's day and the application key; the Confirm
    button carries the key too, so a button from an older summary (or someone else's) never
    matches. A Confirm whose application already made a loan returns that loan: a double tap
    shows the same confirmation and never a second loan (LoanService.confirm guarantees the
    latter even if both taps race past the dialog check).
    """

    def __init__(
        self,
        loans: LoanService,
        dialogs: DialogService,
        identity: IdentityCheck,
        previews: WhatIfService | None = None,
    ) -> None:
        self._loans = loans
        self._dialogs = dialogs
        self._identity = identity
        self._previews = previews

    async def begin(self, telegram_id: int) -> Eligibility:
        """/loan: where they stand; the conversation starts only if they can borrow."""
        eligibility = await self._loans.eligibility(telegram_id)
        if eligibility.can_borrow:
            carried = _replaced(await self._dialogs.get(telegram_id))
            await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_AMOUNT, carried))
        else:
            await self._leave(telegram_id)
        return eligibility

    async def choose_amount(self, telegram_id: int, principal_pence: int) -> int:
        """An amount button: only while choosing an amount, and only an amount offered now."""
        dialog = await self._dialogs.get(telegram_id)
        if _at(dialog, STEP_TERM) and dialog.data["amount"] == principal_pence:
            return principal_pence  # a double tap: already chosen, nothing changes
        at_amount = await self._dialog(telegram_id, STEP_AMOUNT)
        eligibility = await self._still_eligible(telegram_id)
        if principal_pence not in eligibility.amount_choices:
            raise StaleApplication()  # drawn when more was available (or forged)
        data = {**_replaced(at_amount), "amount": principal_pence}
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_TERM, data))
        return principal_pence

    async def type_amount(self, telegram_id: int, text: str) -> int:
        """A typed amount. InvalidAmount or OverLimit say what to change; the conversation stays
        at the amount step so they can simply try again."""
        at_amount = await self._dialog(telegram_id, STEP_AMOUNT)
        eligibility = await self._still_eligible(telegram_id)
        pence = parse_amount(
            text, minimum_pence=MIN_LOAN_PENCE, maximum_pence=eligibility.limit_pence
        )
        if pence > eligibility.available_pence:
            raise _over_limit(eligibility)
        data = {**_replaced(at_amount), "amount": pence}
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_TERM, data))
        return pence

    async def chosen_amount(self, telegram_id: int) -> int:
        """The amount of an application at the term step (to ask for the term again)."""
        dialog = await self._dialog(telegram_id, STEP_TERM)
        return int(dialog.data["amount"])

    def monthly_payments(self, principal_pence: int) -> dict[int, int]:
        """Each term's monthly instalment for this amount, to show beside the term buttons."""
        return {
            term: self._loans.quote(principal_pence, term).instalments[0].amount_pence
            for term in TERM_CHOICES
        }

    async def choose_term(self, telegram_id: int, term_months: int) -> Application:
        if term_months not in TERM_CHOICES:
            raise StaleApplication()
        current = await self._dialogs.get(telegram_id)
        if _at(current, STEP_CONFIRM) and current.data["term"] == term_months:
            return await self.pending(telegram_id)  # a double tap: the same summary and key
        dialog = await self._dialog(telegram_id, STEP_TERM)
        return await self._quote(telegram_id, int(dialog.data["amount"]), term_months)

    async def pending(self, telegram_id: int) -> Application:
        """The summary waiting for Confirm (to show it again)."""
        dialog = await self._dialog(telegram_id, STEP_CONFIRM)
        loan_quote = self._loans.quote(int(dialog.data["amount"]), int(dialog.data["term"]))
        key = str(dialog.data["key"])
        return Application(loan_quote, key, await self._preview(telegram_id, loan_quote))

    async def confirm(self, telegram_id: int, application_key: str) -> LoanView | IdentityRequested:
        """Confirm on the summary: the summary checked (latest, in time, today's dates), then
        the NI number is asked for (`verify` makes the loan). A Confirm whose application
        already made a loan returns that loan."""
        dialog = await self._dialogs.get(telegram_id)
        if _at(dialog, STEP_VERIFY) and dialog.data.get("key") == application_key:
            return IdentityRequested(again=True)  # a double tap: still waiting for the number
        if _is_summary(dialog, application_key):
            await self._check_summary(telegram_id, dialog, application_key)
            await self._still_eligible(telegram_id)
            asked = {**dialog.data, **new_prompt(self._loans.now()), "token": application_key}
            await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_VERIFY, asked))
            return IdentityRequested(again=False)
        made = await self._loans.loan_for_application(telegram_id, application_key)
        if made is not None:
            return made  # a double tap on a confirmed summary: the same loan, never a second
        if _at(dialog, STEP_CONFIRM) and application_key in dialog.data.get("replaced", ()):
            raise SummaryReplaced()
        raise StaleApplication()

    async def verify(self, telegram_id: int, typed: str) -> LoanView:
        """The NI number typed after Confirm: right, and the loan is made; wrong, WrongIdentity
        (the step stays open) or, the third time, BorrowingLocked (the application ends)."""
        dialog = await self._dialog(telegram_id, STEP_VERIFY)
        key = str(dialog.data["key"])
        try:
            check_prompt(dialog.data, key, self._loans.now())
        except ConfirmationExpired:
            await self._leave(telegram_id)
            raise
        try:
            await self._identity.check(telegram_id, typed)
        except BorrowingLocked:
            await self._leave(telegram_id)
            raise
        amount, term = int(dialog.data["amount"]), int(dialog.data["term"])
        if dialog.data.get("quoted_on") != self._loans.today().isoformat():
            raise QuoteExpired(await self._quote(telegram_id, amount, term), new_day=True)
        try:
            loan = await self._loans.confirm(telegram_id, amount, term, key)
        except LoanError:
            # Over the limit by now (a score drop, another loan): this application is over.
            await self._leave(telegram_id)
            raise
        await self._leave(telegram_id)
        return loan

    async def _check_summary(self, telegram_id: int, dialog: Dialog, key: str) -> None:
        """The summary's dates are today's and it was shown within the window; else it is
        shown again, fresh (QuoteExpired)."""
        amount, term = int(dialog.data["amount"]), int(dialog.data["term"])
        if dialog.data.get("quoted_on") != self._loans.today().isoformat():
            raise QuoteExpired(await self._quote(telegram_id, amount, term), new_day=True)
        try:
            check_prompt(dialog.data, key, self._loans.now())
        except ConfirmationExpired:
            raise QuoteExpired(
                await self._quote(telegram_id, amount, term), new_day=False
            ) from None

    async def cancel(self, telegram_id: int, application_key: str) -> None:
        """Cancel on the summary: only that summary's own, still-open application (also while
        the NI number is being asked for)."""
        dialog = await self._dialogs.get(telegram_id)
        verifying = _at(dialog, STEP_VERIFY) and dialog.data.get("key") == application_key
        if not (_is_summary(dialog, application_key) or verifying):
            raise StaleApplication()
        await self._dialogs.clear(telegram_id)

    async def _quote(self, telegram_id: int, amount: int, term: int) -> Application:
        today = self._loans.today()  # once, so the dates shown and the day recorded agree
        loan_quote = quote(amount, term, today)
        key = new_application_key()
        # The key is the prompt's token: the Confirm button carries it (see confirmations).
        data = {
            **_replaced(await self._dialogs.get(telegram_id)),
            "amount": amount,
            "term": term,
            "key": key,
            "quoted_on": today.isoformat(),
            **new_prompt(self._loans.now()),
            "token": key,
        }
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_CONFIRM, data))
        return Application(loan_quote, key, await self._preview(telegram_id, loan_quote))

    async def _preview(self, telegram_id: int, loan_quote: LoanQuote) -> LoanPreview | None:
        if self._previews is None:
            return None
        return await self._previews.loan_preview(telegram_id, loan_quote)

    async def _dialog(self, telegram_id: int, step: str) -> Dialog:
        dialog = await self._dialogs.get(telegram_id)
        if not _at(dialog, step):
            raise StaleApplication()
        return dialog

    async def _still_eligible(self, telegram_id: int) -> Eligibility:
        eligibility = await self._loans.eligibility(telegram_id)
        if not eligibility.can_borrow:
            await self._leave(telegram_id)
            raise NoLongerEligible(eligibility)
        return eligibility

    async def _leave(self, telegram_id: int) -> None:
        """End a loan conversation, leaving any other conversation alone."""
        dialog = await self._dialogs.get(telegram_id)
        if dialog is not None and dialog.flow == FLOW:
            await self._dialogs.clear(telegram_id)


def _replaced(dialog: Dialog | None) -> dict[str, list[str]]:
    """The keys of the summaries a new step replaces (this loan conversation's, or the last
    one's), so an older summary's Confirm says "expired" rather than "unknown"."""
    if dialog is None or dialog.flow != FLOW:
        return {}
    keys = [str(k) for k in dialog.data.get("replaced", ())]
    if "key" in dialog.data:
        keys.append(str(dialog.data["key"]))
    return {"replaced": keys[-MAX_REPLACED:]} if keys else {}


def _at(dialog: Dialog | None, step: str) -> TypeGuard[Dialog]:
    return dialog is not None and dialog.flow == FLOW and dialog.step == step


def _is_summary(dialog: Dialog | None, application_key: str) -> TypeGuard[Dialog]:
    return _at(dialog, STEP_CONFIRM) and dialog.data.get("key") == application_key
