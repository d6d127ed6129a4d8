"""What each role sees of an object it may read: one declared table, (type, field) -> for each viewer
FULL, MASKED (with the masking function) or HIDDEN (null, or an empty list or connection).

Which objects a role reaches at all is `api/access.py`'s rule per Node type (and the guard of the root
field or mutation that hands an object out); this table decides, field by field, how much of a reached
object it sees. `guard_schema` applies it to the built schema in one place: each field whose policy is
not "everyone in full" gets its resolver wrapped, once, at start-up. A hidden field's resolver never
runs (no read, no audit row); a masked one's answer is masked before it leaves. Fields that everyone
sees in full are left as they are, so they cost nothing per request.

Every object type has an entry, and every field of it is either named or covered by the type's
explicit `default` (with the reason). A non-null field is never hidden (null cannot be its answer):
such a field is made nullable, or the whole object is withheld by `api/access.py`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
)
from strawberry import relay
from strawberry.types.private import is_private

from api.access import offer_funder
from api.personal_reads import record_personal_read
from domain import members as dm
from domain.actors import Actor, Role

if TYPE_CHECKING:
    from api.context import Context


class Viewer(Enum):
    """Who reads, relative to the object: a member reading its own record is MEMBER_SELF."""

    ANONYMOUS = "anonymous"
    MEMBER_SELF = "member-self"
    MEMBER_OTHER = "member-other"
    MERCHANT = "merchant"
    PROCESSOR = "processor"
    PARTNER = "partner"
    ADMIN = "admin"


class Access(Enum):
    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Rule:
    access: Access
    mask: Callable[[Any], Any] | None = None
    # FULL only when this holds for the object and the request (e.g. a checkout by one-time code);
    # otherwise HIDDEN.
    only_if: Callable[[Any, Context], bool] | None = None
    # The rule instead when the object was reached through a list (`members`): lists mask.
    in_lists: Rule | None = None
    # An admin's read of it on one member is written to the audit log as this part of its data.
    audited_as: str | None = None


FULL = Rule(Access.FULL)
HIDDEN = Rule(Access.HIDDEN)


def masked(mask: Callable[[Any], Any]) -> Rule:
    return Rule(Access.MASKED, mask=mask)


FieldPolicy = Mapping[Viewer, Rule]


def seen_by(default: Rule = HIDDEN, **rules: Rule) -> FieldPolicy:
    """A field's rule per viewer: those named (member_self=FULL ...), the rest `default`."""
    named = {Viewer[name.upper()]: rule for name, rule in rules.items()}
    return {viewer: named.get(viewer, default) for viewer in Viewer}


# Every field in full to whoever reaches the object: for types whose objects api/access.py (or a root
# field's guard) already hands out only to those who may read all of them.
EVERYONE = seen_by(default=FULL)
# A member's own history and figures: the member itself and admins.
OWNER_AND_ADMIN = seen_by(member_self=FULL, admin=FULL)


@dataclass(frozen=True)
class TypePolicy:
    fields: Mapping[str, FieldPolicy] = field(default_factory=dict)
    # For the fields not named; `why` says why that is right for them.
    default: FieldPolicy | None = None
    why: str = ""
    # The member an object belongs to (MEMBER_SELF when it is the caller); None: the type belongs to no
    # member, and member callers get one verdict whoever they are (checked by the tests).
    owner: Callable[[Any], int | None] | None = None


REACHED = (
    "every field, to whoever reaches the object: api/access.py or the guard of the field that hands it out"
)
STRUCTURE = "pagination structure: what it pages is governed by its node type"
ANSWER = "a mutation's answer to its own caller; the objects in it follow their own types' policies"
ROOT = "root fields: each is guarded by its permission classes (api/permissions.py)"


def reached(why: str = REACHED) -> TypePolicy:
    return TypePolicy(default=EVERYONE, why=why)


def _funds(offer: Any, context: Context) -> bool:
    funder = offer_funder(context.actor)
    return funder is not None and any((f.kind, f.funder_id) == funder for f in offer.source.funding)


def _by_code(qualification: Any, context: Context) -> bool:
    return bool(qualification.presented_by_code)


POLICY: dict[str, TypePolicy] = {
    "Member": TypePolicy(
        owner=lambda m: m.id,
        fields={
            "id": EVERYONE,
            # A merchant knows the member by the name the till may greet it by, masked, its tier and
            # its own reference; nothing else.
            "displayName": seen_by(
                member_self=FULL, admin=masked(dm.mask_display_name), merchant=masked(dm.mask_display_name)
            ),
            "tier": seen_by(member_self=FULL, admin=FULL, merchant=FULL),
            "memberRef": seen_by(merchant=FULL),
            "externalRef": OWNER_AND_ADMIN,
            "status": OWNER_AND_ADMIN,
            "statusReason": OWNER_AND_ADMIN,
            "referralCode": OWNER_AND_ADMIN,
            "enrolledAt": OWNER_AND_ADMIN,
            "lastActivityAt": OWNER_AND_ADMIN,
            "dormantSince": OWNER_AND_ADMIN,
            "marketingConsent": OWNER_AND_ADMIN,
            "marketingConsentAt": OWNER_AND_ADMIN,
            "closedAt": OWNER_AND_ADMIN,
            "pointsForfeitAt": OWNER_AND_ADMIN,
            # Personal data: an admin reads it one member at a time, and each such read is audited;
            # lists show contact data masked (MemberContact) and no profile.
            "contact": seen_by(
                member_self=FULL, admin=Rule(Access.FULL, audited_as="contact", in_lists=FULL)
            ),
            "profile": seen_by(
                member_self=FULL, admin=Rule(Access.FULL, audited_as="profile", in_lists=HIDDEN)
            ),
            "balance": OWNER_AND_ADMIN,
            "tierProgress": OWNER_AND_ADMIN,
            "merchantLinks": OWNER_AND_ADMIN,
            "tierHistory": OWNER_AND_ADMIN,
            "insights": OWNER_AND_ADMIN,
            "ledger": OWNER_AND_ADMIN,
            "eligibleOffers": OWNER_AND_ADMIN,
            "recommendedOffers": OWNER_AND_ADMIN,
            "coupons": OWNER_AND_ADMIN,
            "redemptions": OWNER_AND_ADMIN,
            "purchases": OWNER_AND_ADMIN,
        },
    ),
    "MemberContact": TypePolicy(
        owner=lambda c: c.member_id,
        fields={
            "phone": seen_by(member_self=FULL, admin=Rule(Access.FULL, in_lists=masked(dm.mask_phone))),
            "email": seen_by(member_self=FULL, admin=Rule(Access.FULL, in_lists=masked(dm.mask_email))),
        },
    ),
    "MemberProfile": reached("personal data, handed out whole by Member.profile (owner; admin, audited)"),
    "PointsBalance": reached("a member's figures, handed out whole by Member.balance (owner and admin)"),
    "ExpiringPoints": reached("inside PointsBalance, which only the member and admins see"),
    "LedgerEntry": reached("inside Member.ledger, which only the member and admins see"),
    "TierChange": reached("inside Member.tierHistory, which only the member and admins see"),
    "TierProgress": reached("from Member.tierProgress, which only the member and admins see"),
    "MemberInsights": reached("from Member.insights, which only the member and admins see"),
    "ActivityWindow": reached("inside MemberInsights, which only the member and admins see"),
    "CategorySpend": reached("inside MemberInsights, which only the member and admins see"),
    "ChannelUse": reached("inside MemberInsights, which only the member and admins see"),
    "MerchantSpend": reached("inside MemberInsights, which only the member and admins see"),
    "MonthlySpend": reached("inside MemberInsights, which only the member and admins see"),
    "Coupon": reached("from Member.coupons (the member and admins) and its claim or generation mutations"),
    "MerchantLink": reached("from memberLinks (the merchant's own) and Member.merchantLinks (owner, admin)"),
    "Offer": TypePolicy(
        default=EVERYONE,
        why=REACHED + " (funders, admins, and members it is eligible for)",
        fields={
            "usage": seen_by(
                admin=FULL,
                merchant=Rule(Access.FULL, only_if=_funds),
                partner=Rule(Access.FULL, only_if=_funds),
            ),
            # Whom it is aimed at is the marketer's business: admins and its funders.
            "segmentIds": seen_by(
                admin=FULL,
                merchant=Rule(Access.FULL, only_if=_funds),
                partner=Rule(Access.FULL, only_if=_funds),
            ),
            # Members never learn their arm, nor that a holdout exists: admins only.
            "experiment": seen_by(admin=FULL),
            # Filled only in Member.eligibleOffers and Member.recommendedOffers (OWNER_AND_ADMIN above);
            # empty or null elsewhere.
            "reasons": EVERYONE,
            "estimate": EVERYONE,
        },
    ),
    "OfferExperiment": reached("from Offer.experiment, which only admins see"),
    "OfferVariant": reached("inside OfferExperiment, which only admins see"),
    "ExperimentAssignment": reached("inside OfferExperiment.assignments, which only admins see"),
    "RecommendedOffer": reached("inside Member.recommendedOffers, which only the member and admins see"),
    "RecommendationReason": reached("inside RecommendedOffer, which only the member and admins see"),
    "OfferEstimate": reached(
        "from Offer.estimate, filled only in Member.eligibleOffers (the member, admins)"
    ),
    "Qualification": TypePolicy(
        owner=lambda q: q.member_id,
        default=EVERYONE,
        why="qualifyPurchase's dry run, to the caller that named the member",
        fields={
            # The balance only inside a checkout: a merchant with the member's one-time code.
            "availablePoints": seen_by(member_self=FULL, merchant=Rule(Access.FULL, only_if=_by_code)),
        },
    ),
    "AuthorizeRedemptionPayload": TypePolicy(
        default=EVERYONE,
        why=ANSWER,
        fields={"availablePoints": seen_by(merchant=FULL)},  # it holds the member's one-time code
    ),
    "Voucher": TypePolicy(
        owner=lambda v: v.member_id,
        default=EVERYONE,
        why=REACHED + " (Redemption.voucher: the member and admins; redeemVoucher: the merchant)",
        # The member's to show; not even admins read it (a merchant is handed it by the member).
        fields={"code": seen_by(member_self=FULL)},
    ),
    "SettlementImport": reached("from settlementImport, which answers only the merchant that uploaded it"),
    "SettlementLineError": reached("inside SettlementImport.errors, the uploading merchant's own"),
    "Query": reached(ROOT),
    "Mutation": reached(ROOT),
}

# The catalogue, the history objects each governed by api/access.py, aggregates and value types.
for _name in [
    "Adjustment",
    "Expiration",
    "MemberAward",
    "Transfer",
    "Purchase",
    "Refund",
    "Redemption",
    "Merchant",
    "PartnerBrand",
    "Tier",
    "Reward",
    "ProgrammeSettings",
    "LifecycleRules",  # lifecycleRules and its update: admins only
    "Segment",  # segments, segmentPreview and node(id): admins only (api/types/segments.py may_read)
    "SegmentRule",
    "SegmentCondition",
    "SegmentSize",
    "SegmentPreview",
    "CampaignReport",
    "CampaignMoney",
    "CampaignBonuses",
    # campaignReport's experiment section: admins and the offer's funders, like the report
    "CampaignExperiment",
    "CampaignArm",
    "SpendInterval",
    "ConversionTest",
    "ArmFunderCost",
    "SampleRatioCheck",
    "BudgetBurn",
    "CampaignSeriesPoint",
    "FundedCost",
    "FundingShare",
    "OfferAward",
    "OfferSkip",
    "OfferSegment",
    "OfferUsage",
    "Money",
    "AuditLogEntry",
    "SecurityEvent",
    "RiskRule",  # riskRules and riskReviews: admins only
    "RiskReview",
    "RiskRuleOutcome",
    # purchases and refunds: a merchant's own (ADMIN names one); their totals are the same list's
    "MerchantPurchaseConnection",
    "MerchantRefundConnection",
    "PurchaseTotals",
    "RefundTotals",
    "MoneyTotal",
    "PointValue",
    "PartnerStatement",  # partnerStatement: admins and the partner itself
    "MerchantStatement",  # merchantStatement: admins and the merchant itself
    "StatementLine",
    "StatementTotal",
    "OfferGuard",  # offerGuards and setOfferGuards: admins only
    "WebhookSubscription",  # webhookSubscriptions and the webhook mutations: admins only
    "WebhookDelivery",  # webhookDeliveries and redeliverWebhookEvent: admins only
    "Trigger",  # triggers and the trigger mutations: admins only
    "TriggerCondition",
    "TriggerAction",
    "NotificationSuppression",  # notificationSuppressions: admins only
]:
    POLICY[_name] = reached()
# A reward redemption's voucher: its member and admins (merchants reach only their POS redemptions).
POLICY["Redemption"] = TypePolicy(
    default=EVERYONE, why=REACHED, owner=lambda r: r.member_id, fields={"voucher": OWNER_AND_ADMIN}
)
POLICY["PageInfo"] = reached(STRUCTURE)
_ANSWERS = (
    "UserError AdjustPointsPayload ArchiveOfferPayload CancelRedemptionPayload CaptureRedemptionPayload "
    "ClaimCouponPayload CreateMerchantPayload CreateOfferPayload CreatePartnerBrandPayload "
    "CreateRedemptionCodePayload CreateRewardPayload CreateTierPayload EnrollMemberPayload "
    "EraseMemberPayload FulfilRedemptionPayload GenerateCouponsPayload LinkMerchantPayload "
    "LockMemberPayload OpenRedPacketPayload PauseOfferPayload PostPurchasePayload "
    "QualifyPurchasePayload RedeemRewardPayload RefundPurchasePayload "
    "ResumeOfferPayload TransferPointsPayload UnlinkMerchantPayload UnlockMemberPayload UpdateOfferPayload "
    "CreateSegmentPayload UpdateSegmentPayload ArchiveSegmentPayload ExportSegmentPayload "
    "UpdateProgrammePayload UpdateLifecycleRulesPayload UpdateTierPayload VoidRedemptionPayload "
    "ApproveRiskReviewPayload "
    "RejectRiskReviewPayload UpdateRiskRulePayload RedeemVoucherPayload UpdateMyProfilePayload "
    "CloseMyAccountPayload ReopenMemberPayload SetOfferExperimentPayload SetOfferGuardsPayload "
    "CreateWebhookSubscriptionPayload "
    "UpdateWebhookSubscriptionPayload DisableWebhookSubscriptionPayload RotateWebhookSecretPayload "
    "RedeliverWebhookEventPayload CreateTriggerPayload UpdateTriggerPayload PauseTriggerPayload "
    "ResumeTriggerPayload"
)
for _name in _ANSWERS.split():
    POLICY[_name] = reached(ANSWER)


# relay generates one connection and one edge type per paged type: they hold only these fields.
_PAGING = {"Connection": {"pageInfo", "edges"}, "Edge": {"cursor", "node"}}


def type_policy(type_name: str) -> TypePolicy | None:
    """A type's entry; relay's generated connection and edge types page their node type."""
    found = POLICY.get(type_name)
    if found is None and any(type_name.endswith(suffix) for suffix in _PAGING):
        return reached(STRUCTURE)
    return found


def _is_paging(type_: GraphQLObjectType) -> bool:
    return any(
        type_.name.endswith(suffix) and set(type_.fields) == names for suffix, names in _PAGING.items()
    )


def field_policy(type_name: str, field_name: str) -> FieldPolicy | None:
    entry = type_policy(type_name)
    if entry is None:
        return None
    return entry.fields.get(field_name, entry.default)


def viewer_of(actor: Actor | None, owner: int | None) -> Viewer:
    if actor is None:
        return Viewer.ANONYMOUS
    role = actor.role
    if role is Role.MEMBER:
        return Viewer.MEMBER_OTHER if owner is not None and owner != actor.member_id else Viewer.MEMBER_SELF
    return _VIEWERS[role]


_VIEWERS = {
    Role.MERCHANT: Viewer.MERCHANT,
    Role.PROCESSOR: Viewer.PROCESSOR,
    Role.PARTNER: Viewer.PARTNER,
    Role.ADMIN: Viewer.ADMIN,
}


def rule_for(entry: TypePolicy, policy: FieldPolicy, source: Any, context: Context) -> Rule:
    """The rule that applies to this object for this caller."""
    owner = entry.owner(source) if entry.owner is not None else None
    rule = policy[viewer_of(context.actor, owner)]
    if rule.in_lists is not None and getattr(source, "listed", False):
        rule = rule.in_lists
    if rule.only_if is not None and not rule.only_if(source, context):
        return HIDDEN
    return rule


def _is_everyone(policy: FieldPolicy) -> bool:
    return all(rule == FULL for rule in policy.values())


def _can_hide(policy: FieldPolicy) -> bool:
    rules = [*policy.values(), *(r.in_lists for r in policy.values() if r.in_lists is not None)]
    return any(r.access is Access.HIDDEN or r.only_if is not None for r in rules)


def _never() -> Any:
    raise AssertionError("a field that is never hidden was hidden")


class PolicyGap(Exception):
    """The schema has a field the policy does not cover, or one it cannot apply."""


def _hidden_value(graphql_field: GraphQLField) -> Callable[[], Any]:
    """What a hidden field answers: null, an empty list, or an empty page."""
    type_ = graphql_field.type
    if not isinstance(type_, GraphQLNonNull):
        return lambda: None
    inner = type_.of_type
    if isinstance(inner, GraphQLList):
        return list
    named = get_named_type(inner)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        return lambda: relay.Connection(
            edges=[],
            page_info=relay.PageInfo(
                has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
            ),
        )
    raise PolicyGap(f"{graphql_field} is non-null and cannot be hidden")


def _guard(
    type_name: str, field_name: str, entry: TypePolicy, policy: FieldPolicy, graphql_field: GraphQLField
) -> Callable[..., Any]:
    resolve = graphql_field.resolve or default_field_resolver
    hidden = _hidden_value(graphql_field) if _can_hide(policy) else _never

    def guarded(source: Any, info: Any, **kwargs: Any) -> Any:
        context: Context = info.context
        rule = rule_for(entry, policy, source, context)
        if rule.access is Access.HIDDEN:
            return hidden()
        result = resolve(source, info, **kwargs)
        if rule.access is Access.MASKED:
            assert rule.mask is not None
            return _masked(result, rule.mask) if inspect.isawaitable(result) else rule.mask(result)
        if rule.audited_as is not None and not getattr(source, "listed", False):
            assert entry.owner is not None
            return _audited(result, context, entry.owner(source), rule.audited_as)
        return result

    guarded.__name__ = f"guarded_{type_name}_{field_name}"
    return guarded


async def _masked(result: Any, mask: Callable[[Any], Any]) -> Any:
    return mask(await result)


async def _audited(result: Any, context: Context, member_id: int | None, part: str) -> Any:
    value = await result if inspect.isawaitable(result) else result
    # Written before the data leaves: if the audit row cannot be written, the data is not shown. An
    # empty part (an erased member's) shows nothing personal and is not a read worth a row.
    if member_id is not None and _holds_data(value):
        await record_personal_read(context, member_id, part)
    return value


def _holds_data(value: Any) -> bool:
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is None:
        return value is not None
    return any(
        getattr(value, f.python_name) not in (None, [], "")
        for f in definition.fields
        if f.type_annotation is None or not is_private(f.type_annotation.annotation)
    )


def object_types(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    return [
        t
        for name, t in sorted(schema.type_map.items())
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    ]


def gaps(schema: GraphQLSchema) -> list[str]:
    """Every field the policy does not cover, and every non-null field it would hide."""
    missing: list[str] = []
    for type_ in object_types(schema):
        entry = type_policy(type_.name)
        if entry is None or (type_.name not in POLICY and not _is_paging(type_)):
            missing.append(type_.name)
            continue
        missing.extend(
            f"{type_.name}.{name} (named but not in the schema)"
            for name in entry.fields
            if name not in type_.fields
        )
        for name, graphql_field in type_.fields.items():
            policy = field_policy(type_.name, name)
            if policy is None:
                missing.append(f"{type_.name}.{name}")
                continue
            if _can_hide(policy):
                try:
                    _hidden_value(graphql_field)
                except PolicyGap:
                    missing.append(f"{type_.name}.{name} (non-null, so it cannot be hidden)")
    return missing


def guard_schema(schema: GraphQLSchema) -> int:
    """Wrap the resolver of every field whose policy is not "everyone in full"; returns how many."""
    missing = gaps(schema)
    if missing:
        raise PolicyGap("fields without a field policy: " + ", ".join(missing))
    wrapped = 0
    for type_ in object_types(schema):
        entry = type_policy(type_.name)
        assert entry is not None
        for name, graphql_field in type_.fields.items():
            policy = field_policy(type_.name, name)
            assert policy is not None
            if _is_everyone(policy):
                continue
            graphql_field.resolve = _guard(type_.name, name, entry, policy, graphql_field)
            wrapped += 1
    return wrapped
