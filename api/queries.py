"""The Query root."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from api.access import funds_offer, lists_inactive_rewards, offer_funder, sees_everything
from api.context import Info
from api.errors import bad_input
from api.permissions import ADMIN, ADMIN_OR_MERCHANT, AUTHENTICATED, MEMBER, MERCHANT
from api.types.campaign_arms import experiment_report
from api.types.catalogue import Merchant, PartnerBrand, Reward
from api.types.enums import MemberStatus
from api.types.experiments import Granularity, GranularityArgument
from api.types.ids import try_decode_id
from api.types.links import MerchantLink
from api.types.members import Member, load_member
from api.types.nodes import not_found
from api.types.offers import CampaignReport, Offer, OfferStatus, load_usage
from api.types.pagination import After, First, connection
from api.types.purchase_lists import (
    MerchantIdArg,
    MerchantPurchaseConnection,
    MerchantPurchaseFilter,
    MerchantRefundConnection,
    MerchantRefundFilter,
    merchant_purchases,
    merchant_refunds,
)
from api.types.security import AuditLogEntry, AuditLogFilter, SecurityEvent
from api.types.settlement_imports import SettlementImport
from api.types.statements import StatementPeriod
from api.types.tiers import Tier
from domain import validation
from domain.audit import AuditFilter
from domain.member_links import MerchantLink as DomainLink
from domain.offers import Offer as DomainOffer
from domain.ports import MemberFilter as MemberQuery


@strawberry.input(description="Narrows the member list; omitted fields do not filter.")
class MemberFilter:
    status: MemberStatus | None = strawberry.field(default=None, description="Only members with this status.")
    external_ref: str | None = strawberry.field(
        default=None, description="Only the member with this externalRef."
    )
    phone: str | None = strawberry.field(
        default=None,
        description="Only members with this phone number (exact; spaces and dashes do not count). "
        "Matched by a keyed hash: the number is stored only encrypted.",
    )
    email: str | None = strawberry.field(
        default=None,
        description="Only members with this email address (exact, ignoring case), by keyed hash.",
    )
    referral_code: str | None = strawberry.field(
        default=None, description="Only the member with this referral code (exact)."
    )
    tier_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only members holding this tier (those on the entry tier hold none)."
    )
    name: str | None = strawberry.field(
        default=None,
        description="Only members with this display name, exact: the programme holds no names, the display "
        "name is the member's phone, else its email, stored only encrypted, so it is matched by keyed hash "
        "(an email when it has an @, else a phone number) and never by substring.",
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="Only members enrolled at or after this time."
    )
    created_to: datetime | None = strawberry.field(
        default=None, description="Only members enrolled before this time."
    )


@strawberry.input(description="Narrows the offer list; omitted fields do not filter.")
class OfferFilter:
    status: OfferStatus | None = strawberry.field(default=None, description="Only offers with this status.")


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Any object by its global id, when the caller may read it (authenticated).",
    )
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="A global id from this API.")],
    ) -> relay.Node | None:
        # A plain resolver rather than relay.node(): that field can be converted into one schema only.
        # Each type's read rule applies (LoadedNode, api/types/nodes.py).
        try:
            id.resolve_type(info)
        except relay.GlobalIDValueError as exc:  # a type we do not have, or one that is not a Node
            raise bad_input("not the id of an object the API serves") from exc
        return await id.resolve_node(info, required=False)

    @strawberry.field(permission_classes=MEMBER, description="The calling member (MEMBER).")
    async def me(self, info: Info) -> Member | None:
        actor = info.context.actor
        if actor is None or actor.member_id is None:
            return None
        member = await load_member(info, actor.member_id)
        return None if member is None or member.source.status is MemberStatus.ERASED else member

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="A member: ADMIN reads any, a MERCHANT those linked to it (authenticated).",
    )
    async def member(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The member's global id.")],
    ) -> Member | None:
        member_id = try_decode_id(id, "Member")
        return None if member_id is None else await load_member(info, member_id)

    @strawberry.field(
        permission_classes=ADMIN,
        description="Members, oldest first, filtered; contact data masked (ADMIN reads one member for it).",
    )
    async def members(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            MemberFilter | None, strawberry.argument(description="Omitted: every member.")
        ] = None,
    ) -> relay.Connection[Member]:
        given = filter or MemberFilter()
        for name, value in (
            ("externalRef", given.external_ref),
            ("phone", given.phone),
            ("email", given.email),
            ("referralCode", given.referral_code),
            ("name", given.name),
        ):
            if value is not None and not validation.is_storable(value):
                raise bad_input(f"`{name}` must be text without NUL or lone surrogates")
        tier_id = None
        if given.tier_id is not None:
            tier_id = try_decode_id(given.tier_id, "Tier")
            if tier_id is None:
                raise bad_input("`tierId` is not a tier's id")
        if given.created_from and given.created_to and given.created_from >= given.created_to:
            raise bad_input("`createdFrom` must be before `createdTo`")
        where = MemberQuery(
            status=given.status,
            external_ref=given.external_ref,
            phone=given.phone,
            email=given.email,
            referral_code=given.referral_code,
            tier_id=tier_id,
            name=given.name,
            enrolled_from=given.created_from,
            enrolled_to=given.created_to,
        )
        return await connection(
            first=first,
            after=after,
            fetch=lambda position, limit: info.context.reader.member_page(position, limit, where),
            key=lambda m: m.id,
            node=lambda m: Member.from_domain(m, listed=True),
        )

    @strawberry.field(
        permission_classes=ADMIN_OR_MERCHANT,
        description="A merchant's purchases newest first, for reconciliation, with totals: a MERCHANT its "
        "own, ADMIN the merchant it names.",
    )
    async def purchases(
        self,
        info: Info,
        merchant_id: MerchantIdArg = None,
        first: First = None,
        after: After = None,
        filter: Annotated[
            MerchantPurchaseFilter | None, strawberry.argument(description="Omitted: every purchase.")
        ] = None,
    ) -> MerchantPurchaseConnection:
        return await merchant_purchases(info, merchant_id, first, after, filter)

    @strawberry.field(
        permission_classes=ADMIN_OR_MERCHANT,
        description="A merchant's refunds newest first, for reconciliation, with totals: a MERCHANT its "
        "own, ADMIN the merchant it names.",
    )
    async def refunds(
        self,
        info: Info,
        merchant_id: MerchantIdArg = None,
        first: First = None,
        after: After = None,
        filter: Annotated[
            MerchantRefundFilter | None, strawberry.argument(description="Omitted: every refund.")
        ] = None,
    ) -> MerchantRefundConnection:
        return await merchant_refunds(info, merchant_id, first, after, filter)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="ADMIN sees every offer; a PARTNER or MERCHANT the offers it funds (authenticated).",
    )
    async def offers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            OfferFilter | None, strawberry.argument(description="Omitted: every offer the caller may see.")
        ] = None,
    ) -> relay.Connection[Offer]:
        actor = info.context.actor
        funder = offer_funder(actor)
        listed = sees_everything(actor) or funder is not None  # members list theirs in me.eligibleOffers

        status = filter.status if filter else None

        async def fetch(position: int | None, limit: int) -> list[DomainOffer]:
            if not listed:
                return []
            return await info.context.reader.offer_page(position, limit, funder, status)

        return await connection(
            first=first, after=after, fetch=fetch, key=lambda o: o.id, node=Offer.from_domain
        )

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="An offer's results: ADMIN, and the PARTNER or MERCHANT that funds it (authenticated).",
    )
    async def campaign_report(
        self,
        info: Info,
        offer_id: Annotated[relay.GlobalID, strawberry.argument(description="The offer's global id.")],
        period: Annotated[
            StatementPeriod | None,
            strawberry.argument(
                description="The experiment's arms over this period (at most 366 days; 31 by HOUR); "
                "omitted: from the experiment's start to now or the offer's end. The totals above "
                "cover the offer's whole life."
            ),
        ] = None,
        granularity: GranularityArgument = Granularity.DAY,
    ) -> CampaignReport | None:
        found = try_decode_id(offer_id, "Offer")
        offer = None if found is None else await info.context.loaders.offers.load(found)
        if offer is None or not funds_offer(info, offer):
            return None
        node = Offer.from_domain(offer)
        totals = await info.context.reader.campaign_totals(offer.id)
        usage = await load_usage(info, offer.id)
        arms = await experiment_report(info, offer, period, granularity)
        return CampaignReport.from_domain(node, totals, usage, arms)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The tier ladder, lowest rank first (any authenticated caller).",
    )
    async def tiers(self, info: Info) -> list[Tier]:
        return [Tier.from_domain(t) for t in await info.context.loaders.ladder()]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The merchants, newest first (any authenticated caller).",
    )
    async def merchants(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Merchant]:
        return await connection(
            first=first,
            after=after,
            fetch=info.context.reader.merchant_page,
            key=lambda m: m.id,
            node=Merchant.from_domain,
        )

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The partner brands, newest first (any authenticated caller).",
    )
    async def partner_brands(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[PartnerBrand]:
        return await connection(
            first=first,
            after=after,
            fetch=info.context.reader.partner_page,
            key=lambda p: p.id,
            node=PartnerBrand.from_domain,
        )

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The reward catalogue; ADMIN also sees inactive rewards (any authenticated caller).",
    )
    async def rewards(self, info: Info, first: First = None, after: After = None) -> relay.Connection[Reward]:
        active_only = not lists_inactive_rewards(info.context.actor)
        return await connection(
            first=first,
            after=after,
            fetch=lambda position, limit: info.context.reader.reward_page(position, limit, active_only),
            key=lambda r: r.id,
            node=Reward.from_domain,
        )

    @strawberry.field(
        permission_classes=MERCHANT,
        description="The members linked to the caller's merchant, with its reference for each (MERCHANT).",
    )
    async def member_links(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[MerchantLink]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        actor = info.context.actor
        merchant_id = actor.merchant_id if actor is not None else None

        async def fetch(after_member: int | None, limit: int) -> list[DomainLink]:
            if merchant_id is None:
                return []
            return await info.context.reader.merchant_link_page(merchant_id, after_member, limit)

        return await connection(
            first=first,
            after=after,
            fetch=fetch,
            key=lambda link: link.member_id,
            node=MerchantLink.from_domain,
        )

    @strawberry.field(
        permission_classes=MERCHANT,
        description="A settlement file's import (uploaded with POST /settlements): its progress and the "
        "lines not posted. The MERCHANT that uploaded it; any other id is NOT_FOUND.",
    )
    async def settlement_import(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="The import's id, as the upload answered it.")
        ],
    ) -> SettlementImport | None:
        import_id = try_decode_id(id, "SettlementImport")
        found = (
            None if import_id is None else await info.context.settlement_imports.settlement_import(import_id)
        )
        actor = info.context.actor
        # Another merchant's import is answered as one that does not exist: no existence oracle.
        if found is None or actor is None or found.merchant_id != actor.merchant_id:
            raise not_found()
        return SettlementImport.from_domain(found)

    @strawberry.field(
        permission_classes=ADMIN, description="Lockouts and other refusals, newest first (ADMIN)."
    )
    async def security_events(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[SecurityEvent]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        return await connection(
            first=first,
            after=after,
            fetch=info.context.reader.security_event_page,
            key=lambda e: e.id or 0,
            node=SecurityEvent.from_domain,
        )

    @strawberry.field(
        permission_classes=ADMIN,
        description="The audit log, newest first: admin actions, erasures, personal-data reads and "
        "security events (ADMIN).",
    )
    async def audit_log(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            AuditLogFilter | None, strawberry.argument(description="Omitted: every row.")
        ] = None,
    ) -> relay.Connection[AuditLogEntry]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        given = filter or AuditLogFilter()
        for name, value in (("actor", given.actor), ("action", given.action)):
            if value is not None and not validation.is_storable(value):
                raise bad_input(f"`{name}` must be text without NUL or lone surrogates")
        member_id = None
        if given.member_id is not None:
            member_id = try_decode_id(given.member_id, "Member")
            if member_id is None:
                raise bad_input("`memberId` is not a member's id")
        where = AuditFilter(
            actor=given.actor, action=given.action, member_id=member_id, since=given.from_, until=given.to
        )
        return await connection(
            first=first,
            after=after,
            fetch=lambda before, limit: info.context.reader.audit_page(before, limit, where),
            key=lambda e: e.id,
            node=AuditLogEntry.from_domain,
        )
