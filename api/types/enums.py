"""Domain enums exposed as GraphQL enums (same values, one definition).

`strawberry.enum` marks the domain class itself and returns it; the class is then re-exported under
its own name, so annotations with it are types that mypy checks (a variable holding the call is not)."""

from __future__ import annotations

import strawberry

from domain import ledger, members, merchants, purchases, rewards

strawberry.enum(
    members.MemberStatus,
    name="MemberStatus",
    description="Whether a member may earn and spend: ACTIVE, LOCKED by an admin, CLOSED, DORMANT, or "
    "ERASED (its personal data erased at its own or an admin's request; final).",
)
MemberStatus = members.MemberStatus
strawberry.enum(members.IncomeBand, name="IncomeBand", description="A member's declared income band.")
IncomeBand = members.IncomeBand
strawberry.enum(merchants.MerchantCategory, name="MerchantCategory", description="What a merchant sells.")
MerchantCategory = merchants.MerchantCategory
strawberry.enum(merchants.MerchantChannel, name="MerchantChannel", description="Where a merchant sells.")
MerchantChannel = merchants.MerchantChannel
strawberry.enum(merchants.Channel, name="Channel", description="Where a purchase happened.")
Channel = merchants.Channel
strawberry.enum(merchants.PartnerKind, name="PartnerKind", description="What business a partner brand is in.")
PartnerKind = merchants.PartnerKind
strawberry.enum(purchases.ReasonCode, name="ReasonCode", description="Why an admin adjusted points.")
ReasonCode = purchases.ReasonCode
strawberry.enum(
    rewards.RedemptionStatus,
    name="RedemptionStatus",
    description="Where a redemption stands; see Redemption.",
)
RedemptionStatus = rewards.RedemptionStatus
strawberry.enum(
    rewards.RedemptionKind,
    name="RedemptionKind",
    description="REWARD: from the catalogue; POS: points a merchant held at its till.",
)
RedemptionKind = rewards.RedemptionKind
strawberry.enum(
    rewards.LimitPeriod, name="LimitPeriod", description="A calendar period in UTC; weeks start on Monday."
)
LimitPeriod = rewards.LimitPeriod
strawberry.enum(ledger.EntryKind, name="LedgerEntryKind", description="What moved points in the ledger.")
EntryKind = ledger.EntryKind
strawberry.enum(ledger.AccountKind, name="LedgerAccount", description="The account a ledger entry moved.")
LedgerAccount = ledger.AccountKind
