"""Domain enums exposed as GraphQL enums (same values, one definition).

`strawberry.enum` marks the domain class itself and returns it; the class is then re-exported under
its own name, so annotations with it are types that mypy checks (a variable holding the call is not).
The domain imports no strawberry, so each value's description is given here, by `describe_values`."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from domain import ledger, members, merchants, purchases, recommendations, rewards

E = TypeVar("E", bound=Enum)


def describe_values(enum: type[E], descriptions: Mapping[E, str]) -> None:
    """Describe the values of an enum already marked by `strawberry.enum` (a value left out stays
    undescribed, which the schema conventions test reports)."""
    marked: object = enum
    if not has_enum_definition(marked):
        raise TypeError(f"{enum.__name__} is not a GraphQL enum yet: mark it with strawberry.enum first")
    for value in marked.__strawberry_definition__.values:
        value.description = descriptions.get(enum[value.name])


strawberry.enum(
    members.MemberStatus,
    name="MemberStatus",
    description="Whether a member may earn and spend: ACTIVE, LOCKED by an admin, CLOSED, DORMANT, or "
    "ERASED (its personal data erased at its own or an admin's request; final).",
)
describe_values(
    members.MemberStatus,
    {
        members.MemberStatus.ACTIVE: "It may earn and spend.",
        members.MemberStatus.LOCKED: "An admin stopped it earning and spending until unlocked.",
        members.MemberStatus.CLOSED: "Closed by the member (closeMyAccount): it no longer earns or spends; "
        "under closurePolicy KEEP an admin may reopen it until pointsForfeitAt.",
        members.MemberStatus.ERASED: "Its personal data was erased (eraseMember): a pseudonym on the ledger.",
        members.MemberStatus.DORMANT: "Active, but without activity for the programme's dormancy period, "
        "until it acts again; win-back offers target it.",
    },
)
MemberStatus = members.MemberStatus
strawberry.enum(members.IncomeBand, name="IncomeBand", description="A member's declared income band.")
describe_values(
    members.IncomeBand,
    {
        members.IncomeBand.LOW: "The lowest band.",
        members.IncomeBand.MIDDLE: "Above LOW.",
        members.IncomeBand.HIGH: "Above MIDDLE.",
        members.IncomeBand.VERY_HIGH: "The highest band.",
    },
)
IncomeBand = members.IncomeBand
strawberry.enum(merchants.MerchantCategory, name="MerchantCategory", description="What a merchant sells.")
describe_values(
    merchants.MerchantCategory,
    {
        merchants.MerchantCategory.DINING: "Restaurants, cafés and food delivery.",
        merchants.MerchantCategory.GROCERY: "Supermarkets and food shops.",
        merchants.MerchantCategory.RETAIL: "Shops selling goods in store.",
        merchants.MerchantCategory.ONLINE_SHOPPING: "Online stores and marketplaces.",
        merchants.MerchantCategory.TRAVEL: "Airlines, hotels and travel agents.",
        merchants.MerchantCategory.TRANSPORT: "Fares, taxis and fuel.",
        merchants.MerchantCategory.ENTERTAINMENT: "Cinemas, events and games.",
        merchants.MerchantCategory.EDUCATION: "Schools and courses.",
        merchants.MerchantCategory.HEALTHCARE: "Clinics and pharmacies.",
        merchants.MerchantCategory.UTILITIES: "Power, water, telephone and internet bills.",
        merchants.MerchantCategory.OTHER: "None of the others.",
    },
)
MerchantCategory = merchants.MerchantCategory
strawberry.enum(merchants.MerchantChannel, name="MerchantChannel", description="Where a merchant sells.")
describe_values(
    merchants.MerchantChannel,
    {
        merchants.MerchantChannel.ONLINE: "Online only.",
        merchants.MerchantChannel.OFFLINE: "In store only.",
        merchants.MerchantChannel.BOTH: "Online and in store.",
    },
)
MerchantChannel = merchants.MerchantChannel
strawberry.enum(merchants.Channel, name="Channel", description="Where a purchase happened.")
describe_values(
    merchants.Channel,
    {merchants.Channel.ONLINE: "Online.", merchants.Channel.OFFLINE: "In store, at a till."},
)
Channel = merchants.Channel
strawberry.enum(merchants.PartnerKind, name="PartnerKind", description="What business a partner brand is in.")
describe_values(
    merchants.PartnerKind,
    {
        merchants.PartnerKind.AIRLINE: "An airline.",
        merchants.PartnerKind.HOTEL: "A hotel group.",
        merchants.PartnerKind.ECOMMERCE: "An online store or marketplace.",
        merchants.PartnerKind.RETAIL: "A chain of shops.",
        merchants.PartnerKind.OTHER: "None of the others.",
    },
)
PartnerKind = merchants.PartnerKind
strawberry.enum(purchases.ReasonCode, name="ReasonCode", description="Why an admin adjusted points.")
describe_values(
    purchases.ReasonCode,
    {
        purchases.ReasonCode.GOODWILL: "A gesture towards the member.",
        purchases.ReasonCode.CORRECTION: "Points that were wrong, set right.",
        purchases.ReasonCode.MIGRATION: "Points brought over from another system.",
        purchases.ReasonCode.FRAUD_REVERSAL: "Points obtained by fraud, taken back.",
        purchases.ReasonCode.SERVICE_RECOVERY: "Amends for a service that went wrong.",
        purchases.ReasonCode.PROMOTION: "A promotion run outside the offers.",
    },
)
ReasonCode = purchases.ReasonCode
strawberry.enum(
    rewards.RedemptionStatus,
    name="RedemptionStatus",
    description="Where a redemption stands; see Redemption.",
)
describe_values(
    rewards.RedemptionStatus,
    {
        rewards.RedemptionStatus.REQUESTED: "A reward redeemed and paid for, not yet handed over.",
        rewards.RedemptionStatus.FULFILLED: "The reward was handed over.",
        rewards.RedemptionStatus.CANCELLED: "Cancelled: its points and its unit of stock went back.",
        rewards.RedemptionStatus.AUTHORIZED: "A POS hold: points held until captured, voided or expired.",
        rewards.RedemptionStatus.CAPTURED: "The merchant spent the hold, all or part; the rest went back.",
        rewards.RedemptionStatus.VOIDED: "The merchant released the hold: all its points went back.",
        rewards.RedemptionStatus.EXPIRED: "The hold lapsed uncaptured: all its points went back.",
    },
)
RedemptionStatus = rewards.RedemptionStatus
strawberry.enum(
    rewards.RedemptionKind,
    name="RedemptionKind",
    description="REWARD: from the catalogue; POS: points a merchant held at its till.",
)
describe_values(
    rewards.RedemptionKind,
    {
        rewards.RedemptionKind.REWARD: "A catalogue reward the member redeemed.",
        rewards.RedemptionKind.POS: "Points a merchant held at its POS with the member's one-time code.",
    },
)
RedemptionKind = rewards.RedemptionKind
strawberry.enum(
    rewards.LimitPeriod, name="LimitPeriod", description="A calendar period in UTC; weeks start on Monday."
)
describe_values(
    rewards.LimitPeriod,
    {
        rewards.LimitPeriod.DAY: "A calendar day.",
        rewards.LimitPeriod.WEEK: "A calendar week, Monday to Sunday.",
        rewards.LimitPeriod.MONTH: "A calendar month.",
        rewards.LimitPeriod.YEAR: "A calendar year.",
        rewards.LimitPeriod.EVER: "No period: the limit counts for good.",
    },
)
LimitPeriod = rewards.LimitPeriod
strawberry.enum(ledger.EntryKind, name="LedgerEntryKind", description="What moved points in the ledger.")
describe_values(
    ledger.EntryKind,
    {
        ledger.EntryKind.EARN: "Points a purchase or an offer gave.",
        ledger.EntryKind.REDEEM: "Points spent: on a catalogue reward, or a POS hold captured.",
        ledger.EntryKind.ADJUST: "Points an admin added or took away.",
        ledger.EntryKind.EXPIRE: "Points that reached their expiry date.",
        ledger.EntryKind.TRANSFER: "Points one member gave another.",
        ledger.EntryKind.MATURE: "Pending points became available at the end of the return window.",
        ledger.EntryKind.REFUND: "A refunded purchase's points taken back to who issued them.",
        ledger.EntryKind.RETURN: "Spent points given back: a cancelled reward, "
        "a refunded purchase paid with points.",
        ledger.EntryKind.HOLD: "Available points held for a merchant's POS until capture or void.",
        ledger.EntryKind.RELEASE: "Held points back to available: voided, expired, or the rest of a capture.",
        ledger.EntryKind.APPROVE: "Points under risk review made available by an admin's approval.",
        ledger.EntryKind.REJECT: "Points under risk review taken back to who issued them (rejected).",
    },
)
EntryKind = ledger.EntryKind
strawberry.enum(ledger.AccountKind, name="LedgerAccount", description="The account a ledger entry moved.")
describe_values(
    ledger.AccountKind,
    {
        ledger.AccountKind.MEMBER_AVAILABLE: "The member's points it may spend.",
        ledger.AccountKind.MEMBER_PENDING: "The member's points inside their return window.",
        ledger.AccountKind.MEMBER_HELD: "The member's points held for a merchant's POS.",
        ledger.AccountKind.MEMBER_DEBT: "What the member owes after a refund took back points it had spent; "
        "later earnings repay it first.",
        ledger.AccountKind.MEMBER_REVIEW: "The member's earned points held for risk review: not spendable "
        "until an admin approves.",
        ledger.AccountKind.ISSUANCE: "Where the programme issues the points it pays for.",
        ledger.AccountKind.REDEMPTION: "Where spent points go.",
        ledger.AccountKind.EXPIRY: "Where expired points go.",
        ledger.AccountKind.ADJUSTMENT: "The other side of admins' adjustments.",
        ledger.AccountKind.PARTNER_FUNDING: "Where a partner brand issues the points of the offers "
        "it funds (one per brand).",
        ledger.AccountKind.MERCHANT_FUNDING: "Where a merchant issues the points of the offers it funds "
        "(one per merchant).",
    },
)
LedgerAccount = ledger.AccountKind
strawberry.enum(
    recommendations.ReasonCode,
    name="RecommendationReasonCode",
    description="Why an offer is recommended to the member; the reason's other fields carry its figures.",
)
describe_values(
    recommendations.ReasonCode,
    {
        recommendations.ReasonCode.OFTEN_AT_MERCHANT: "The member often buys at a merchant the offer "
        "names (merchantName, purchases: its purchases there over the last 365 days).",
        recommendations.ReasonCode.CATEGORY_SHARE: "A large share of the member's spend over the last 365 "
        "days is in the offer's category (category, shareBasisPoints).",
        recommendations.ReasonCode.HIGH_VALUE: "The offer gives at least a tenth of the member's typical "
        "basket (amount: discount, cashback and points at the programme's point value).",
        recommendations.ReasonCode.ENDS_SOON: "The offer ends within 7 days (days, rounded up).",
        recommendations.ReasonCode.BUDGET_LOW: "A quarter or less of the offer's budget is left "
        "(shareBasisPoints left).",
    },
)
RecommendationReasonCode = recommendations.ReasonCode
