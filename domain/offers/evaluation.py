"""The engine: which offers apply to a purchase, what each gives, and why the others do not.

It takes a purchase, the member, the live offers and their usage so far, and reads nothing and writes
nothing: `postPurchase` applies its answer, `qualifyPurchase` only shows it.

How offers combine, in order (one function per phase below):
1. Every live offer is checked for eligibility and limits; a failing offer is skipped with its reason.
2. Offers sharing an `exclusive_group` compete: the one worth most to the member applies, the others
   are skipped as EXCLUSIVE_WITH_BETTER. Worth is counted in points, a money amount at the base earn
   rate; ties go to the higher priority, then the older offer. Offers without a group all stack.
3. Discounts apply in priority order (higher first), fixed amounts before percentages at equal
   priority, each on the amount left after the earlier ones; thresholds (minimum spend, spend X) look
   at the amount before discounts. Discounts never take the amount below zero.
4. Base points are earned on the amount paid after discounts; multipliers add base x (factor - 1);
   cashback is a percentage of the amount paid.
5. An award that does not fit what is left of a budget is not made at all (no partial awards), and the
   offer reports BUDGET_EXHAUSTED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from domain.money import Money, points_for_spend
from domain.offers.eligibility import ineligible, over_budget
from domain.offers.funding import split_cost
from domain.offers.model import (
    DISCOUNT_ORDER,
    Award,
    Evaluation,
    Mechanic,
    Offer,
    PurchaseFacts,
    Skip,
    SkipReason,
    Usage,
)


@dataclass(frozen=True, slots=True)
class Basis:
    """What a mechanic works from: the amount still to pay, and the base earn rate."""

    paid: Money
    rate: Decimal

    @property
    def base_points(self) -> int:
        return points_for_spend(self.paid, self.rate)


@dataclass(frozen=True, slots=True)
class Gift:
    """What one offer gives on a basis, before its budget is checked."""

    points: int = 0
    discount_minor: int = 0
    cashback_minor: int = 0


def _bonus_points(offer: Offer, basis: Basis) -> Gift:
    return Gift(points=offer.points)


def _points_multiplier(offer: Offer, basis: Basis) -> Gift:
    return Gift(points=int((basis.base_points * (offer.multiplier - 1)).to_integral_value(ROUND_DOWN)))


def _amount_off(offer: Offer, basis: Basis) -> Gift:
    assert offer.amount is not None  # required for these mechanics by the offer's validation
    return Gift(discount_minor=min(basis.paid.amount_minor, offer.amount.amount_minor))


def _percent_off(offer: Offer, basis: Basis) -> Gift:
    off = _percent_of(basis.paid.amount_minor, offer.percent)
    if offer.cap is not None:
        off = min(off, offer.cap.amount_minor)
    return Gift(discount_minor=min(basis.paid.amount_minor, off))


def _cashback_points(offer: Offer, basis: Basis) -> Gift:
    cashback = Money(_percent_of(basis.paid.amount_minor, offer.percent), basis.paid.currency)
    return Gift(points=points_for_spend(cashback, basis.rate))


def _cashback_money(offer: Offer, basis: Basis) -> Gift:
    return Gift(cashback_minor=_percent_of(basis.paid.amount_minor, offer.percent))


# What each mechanic gives. A discount's basis is what is left after the earlier discounts; every
# other mechanic's is the amount paid after all of them.
MECHANICS: dict[Mechanic, Callable[[Offer, Basis], Gift]] = {
    Mechanic.BONUS_POINTS: _bonus_points,
    Mechanic.POINTS_MULTIPLIER: _points_multiplier,
    Mechanic.INSTANT_DISCOUNT: _amount_off,
    Mechanic.SPEND_AND_SAVE: _amount_off,
    Mechanic.PERCENT_DISCOUNT: _percent_off,
    Mechanic.CASHBACK_POINTS: _cashback_points,
    Mechanic.CASHBACK_MONEY: _cashback_money,
}


def evaluate(facts: PurchaseFacts, offers: Sequence[Offer], usage: Mapping[int, Usage]) -> Evaluation:
    """Which offers apply to this purchase, what each gives, and why the others do not."""
    candidates, refused = _check(facts, offers, usage)
    winners, beaten = _best_of_groups(facts, candidates)
    discounts, over = _discounts(facts, winners, usage)
    paid = Money(facts.amount.amount_minor - sum(discounts.values()), facts.amount.currency)
    basis = Basis(paid, facts.base_rate)
    awards, unmade = _awards(facts, winners, usage, discounts, basis)
    skipped = sorted([*refused, *beaten, *over, *unmade], key=lambda s: s.offer_id)
    return Evaluation(facts.amount, paid, basis.base_points, tuple(awards), tuple(skipped))


def referrer_points(offer: Offer, facts: PurchaseFacts) -> int:
    """What an award of this offer for this purchase also gives the member who referred the buyer."""
    return offer.referrer_points if facts.member.referred_by is not None and facts.referrer_active else 0


def _check(
    facts: PurchaseFacts, offers: Sequence[Offer], usage: Mapping[int, Usage]
) -> tuple[list[Offer], list[Skip]]:
    """Phase 1: the offers eligible and within their limits, and the others with their reasons."""
    candidates: list[Offer] = []
    skipped: list[Skip] = []
    for offer in offers:
        reason = ineligible(offer, facts, usage.get(offer.id, Usage()))
        if reason is None:
            candidates.append(offer)
        else:
            skipped.append(Skip(offer.id, reason))
    return candidates, skipped


def _best_of_groups(facts: PurchaseFacts, candidates: list[Offer]) -> tuple[list[Offer], list[Skip]]:
    """Phase 2: each exclusive group keeps its best offer, judged on the undiscounted purchase."""
    undiscounted = Basis(facts.amount, facts.base_rate)
    worth = {o.id: _worth(o, undiscounted) for o in candidates}
    best_in_group: dict[str, Offer] = {}
    for offer in candidates:
        if offer.exclusive_group is None:
            continue
        current = best_in_group.get(offer.exclusive_group)
        if current is None or _better(offer, current, worth):
            best_in_group[offer.exclusive_group] = offer
    winners: list[Offer] = []
    skipped: list[Skip] = []
    for offer in candidates:
        if offer.exclusive_group is not None and best_in_group[offer.exclusive_group] is not offer:
            skipped.append(Skip(offer.id, SkipReason.EXCLUSIVE_WITH_BETTER))
        else:
            winners.append(offer)
    return winners, skipped


def _discounts(
    facts: PurchaseFacts, winners: list[Offer], usage: Mapping[int, Usage]
) -> tuple[dict[int, int], list[Skip]]:
    """Phase 3: the discounts, in their order, each on what is left (minor units by offer id)."""
    remaining = facts.amount.amount_minor
    discounts: dict[int, int] = {}
    skipped: list[Skip] = []
    for offer in sorted(
        (o for o in winners if o.mechanic.is_discount),
        key=lambda o: (-o.priority, DISCOUNT_ORDER[o.mechanic], o.id),
    ):
        left = Basis(Money(remaining, facts.amount.currency), facts.base_rate)
        off = MECHANICS[offer.mechanic](offer, left).discount_minor
        reason = over_budget(offer, usage.get(offer.id, Usage()), 0, off)
        if reason is not None:  # refused: the next discounts compute as if it were not there
            skipped.append(Skip(offer.id, reason))
            continue
        discounts[offer.id] = off
        remaining -= off
    return discounts, skipped


def _awards(
    facts: PurchaseFacts,
    winners: list[Offer],
    usage: Mapping[int, Usage],
    discounts: Mapping[int, int],
    basis: Basis,
) -> tuple[list[Award], list[Skip]]:
    """Phases 4 and 5: what each winner gives on the amount paid, if it fits its budget."""
    awards: list[Award] = []
    skipped: list[Skip] = []
    for offer in winners:
        if offer.mechanic.is_discount:
            if offer.id not in discounts:
                continue  # refused for its budget in phase 3
            gift = Gift(discount_minor=discounts[offer.id])
        else:
            gift = MECHANICS[offer.mechanic](offer, basis)
        money = gift.discount_minor + gift.cashback_minor
        cost = gift.points + referrer_points(offer, facts)
        reason = over_budget(offer, usage.get(offer.id, Usage()), cost, money)
        if reason is not None:
            skipped.append(Skip(offer.id, reason))
            continue
        if gift.points == gift.discount_minor == gift.cashback_minor == 0:
            skipped.append(Skip(offer.id, SkipReason.NOTHING_TO_GIVE))
            continue
        awards.append(
            Award(
                offer.id,
                offer.version,
                offer.mechanic,
                gift.points,
                gift.discount_minor,
                gift.cashback_minor,
                split_cost(offer.funding, gift.points, money),
            )
        )
    return awards, skipped


def _percent_of(minor: int, percent: Decimal) -> int:
    return int((Decimal(minor) * percent / 100).to_integral_value(ROUND_DOWN))


def _worth(offer: Offer, undiscounted: Basis) -> int:
    """What the offer gives on the undiscounted purchase, in points (money at the base earn rate)."""
    gift = MECHANICS[offer.mechanic](offer, undiscounted)
    money = Money(gift.discount_minor + gift.cashback_minor, undiscounted.paid.currency)
    return gift.points + points_for_spend(money, undiscounted.rate)


def _better(offer: Offer, current: Offer, worth: Mapping[int, int]) -> bool:
    return (worth[offer.id], offer.priority, -offer.id) > (worth[current.id], current.priority, -current.id)
