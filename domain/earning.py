"""How a purchase earns points: the checks and arithmetic that postPurchase and the settlement
import share, so both give the same answer for the same purchase."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain import validation
from domain.errors import Validation
from domain.ledger import Account, AccountKind, EntryKind, JournalEntry, OriginType, Posting, transfer
from domain.lots import NewLot
from domain.merchants import Channel, Merchant, MerchantChannel
from domain.money import MAX_INT, Money, points_for_spend
from domain.offers import FundedCost, FunderKind, FundingShare, split_cost
from domain.programme import Programme

# Clocks drift between a POS and us; a purchase further in the future than this is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
# How far back a purchase may be dated: a settlement file or an offline till posts late, but not
# months late; older purchases would earn on offers, tiers and windows long closed.
MAX_BACKDATING = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Earning:
    amount: Money
    channel: Channel
    points: int


def purchase_time(occurred_at: datetime | None, now: datetime, field: str = "occurredAt") -> datetime:
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise Validation("needs a time zone offset", (field,))
    if occurred_at > now + FUTURE_TOLERANCE:
        raise Validation("a purchase cannot happen in the future", (field,))
    if occurred_at < now - MAX_BACKDATING:
        raise Validation(f"a purchase may be dated at most {MAX_BACKDATING.days} days back", (field,))
    return occurred_at


def earning(
    programme: Programme,
    merchant: Merchant,
    amount: Money,
    channel: Channel | None,
    multiplier: Decimal = Decimal(1),
) -> Earning:
    """What the purchase earns at this merchant, at the member's tier `multiplier` (base rate x
    multiplier, rounded down once); raises a typed error when it cannot be posted."""
    validation.positive_int(amount.amount_minor, ("amount", "amountMinor"))
    amount = validation.money(amount, ("amount",), programme.currencies)
    channel = channel or (Channel.ONLINE if merchant.channel is MerchantChannel.ONLINE else Channel.OFFLINE)
    if not merchant.accepts(channel):
        raise Validation(f"this merchant does not sell {channel.value.lower()}", ("channel",))
    points = points_for_spend(amount, earn_rate(programme, merchant, amount.currency, multiplier))
    if points > MAX_INT:
        raise Validation("this amount earns more points than one purchase may", ("amount", "amountMinor"))
    return Earning(amount, channel, points)


def earn_rate(programme: Programme, merchant: Merchant, currency: str, multiplier: Decimal) -> Decimal:
    """Points per currency unit before offers: the base rate, times the member's tier multiplier."""
    return programme.base_rate(currency, merchant) * multiplier


def earn_entry(
    member_id: int,
    purchase_id: int,
    points: int,
    merchant: Merchant,
    funded: Sequence[FundedCost] = (),
    pending_until: datetime | None = None,
    *,
    held: bool = False,
) -> JournalEntry:
    """`points` to the member (to its pending account until the return window ends; to its review
    balance when a risk rule `held` them): offer points from each funder's account, the rest from
    issuance."""
    description = f"Earned at {merchant.name}"
    destination = AccountKind.MEMBER_AVAILABLE
    if held:
        description += ", held for risk review"
        destination = AccountKind.MEMBER_REVIEW
    elif pending_until is not None:
        description += f", pending until {pending_until:%Y-%m-%d}"
        destination = AccountKind.MEMBER_PENDING
    return _funded_entry(
        member_id, OriginType.PURCHASE, purchase_id, points, funded, description, destination
    )


def mature_entry(member_id: int, purchase_id: int, points: int) -> JournalEntry:
    """A purchase's pending points become available: its return window has passed."""
    return transfer(
        kind=EntryKind.MATURE,
        member_id=member_id,
        origin_type=OriginType.PURCHASE,
        origin_id=purchase_id,
        source=Account(AccountKind.MEMBER_PENDING, member_id),
        destination=Account.available(member_id),
        points=points,
        description="Pending points now available (return window over)",
    )


def bonus_entry(
    member_id: int, award_id: int, points: int, funding: Sequence[FundingShare], description: str
) -> JournalEntry:
    """A sign-up or referral bonus: `points` to the member from the offer's funders."""
    return _funded_entry(
        member_id, OriginType.AWARD, award_id, points, split_cost(funding, points, 0), description
    )


def _funded_entry(
    member_id: int,
    origin_type: OriginType,
    origin_id: int,
    points: int,
    funded: Sequence[FundedCost],
    description: str,
    destination: AccountKind = AccountKind.MEMBER_AVAILABLE,
) -> JournalEntry:
    by_account: dict[Account, int] = defaultdict(int)
    for cost in funded:
        if cost.points:
            by_account[_FUNDER_ACCOUNT[cost.kind](cost.funder_id)] += cost.points
    by_account[Account(AccountKind.ISSUANCE)] += points - sum(by_account.values())
    return JournalEntry(
        kind=EntryKind.EARN,
        member_id=member_id,
        origin_type=origin_type,
        origin_id=origin_id,
        description=description,
        postings=(
            *(Posting(account, -amount) for account, amount in by_account.items() if amount),
            Posting(Account(destination, member_id), points),
        ),
    )


_FUNDER_ACCOUNT: dict[FunderKind, Callable[[int | None], Account]] = {
    FunderKind.PROGRAMME: lambda _: Account(AccountKind.ISSUANCE),
    FunderKind.MERCHANT: lambda funder_id: Account(AccountKind.MERCHANT_FUNDING, funder_id),
    FunderKind.PARTNER: lambda funder_id: Account(AccountKind.PARTNER_FUNDING, funder_id),
}


def earn_lot(member_id: int, points: int, now: datetime, programme: Programme) -> NewLot:
    return NewLot(member_id, points, now, programme.expiry_for(now))
