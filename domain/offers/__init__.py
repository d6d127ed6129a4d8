"""Offers and earning rules, and the pure engine that decides which apply to a purchase.

  model        the value classes and enums: Offer, its eligibility, window, funding and limits; Usage,
               PurchaseFacts and what an evaluation returns
  eligibility  who, where and when an offer applies, and whether its limits leave room
  evaluation   `evaluate`, the engine, with one small function per mechanic
  funding      the cost of an award split between its funders
  periods      where a member cap period began
  index        live offers by merchant, category and partner
  reports      a campaign report's totals
  wallet       which offers a member can use now, and what each would give on its typical basket
  reasons      why an offer applies, in words a wallet can show

Import from here: the names below are the package's public surface.
"""

from domain.offers.eligibility import eligible, open_to, sign_up_bonuses, uses_left
from domain.offers.evaluation import evaluate, referrer_points
from domain.offers.funding import split_cost
from domain.offers.index import OfferIndex
from domain.offers.model import (
    Award,
    CapPeriod,
    Coupon,
    Eligibility,
    Evaluation,
    FirstPurchase,
    FundedCost,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    PurchaseFacts,
    Segment,
    Skip,
    SkipReason,
    Trigger,
    Usage,
    Window,
)
from domain.offers.periods import cap_period_start, period_start
from domain.offers.reasons import Names, reasons
from domain.offers.reports import BonusReason, BonusTotals, CampaignTotals
from domain.offers.wallet import (
    Bought,
    Estimate,
    Spend,
    Unusable,
    Wallet,
    categories_of,
    channel_for,
    currency_of,
    estimate,
    first_purchase_ids,
    mean_amount,
    ranking,
    refusal,
    stand_in_merchant,
    typical_amount,
)

__all__ = [
    "Award",
    "BonusReason",
    "BonusTotals",
    "Bought",
    "CampaignTotals",
    "CapPeriod",
    "Coupon",
    "Eligibility",
    "Estimate",
    "Evaluation",
    "FirstPurchase",
    "FundedCost",
    "FunderKind",
    "FundingShare",
    "Limits",
    "Mechanic",
    "Names",
    "Offer",
    "OfferIndex",
    "OfferStatus",
    "PurchaseFacts",
    "Segment",
    "Skip",
    "SkipReason",
    "Spend",
    "Trigger",
    "Unusable",
    "Usage",
    "Wallet",
    "Window",
    "cap_period_start",
    "categories_of",
    "channel_for",
    "currency_of",
    "eligible",
    "estimate",
    "evaluate",
    "first_purchase_ids",
    "mean_amount",
    "open_to",
    "period_start",
    "ranking",
    "reasons",
    "referrer_points",
    "refusal",
    "sign_up_bonuses",
    "split_cost",
    "stand_in_merchant",
    "typical_amount",
    "uses_left",
]
