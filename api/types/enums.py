"""Domain enums exposed as GraphQL enums (same values, one definition)."""

from __future__ import annotations

import strawberry

from domain import ledger, members, merchants, purchases, rewards

MemberStatus = strawberry.enum(
    members.MemberStatus,
    name="MemberStatus",
    description="Whether a member may earn and spend: ACTIVE, LOCKED by an admin, CLOSED, or DORMANT.",
)
IncomeBand = strawberry.enum(
    members.IncomeBand, name="IncomeBand", description="A member's declared income band."
)
MerchantCategory = strawberry.enum(
    merchants.MerchantCategory, name="MerchantCategory", description="What a merchant sells."
)
MerchantChannel = strawberry.enum(
    merchants.MerchantChannel, name="MerchantChannel", description="Where a merchant sells."
)
Channel = strawberry.enum(merchants.Channel, name="Channel", description="Where a purchase happened.")
PartnerKind = strawberry.enum(
    merchants.PartnerKind, name="PartnerKind", description="What business a partner brand is in."
)
ReasonCode = strawberry.enum(
    purchases.ReasonCode, name="ReasonCode", description="Why an admin adjusted points."
)
RedemptionStatus = strawberry.enum(
    rewards.RedemptionStatus,
    name="RedemptionStatus",
    description="Where a redemption stands; see Redemption.",
)
RedemptionKind = strawberry.enum(
    rewards.RedemptionKind,
    name="RedemptionKind",
    description="REWARD: from the catalogue; POS: points a merchant held at its till.",
)
LimitPeriod = strawberry.enum(
    rewards.LimitPeriod, name="LimitPeriod", description="A calendar period in UTC; weeks start on Monday."
)
EntryKind = strawberry.enum(
    ledger.EntryKind, name="LedgerEntryKind", description="What moved points in the ledger."
)
LedgerAccount = strawberry.enum(
    ledger.AccountKind, name="LedgerAccount", description="The account a ledger entry moved."
)
