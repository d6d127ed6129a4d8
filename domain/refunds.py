"""Refunds: the arithmetic of giving back part or all of a purchase, and the points that go with it.

Every share is computed cumulatively, from what the purchase has had refunded in all, never from the
refund alone: each refund takes `share(after) - share(before)`, so rounding never drifts and the
refund that completes a purchase takes back exactly what is left. With `refunded` the money refunded
so far (this refund included) out of the purchase's `amount`:

- points reversed in all = points_earned * refunded // amount (rounded down, like earning);
- an offer's budget gets back award.points * refunded // amount, and its money likewise; its use
  (the global use, the member's cap, the coupon) comes back with the refund that completes the
  purchase;
- the reversed points go back to whoever funded them (issuance, merchants, partners), in the
  proportion of the purchase's EARN entry, by `apportion`, which never takes back from a funder
  what an earlier refund gave it and returns each exactly what it paid once all is refunded.

Where the points come from, in order (`plan_reversal`): the purchase's still-pending points, then
what is left of the lots the purchase itself created, then the member's other available lots
(soonest expiry first); what the member no longer has becomes a debt, repaid first by later earnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from domain.errors import Validation
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting
from domain.lots import LotDraw, PointsLot, draw_from_lots
from domain.money import Money, format_money
from domain.offers import FundedCost


@dataclass(frozen=True, slots=True)
class RefundablePurchase:
    """A purchase as a refund sees it: what it earned, and what refunds took back so far."""

    id: int
    member_id: int
    merchant_id: int
    amount: Money
    points_earned: int
    points_pending: int  # not yet matured
    refunded_minor: int
    points_refunded: int
    coupon_id: int | None = None

    @property
    def left_minor(self) -> int:
        """The money not yet refunded."""
        return self.amount.amount_minor - self.refunded_minor


@dataclass(frozen=True, slots=True)
class Refund:
    """Money a merchant gave back on a purchase, and the points that went with it."""

    id: int
    member_id: int
    purchase_id: int
    merchant_id: int
    amount: Money
    points_reversed: int  # taken back from the member: pending, available and debt together
    debt_created: int  # of those, what the member no longer had and now owes
    points_returned: int  # the points the purchase was paid with, given back to the member
    reference: str | None
    created_at: datetime


def refund_amount(purchase: RefundablePurchase, requested: Money | None) -> int:
    """The money this refund gives back: as requested, or all that is left when none is named.
    Refuses (VALIDATION on amount) another currency, and more than is left, saying how much is."""
    currency = purchase.amount.currency
    if requested is not None and requested.currency.strip().upper() != currency:
        raise Validation(f"the purchase was paid in {currency}", ("amount", "currency"))
    left = purchase.left_minor
    if left <= 0:
        raise Validation("the purchase is already fully refunded", ("amount",))
    amount = left if requested is None else requested.amount_minor
    if amount <= 0:
        raise Validation("must be greater than zero", ("amount", "amountMinor"))
    if amount > left:
        raise Validation(
            f"only {format_money(Money(left, currency))} of the purchase is left to refund", ("amount",)
        )
    return amount


def cumulative_share(whole: int, refunded: int, amount: int) -> int:
    """What of `whole` goes with `refunded` out of `amount` (rounded down): `whole` once all is."""
    if not 0 <= refunded <= amount or amount <= 0:
        raise ValueError(f"refunded {refunded} out of {amount}")
    return whole * refunded // amount


@dataclass(frozen=True, slots=True)
class PointsToReverse:
    points: int  # taken back by this refund
    points_refunded: int  # taken back by all the purchase's refunds, this one included
    from_pending: int  # of `points`, those still pending: they never matured


def points_to_reverse(purchase: RefundablePurchase, amount_minor: int) -> PointsToReverse:
    """The points a refund of `amount_minor` takes back, pending ones first."""
    refunded = purchase.refunded_minor + amount_minor
    after = cumulative_share(purchase.points_earned, refunded, purchase.amount.amount_minor)
    points = after - purchase.points_refunded
    if points < 0:
        raise ValueError(f"purchase {purchase.id} has had more points refunded than its refunds give")
    return PointsToReverse(points, after, min(points, purchase.points_pending))


@dataclass(frozen=True, slots=True)
class Reversal:
    """Where the points a refund takes back come from."""

    from_pending: int
    draws: tuple[LotDraw, ...]  # from available: the purchase's own lots first, then the member's others
    debt: int  # what the member no longer has: it owes it

    @property
    def from_available(self) -> int:
        return sum(draw.points for draw in self.draws)

    @property
    def points(self) -> int:
        return self.from_pending + self.from_available + self.debt


def plan_reversal(
    points: int, pending: int, own_lots: Sequence[PointsLot], member_lots: Sequence[PointsLot]
) -> Reversal:
    """Take `points` back: from the purchase's `pending` points, then from the lots the purchase
    created (`own_lots`), then from the member's other lots (`member_lots` may include the own
    ones), soonest expiry first; the rest is owed. Available points never go below zero."""
    from_pending = min(points, pending)
    rest = points - from_pending
    own_ids = {lot.id for lot in own_lots}
    others = [lot for lot in member_lots if lot.id not in own_ids]
    draws: list[LotDraw] = []
    for lots in (own_lots, others):
        taken = min(rest, sum(max(lot.remaining, 0) for lot in lots))
        if taken:
            draws += draw_from_lots(lots, taken)
            rest -= taken
    return Reversal(from_pending, tuple(draws), rest)


def apportion(weights: Sequence[int], total: int) -> list[int]:
    """`total` split in proportion to `weights` (D'Hondt): every part gets at least its share
    rounded down, and what rounding leaves goes one by one to the part with the largest
    weight / (parts so far + 1), ties to the earlier. It is monotone: one more to split never takes
    anything from any part, so cumulative splits give non-negative steps; and splitting
    sum(weights) gives back exactly the weights."""
    whole = sum(weights)
    if any(w < 0 for w in weights) or not 0 <= total <= whole:
        raise ValueError(f"cannot split {total} by {list(weights)}")
    if whole == 0:
        return [0] * len(weights)
    parts = [w * total // whole for w in weights]
    for _ in range(total - sum(parts)):
        best = max(range(len(weights)), key=lambda i: (Fraction(weights[i], parts[i] + 1), -i))
        parts[best] += 1
    return parts


def funders_returns(
    funding: Sequence[tuple[Account, int]], refunded_before: int, refunded_after: int
) -> list[tuple[Account, int]]:
    """What each funder of a purchase's points gets back when the points reversed in all go from
    `refunded_before` to `refunded_after`: `funding` is what each paid into the EARN entry."""
    weights = [points for _, points in funding]
    before = apportion(weights, refunded_before)
    after = apportion(weights, refunded_after)
    return [(account, a - b) for (account, _), a, b in zip(funding, after, before, strict=True) if a - b]


def refund_description(merchant_name: str, amount: Money, debt: int) -> str:
    description = f"Refunded at {merchant_name}: {format_money(amount)}"
    return f"{description} ({debt} points owed)" if debt else description


def refund_entry(
    member_id: int,
    refund_id: int,
    reversal: Reversal,
    returns: Sequence[tuple[Account, int]],
    description: str,
) -> JournalEntry:
    """The REFUND entry: the points leave the member's pending and available accounts, and what it
    no longer has is booked as owed (a debit of MEMBER_DEBT); they go back to their funders."""
    member = (
        (AccountKind.MEMBER_PENDING, reversal.from_pending),
        (AccountKind.MEMBER_AVAILABLE, reversal.from_available),
        (AccountKind.MEMBER_DEBT, reversal.debt),
    )
    return JournalEntry(
        kind=EntryKind.REFUND,
        member_id=member_id,
        origin_type=OriginType.REFUND,
        origin_id=refund_id,
        description=description,
        postings=(
            *(Posting(Account(kind, member_id), -points) for kind, points in member if points),
            *(Posting(account, points) for account, points in returns if points),
        ),
    )


@dataclass(frozen=True, slots=True)
class AwardUsage:
    """What one offer gave one purchase, and what refunds gave back to the offer so far."""

    id: int
    offer_id: int
    points: int
    money_minor: int  # discount and cashback
    refunded_points: int
    refunded_money_minor: int
    use_returned: bool
    cap_period_start: datetime | None  # the member cap period the award was counted in, if capped


@dataclass(frozen=True, slots=True)
class GiveBack:
    """What a refund gives back to an offer for one award."""

    award_id: int
    offer_id: int
    points: int
    money_minor: int
    use: bool  # the award's use: the offer's uses, the member's cap
    cap_period_start: datetime | None


def give_back(award: AwardUsage, amount_minor: int, refunded_minor: int) -> GiveBack | None:
    """The budget an award gives back when the purchase (of `amount_minor`) has had `refunded_minor`
    refunded in all, in proportion; its use once the purchase is fully refunded. None: nothing."""
    points = cumulative_share(award.points, refunded_minor, amount_minor) - award.refunded_points
    money = cumulative_share(award.money_minor, refunded_minor, amount_minor) - award.refunded_money_minor
    use = refunded_minor == amount_minor and not award.use_returned
    if not (points or money or use):
        return None
    return GiveBack(award.id, award.offer_id, points, money, use, award.cap_period_start)


@dataclass(frozen=True, slots=True)
class AwardNet:
    """One award as it stands after its purchase's refunds: what it still gives, and who pays it."""

    discount_minor: int
    cashback_minor: int
    funding: tuple[FundedCost, ...]


def award_net(
    discount_minor: int,
    cashback_minor: int,
    funding: Sequence[FundedCost],
    refunded_points: int,
    refunded_money_minor: int,
) -> AwardNet:
    """An award less what refunds gave back to its offer's budget (`give_back`): the money given back
    split between discount and cashback, and points and money between the funders, by `apportion`,
    so the parts add up to exactly what the offer's usage counters still hold for the award."""
    discount_back, cashback_back = apportion([discount_minor, cashback_minor], refunded_money_minor)
    points_back = apportion([f.points for f in funding], refunded_points)
    money_back = apportion([f.money_minor for f in funding], refunded_money_minor)
    return AwardNet(
        discount_minor - discount_back,
        cashback_minor - cashback_back,
        tuple(
            FundedCost(f.kind, f.funder_id, f.points - p, f.money_minor - m)
            for f, p, m in zip(funding, points_back, money_back, strict=True)
        ),
    )
