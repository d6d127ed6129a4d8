"""Recommended offers: the offers a member can use now, ranked by what each is likely worth to it, and
why, in terms a wallet can show.

    score = value × affinity × urgency

- value: what the offer gives on the member's typical basket where it applies (the wallet's estimate):
  discount + cashback + points × the programme's point value, in minor units of the basket's currency.
  An offer with nothing to estimate on is worth one minor unit, so that it still ranks, last.
- affinity: FLOOR + category term + merchant term. The category term is the member's share of its
  year's spend in the offer's categories, weighted by how recently it bought there
  (share × (1 + recency) / 2, recency = RECENCY_DAYS / (RECENCY_DAYS + days since)); an offer for every
  category counts as GENERAL_SHARE, since being open everywhere says nothing of the member's taste.
  The merchant term is the same for the spend at the merchants the offer names. The floor keeps new
  members' lists ranked by value and urgency.
- urgency: 1 + END_WEIGHT × ENDS_SOON_DAYS / (ENDS_SOON_DAYS + days left) + BUDGET_WEIGHT × (budget
  spent as a share): an offer about to end or to run out is worth seeing now.

Integer arithmetic throughout (affinity and urgency in parts per million, value in millionths of a
minor unit): the same inputs give the same order on every machine. Ties go to the lower offer id.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.merchants import MerchantCategory
from domain.money import MINOR_UNITS, Money, format_money
from domain.profiles import LONGEST_WINDOW, DayActivity, window_start

PPM = 1_000_000  # affinity and urgency are in parts per million; value in millionths of a minor unit
FLOOR = PPM // 50  # a member without purchases still sees offers, by value and urgency
GENERAL_SHARE = PPM // 4  # an offer for every category, as a quarter of the member's spend
# An offer only at some merchants: the member's share in their category counts this many times less
# than its spend at them (it may not go to those merchants).
ELSEWHERE_IN_CATEGORY = 4
RECENCY_DAYS = 30  # recency halves the weight of a share when the last purchase was this long ago
ENDS_SOON_DAYS = 7
SOON_SECONDS = ENDS_SOON_DAYS * 86_400
END_WEIGHT = PPM // 2
BUDGET_WEIGHT = PPM // 2
SECONDS_A_DAY = 86_400
# When to say so.
OFTEN_PURCHASES = 2  # purchases at a merchant in the year
CATEGORY_SHARE_BASIS_POINTS = 1_500  # 15% of the year's spend
HIGH_VALUE_BASIS_POINTS = 1_000  # worth 10% of the typical basket
BUDGET_LOW_BASIS_POINTS = 2_500  # a quarter of the budget left
BASIS_POINTS = 10_000


class ReasonCode(StrEnum):
    OFTEN_AT_MERCHANT = "OFTEN_AT_MERCHANT"
    CATEGORY_SHARE = "CATEGORY_SHARE"
    HIGH_VALUE = "HIGH_VALUE"
    ENDS_SOON = "ENDS_SOON"
    BUDGET_LOW = "BUDGET_LOW"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason, with the figures its message was made from (a wallet may phrase its own)."""

    code: ReasonCode
    message: str
    merchant_id: int | None = None
    merchant_name: str | None = None
    purchases: int | None = None
    category: MerchantCategory | None = None
    share_basis_points: int | None = None
    days: int | None = None
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class Habit:
    """The member's purchases in one category or at one merchant over the last year."""

    purchases: int
    spend_minor: int  # in the profile's currency
    last_day: date | None  # of the last purchase there


@dataclass(frozen=True, slots=True)
class Taste:
    """What the member's profile says of where it buys, as of `today`."""

    today: date
    spend_minor: int
    categories: Mapping[MerchantCategory, Habit]
    merchants: Mapping[int, Habit]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An offer the member can use now, with what the wallet worked out for it."""

    offer_id: int
    ends_at: datetime
    categories: frozenset[MerchantCategory]  # where it applies; empty: every category
    merchant_ids: frozenset[int]  # the merchants it names; empty: any
    currency: str  # of the typical basket
    basket_minor: int | None  # the typical basket; None: nothing to estimate on
    money_minor: int  # discount and cashback on that basket
    points: int  # points on that basket
    budget_left_ppm: int | None  # share of its budget left, the smaller of points and money; None: no budget


@dataclass(frozen=True, slots=True)
class Recommendation:
    offer_id: int
    score: int  # value × affinity × urgency: minor units × 10^18 (value, affinity and urgency each × 10^6)
    value_micro: int  # millionths of a minor unit of `currency`
    affinity_ppm: int
    urgency_ppm: int
    reasons: tuple[Reason, ...]

    @property
    def rank(self) -> tuple[int, int]:
        return (-self.score, self.offer_id)

    @property
    def score_text(self) -> str:
        """The score in minor units, to two decimals, rounded down."""
        hundredths = self.score // (PPM * PPM * PPM // 100)
        return f"{hundredths // 100}.{hundredths % 100:02d}"


def taste(rows: Iterable[DayActivity], *, currency: str, today: date) -> Taste:
    """The member's habits from its day counters of the last year (spend in `currency`)."""
    since = window_start(today, LONGEST_WINDOW)
    year = [r for r in rows if since <= r.day <= today]
    spend = [r.spend_minor if r.currency == currency else 0 for r in year]
    categories: dict[MerchantCategory, Habit] = {}
    merchants: dict[int, Habit] = {}
    for r, spent in zip(year, spend, strict=True):
        categories[r.category] = _added(categories.get(r.category), r, spent)
        merchants[r.merchant_id] = _added(merchants.get(r.merchant_id), r, spent)
    return Taste(today, max(sum(spend), 0), categories, merchants)


def _added(habit: Habit | None, row: DayActivity, spent: int) -> Habit:
    last = row.day if row.purchases > 0 else None
    if habit is None:
        return Habit(row.purchases, spent, last)
    if habit.last_day is not None and (last is None or habit.last_day > last):
        last = habit.last_day
    return Habit(habit.purchases + row.purchases, habit.spend_minor + spent, last)


def point_value_micro(point_values: Mapping[str, Decimal], currency: str) -> int:
    """A point's worth in millionths of a minor unit of `currency`: the programme's point value, else
    one minor unit (a programme that set none values points as CNY 0.01 a point does)."""
    value = point_values.get(currency)
    if value is None:
        return PPM
    return int(value.scaleb(MINOR_UNITS.get(currency, 2)) * PPM)


def value_micro(candidate: Candidate, point_micro: int) -> int:
    worth = candidate.money_minor * PPM + candidate.points * point_micro
    return max(worth, PPM)  # nothing to estimate on: one minor unit, so it still ranks


def affinity_ppm(candidate: Candidate, member: Taste) -> int:
    if not candidate.categories:
        category = GENERAL_SHARE
    else:
        category = _weighted(member, [member.categories.get(c) for c in candidate.categories])
    if not candidate.merchant_ids:
        return FLOOR + category
    # Only at its merchants: the category says less than the member's spend there does.
    merchant = _weighted(member, [member.merchants.get(m) for m in candidate.merchant_ids])
    return FLOOR + category // ELSEWHERE_IN_CATEGORY + merchant


def urgency_ppm(candidate: Candidate, now: datetime) -> int:
    return _urgency(candidate, now.timestamp())


def _urgency(candidate: Candidate, now_s: float) -> int:
    seconds_left = max(int(candidate.ends_at.timestamp() - now_s), 0)
    ending = END_WEIGHT * SOON_SECONDS // (SOON_SECONDS + seconds_left)
    left = candidate.budget_left_ppm
    spent = 0 if left is None else PPM - min(max(left, 0), PPM)
    return PPM + ending + BUDGET_WEIGHT * spent // PPM


def recommend(
    candidates: Iterable[Candidate],
    member: Taste,
    *,
    now: datetime,
    point_values: Mapping[str, Decimal],
    merchant_names: Mapping[int, str],
    first: int | None = None,
) -> list[Recommendation]:
    """The candidates best first (highest score, then lowest offer id), each with its reasons; only
    the `first` of them when given (every candidate is scored and ranked either way)."""
    now_s = now.timestamp()
    point_micro: dict[str, int] = {}
    affinities: dict[tuple[frozenset[MerchantCategory], frozenset[int]], int] = {}
    scored = []
    for c in candidates:
        point = point_micro.get(c.currency)
        if point is None:
            point = point_micro[c.currency] = point_value_micro(point_values, c.currency)
        value = max(c.money_minor * PPM + c.points * point, PPM)  # as value_micro
        key = (c.categories, c.merchant_ids)
        affinity = affinities.get(key)
        if affinity is None:  # offers at the same merchants or categories share it
            affinity = affinities[key] = affinity_ppm(c, member)
        # As urgency_ppm, inlined: this loop is the listing's cost.
        left_s = c.ends_at.timestamp() - now_s
        urgency = PPM + END_WEIGHT * SOON_SECONDS // (SOON_SECONDS + (int(left_s) if left_s > 0 else 0))
        left = c.budget_left_ppm
        if left is not None:
            urgency += BUDGET_WEIGHT * (PPM - (0 if left < 0 else PPM if left > PPM else left)) // PPM
        scored.append((-(value * affinity * urgency), c.offer_id, value, affinity, urgency, c))
    # (score, id) is unique: the sort never compares candidates.
    best = sorted(scored) if first is None else heapq.nsmallest(first, scored)
    return [
        Recommendation(
            c.offer_id,
            -score,
            value,
            affinity,
            urgency,
            tuple(reasons(c, member, value, now, merchant_names)),
        )
        for score, _, value, affinity, urgency, c in best
    ]


def reasons(
    candidate: Candidate, member: Taste, value: int, now: datetime, merchant_names: Mapping[int, str]
) -> list[Reason]:
    """Why the offer is worth the member's attention, most personal first."""
    found: list[Reason] = []
    often = _most_bought(member, candidate.merchant_ids)
    if often is not None:
        merchant_id, habit = often
        name = merchant_names.get(merchant_id, "this merchant")
        found.append(
            Reason(
                ReasonCode.OFTEN_AT_MERCHANT,
                f"You often shop at {name} ({habit.purchases} purchases this year)",
                merchant_id=merchant_id,
                merchant_name=name,
                purchases=habit.purchases,
            )
        )
    top = _top_category(member, candidate.categories)
    if top is not None:
        category, share = top
        found.append(
            Reason(
                ReasonCode.CATEGORY_SHARE,
                f"{_percent(share)} of your spending this year is on {_category_words(category)}",
                category=category,
                share_basis_points=share,
            )
        )
    basket = candidate.basket_minor
    if basket and value * BASIS_POINTS >= HIGH_VALUE_BASIS_POINTS * basket * PPM:
        amount = Money(value // PPM, candidate.currency)
        found.append(
            Reason(
                ReasonCode.HIGH_VALUE,
                f"Worth about {format_money(amount)} on your usual "
                f"{format_money(Money(basket, candidate.currency))} purchase",
                amount=amount,
            )
        )
    left = candidate.ends_at - now
    if left <= timedelta(days=ENDS_SOON_DAYS):
        days = max(-(-int(left.total_seconds()) // SECONDS_A_DAY), 0)  # whole days, rounded up
        found.append(
            Reason(ReasonCode.ENDS_SOON, "Ends today" if days <= 1 else f"Ends in {days} days", days=days)
        )
    budget = candidate.budget_left_ppm
    if budget is not None and budget * BASIS_POINTS <= BUDGET_LOW_BASIS_POINTS * PPM:
        share = max(budget, 0) * BASIS_POINTS // PPM
        found.append(
            Reason(
                ReasonCode.BUDGET_LOW,
                f"Only {_percent(share)} of its budget is left",
                share_basis_points=share,
            )
        )
    return found


def budget_left_ppm(budgets: Sequence[tuple[int | None, int]]) -> int | None:
    """The smallest share left of the (budget, used) pairs that have a budget; None when none has."""
    left = [
        max(budget - used, 0) * PPM // budget for budget, used in budgets if budget is not None and budget > 0
    ]
    return min(left) if left else None


def _weighted(member: Taste, habits: Sequence[Habit | None]) -> int:
    """Share of the year's spend in these habits × (1 + recency of the latest) / 2, in ppm."""
    there = [h for h in habits if h is not None]
    if not there or member.spend_minor <= 0:
        return 0
    spend = max(sum(h.spend_minor for h in there), 0)
    share = min(spend * PPM // member.spend_minor, PPM)
    lasts = [h.last_day for h in there if h.last_day is not None]
    recency = 0
    if lasts:
        days = max((member.today - max(lasts)).days, 0)
        recency = RECENCY_DAYS * PPM // (RECENCY_DAYS + days)
    return share * (PPM + recency) // (2 * PPM)


def _most_bought(member: Taste, merchant_ids: Collection[int]) -> tuple[int, Habit] | None:
    habits = [
        (m, h) for m in merchant_ids if (h := member.merchants.get(m)) and h.purchases >= OFTEN_PURCHASES
    ]
    return min(habits, key=lambda mh: (-mh[1].purchases, mh[0]), default=None)


def _top_category(
    member: Taste, categories: Collection[MerchantCategory]
) -> tuple[MerchantCategory, int] | None:
    if member.spend_minor <= 0:
        return None
    shares = [
        (c, max(h.spend_minor, 0) * BASIS_POINTS // member.spend_minor)
        for c in categories
        if (h := member.categories.get(c)) is not None
    ]
    best = min(shares, key=lambda cs: (-cs[1], cs[0].value), default=None)
    return best if best is not None and best[1] >= CATEGORY_SHARE_BASIS_POINTS else None


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}%"


def _category_words(category: MerchantCategory) -> str:
    return category.value.lower().replace("_", " ")
