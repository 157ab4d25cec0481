"""Where money for a loan goes, as pure arithmetic: instalment by instalment, in order.

A payment first covers what is still due on the instalment its invoice was for, then (money
beyond that: an overpayment) the loan's next unpaid instalments, each fully before the next;
what is left after the last instalment is to be refunded. Nothing is ever lost or counted
twice: the parts always add up to the amount paid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Owed:
    instalment_id: int
    due_pence: int
    """Still to pay on it now (its amount and fee, less credit already paid towards it)."""


@dataclass(frozen=True)
class Share:
    instalment_id: int
    pence: int
    completes: bool
    """This share pays the instalment off."""


@dataclass(frozen=True)
class Allocation:
    shares: tuple[Share, ...]
    refund_pence: int

    @property
    def applied_pence(self) -> int:
        return sum(share.pence for share in self.shares)


def allocate(amount_pence: int, owed: list[Owed]) -> Allocation:
    """Spread `amount_pence` over `owed` in order; the rest is the refund."""
    if amount_pence < 0:
        raise ValueError("a payment can't be negative")
    left = amount_pence
    shares: list[Share] = []
    for item in owed:
        if left <= 0:
            break
        if item.due_pence <= 0:
            continue
        pence = min(left, item.due_pence)
        shares.append(Share(item.instalment_id, pence, completes=pence == item.due_pence))
        left -= pence
    return Allocation(tuple(shares), left)
