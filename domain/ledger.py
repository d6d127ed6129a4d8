"""The double-entry points ledger.

Every change of points is a journal entry whose postings sum to zero: points move from one
account to another. Member accounts keep a stored balance (changed in the same transaction as the
entry); system accounts (issuance, redemption, expiry, adjustment, funding) store none, their
totals are derived from the journal, so no single hot row serializes all traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, InsufficientPoints, LimitReached
from domain.lots import NewLot
from domain.members import Balance
from domain.money import MAX_INT

# Stored balances and lifetime counters are read through GraphQL Int: they must stay within 32 bits,
# checked before commit (an overflow found while serializing would come after the points moved).
MAX_BALANCE = MAX_INT


class AccountKind(StrEnum):
    MEMBER_AVAILABLE = "MEMBER_AVAILABLE"
    MEMBER_PENDING = "MEMBER_PENDING"
    MEMBER_HELD = "MEMBER_HELD"
    # What a member owes after a refund took back points it had spent. Its journal balance is <= 0;
    # the stored `debt` column is the points owed (its negation), repaid first by later earnings.
    MEMBER_DEBT = "MEMBER_DEBT"
    # Earned points a risk rule held: they cannot be spent until an admin approves them.
    MEMBER_REVIEW = "MEMBER_REVIEW"
    ISSUANCE = "ISSUANCE"  # the programme issues points from here on earn
    REDEMPTION = "REDEMPTION"  # spent points land here
    EXPIRY = "EXPIRY"
    ADJUSTMENT = "ADJUSTMENT"  # the counter-account of admin adjustments
    PARTNER_FUNDING = "PARTNER_FUNDING"
    MERCHANT_FUNDING = "MERCHANT_FUNDING"

    @property
    def is_member(self) -> bool:
        return self in MEMBER_ACCOUNT_KINDS


MEMBER_ACCOUNT_KINDS = frozenset(
    {
        AccountKind.MEMBER_AVAILABLE,
        AccountKind.MEMBER_PENDING,
        AccountKind.MEMBER_HELD,
        AccountKind.MEMBER_DEBT,
        AccountKind.MEMBER_REVIEW,
    }
)


@dataclass(frozen=True, slots=True)
class Account:
    kind: AccountKind
    owner_id: int | None = None  # the member, partner or merchant; None for programme accounts

    @staticmethod
    def available(member_id: int) -> Account:
        return Account(AccountKind.MEMBER_AVAILABLE, member_id)


class EntryKind(StrEnum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    ADJUST = "ADJUST"
    EXPIRE = "EXPIRE"
    TRANSFER = "TRANSFER"
    MATURE = "MATURE"  # pending points become available
    REFUND = "REFUND"  # a refunded purchase's points go back to who issued them
    RETURN = "RETURN"  # spent points come back: a cancelled reward, a refunded points-paid purchase
    HOLD = "HOLD"  # available points held for a merchant's POS until capture or void
    RELEASE = "RELEASE"  # held points back to available: voided, expired, or the rest of a capture
    APPROVE = "APPROVE"  # points under risk review become available: an admin approved them
    REJECT = "REJECT"  # points under risk review go back to who issued them: an admin rejected them


# What the member did itself: it wakes a dormant member. Jobs (expiry, maturation, hold release)
# and what others do to the member do not.
ACTIVITY_KINDS = frozenset({EntryKind.EARN, EntryKind.REDEEM, EntryKind.HOLD, EntryKind.TRANSFER})


class OriginType(StrEnum):
    PURCHASE = "PURCHASE"
    REDEMPTION = "REDEMPTION"
    ADJUSTMENT = "ADJUSTMENT"
    AWARD = "AWARD"  # a bonus not tied to a purchase of the member: sign-up, referral
    EXPIRATION = "EXPIRATION"  # points whose lots reached their expiry date
    TRANSFER = "TRANSFER"  # points a member gave another
    REFUND = "REFUND"  # a merchant's refund of a purchase


@dataclass(frozen=True, slots=True)
class Posting:
    account: Account
    amount: int  # positive credits the account, negative debits it


class UnbalancedEntry(ValueError):
    """A programming error, never user input: an entry must always balance."""


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """What one entry does to one member's stored balance row."""

    available: int = 0
    pending: int = 0
    held: int = 0
    earned: int = 0  # lifetime earned
    redeemed: int = 0  # lifetime redeemed
    debt: int = 0  # points owed
    review: int = 0  # points under risk review


@dataclass(frozen=True, slots=True)
class JournalEntry:
    kind: EntryKind
    member_id: int
    origin_type: OriginType
    origin_id: int
    description: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise UnbalancedEntry("an entry needs at least two postings")
        if any(p.amount == 0 for p in self.postings):
            raise UnbalancedEntry("a posting must move points")
        if sum(p.amount for p in self.postings) != 0:
            raise UnbalancedEntry(f"postings sum to {sum(p.amount for p in self.postings)}, not 0")

    def member_ids(self) -> list[int]:
        """The members whose accounts this entry touches, in id order: the global lock order."""
        return sorted({p.account.owner_id for p in self.postings if p.account.kind.is_member})  # type: ignore[misc]  # member accounts have an owner id

    def member_delta(self, member_id: int, kind: AccountKind) -> int:
        return sum(
            p.amount for p in self.postings if p.account.kind is kind and p.account.owner_id == member_id
        )

    def balance_changes(self) -> dict[int, BalanceChange]:
        """Per member touched, in id order, the change to its balance row."""
        return {
            member_id: BalanceChange(
                self.member_delta(member_id, AccountKind.MEMBER_AVAILABLE),
                self.member_delta(member_id, AccountKind.MEMBER_PENDING),
                self.member_delta(member_id, AccountKind.MEMBER_HELD),
                *self.lifetime_deltas(member_id),
                debt=-self.member_delta(member_id, AccountKind.MEMBER_DEBT),
                review=self.member_delta(member_id, AccountKind.MEMBER_REVIEW),
            )
            for member_id in self.member_ids()
        }

    def lifetime_deltas(self, member_id: int) -> tuple[int, int]:
        """(earned, redeemed) for the member's lifetime counters, from the net change of all its
        accounts: earnings and positive adjustments add to earned, a refund takes its points back
        off; redemptions (from available or a captured hold) add to redeemed, a return takes off."""
        net = sum(self.member_delta(member_id, kind) for kind in MEMBER_ACCOUNT_KINDS)
        if self.kind in (EntryKind.EARN, EntryKind.ADJUST) and net > 0:
            return net, 0
        if self.kind in (EntryKind.REFUND, EntryKind.REJECT) and net < 0:
            return net, 0
        if self.kind is EntryKind.REDEEM and net < 0:
            return 0, -net
        if self.kind is EntryKind.RETURN and net > 0:
            return 0, -net
        return 0, 0

    @property
    def is_activity(self) -> bool:
        return self.kind in ACTIVITY_KINDS

    def credits_available(self, member_id: int) -> bool:
        """Whether the entry adds to the member's available points without yet repaying its debt:
        the ledger books such an entry through `with_debt_repaid` when the member owes points."""
        return self.member_delta(member_id, AccountKind.MEMBER_AVAILABLE) > 0 and not any(
            p.account == Account(AccountKind.MEMBER_DEBT, member_id) for p in self.postings
        )

    def debtors(self) -> list[int]:
        """The members whose available points this entry credits (who repay a debt first)."""
        return [m for m in self.member_ids() if self.credits_available(m)]


def with_debt_repaid(
    entry: JournalEntry, lots: Sequence[NewLot], member_id: int, debt: int
) -> tuple[JournalEntry, tuple[NewLot, ...]]:
    """The entry as booked for a member owing `debt` points. Whatever comes to a member's available
    account (earnings, returns, releases, transfers received, adjustments) repays its debt first, so
    a member never spends points it owes: up to `debt` of the credit goes to the debt account, and
    the member's new lots shrink by as much, soonest-expiring first."""
    credited = entry.member_delta(member_id, AccountKind.MEMBER_AVAILABLE)
    repaid = min(debt, credited)
    if repaid <= 0 or not entry.credits_available(member_id):
        return entry, tuple(lots)
    available = Account.available(member_id)
    postings = [p for p in entry.postings if p.account != available]
    if credited > repaid:
        postings.append(Posting(available, credited - repaid))
    postings.append(Posting(Account(AccountKind.MEMBER_DEBT, member_id), repaid))
    description = f"{entry.description} ({repaid} repaid points owed)"
    return (
        replace(entry, postings=tuple(postings), description=description),
        _lots_less(lots, member_id, repaid),
    )


def _lots_less(lots: Sequence[NewLot], member_id: int, points: int) -> tuple[NewLot, ...]:
    """The member's lots with `points` taken off the soonest-expiring; other members' untouched."""
    kept: list[NewLot] = []
    for lot in sorted(lots, key=lambda lot: (lot.member_id != member_id, lot.expires_at)):
        taken = min(points, lot.points) if lot.member_id == member_id else 0
        points -= taken
        if lot.points > taken:
            kept.append(replace(lot, points=lot.points - taken))
    return tuple(kept)


def transfer(
    *,
    kind: EntryKind,
    member_id: int,
    origin_type: OriginType,
    origin_id: int,
    source: Account,
    destination: Account,
    points: int,
    description: str,
) -> JournalEntry:
    """The common two-legged entry: `points` leave `source` and arrive at `destination`."""
    return JournalEntry(
        kind=kind,
        member_id=member_id,
        origin_type=origin_type,
        origin_id=origin_id,
        description=description,
        postings=(Posting(source, -points), Posting(destination, points)),
    )


@dataclass(frozen=True, slots=True)
class MemberPosting:
    """One movement on one of a member's accounts, as the member's history shows it."""

    id: int
    entry_id: int
    member_id: int
    account: AccountKind
    amount: int
    kind: EntryKind
    origin_type: OriginType
    origin_id: int
    description: str
    created_at: datetime


def apply_change(current: Balance, change: BalanceChange) -> Balance:
    return Balance(
        current.member_id,
        current.available + change.available,
        current.pending + change.pending,
        current.held + change.held,
        current.lifetime_earned + change.earned,
        current.lifetime_redeemed + change.redeemed,
        current.debt + change.debt,
        current.under_review + change.review,
    )


def within_limits(balance: Balance) -> bool:
    """No account below zero, and every figure within what GraphQL's 32-bit Int can show."""
    return min(_figures(balance)) >= 0 and max(_figures(balance)) <= MAX_BALANCE


def _figures(balance: Balance) -> tuple[int, ...]:
    return (
        balance.available,
        balance.pending,
        balance.held,
        balance.lifetime_earned,
        balance.lifetime_redeemed,
        balance.debt,
        balance.under_review,
    )


def balance_refusal(entry: JournalEntry, current: Balance | None) -> DomainError:
    """Why an entry could not be applied to the member's stored balance."""
    if current is not None:
        after = apply_change(current, entry.balance_changes().get(current.member_id, BalanceChange()))
        if max(_figures(after)) > MAX_BALANCE:
            return LimitReached(f"a member's balance cannot exceed {MAX_BALANCE} points")
    return InsufficientPoints("not enough points available")
