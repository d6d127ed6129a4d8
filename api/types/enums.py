"""Domain enums exposed as GraphQL enums (same values, one definition)."""

from __future__ import annotations

import strawberry

from domain import ledger, members, merchants, purchases, rewards

MemberStatus = strawberry.enum(members.MemberStatus, name="MemberStatus")
IncomeBand = strawberry.enum(members.IncomeBand, name="IncomeBand")
MerchantCategory = strawberry.enum(merchants.MerchantCategory, name="MerchantCategory")
MerchantChannel = strawberry.enum(merchants.MerchantChannel, name="MerchantChannel")
Channel = strawberry.enum(merchants.Channel, name="Channel")
PartnerKind = strawberry.enum(merchants.PartnerKind, name="PartnerKind")
ReasonCode = strawberry.enum(purchases.ReasonCode, name="ReasonCode")
RedemptionStatus = strawberry.enum(rewards.RedemptionStatus, name="RedemptionStatus")
RedemptionKind = strawberry.enum(rewards.RedemptionKind, name="RedemptionKind")
LimitPeriod = strawberry.enum(
    rewards.LimitPeriod, name="LimitPeriod", description="A calendar period in UTC; weeks start on Monday."
)
EntryKind = strawberry.enum(ledger.EntryKind, name="LedgerEntryKind")
LedgerAccount = strawberry.enum(ledger.AccountKind, name="LedgerAccount")
