"""Batch readers (lists aligned with the requested ids) and keyset pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, Table, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.audit import AuditEntry, AuditFilter
from domain.ledger import MemberPosting
from domain.member_links import MerchantLink
from domain.members import Balance, Member, MemberStatus
from domain.merchants import Channel, Merchant, MerchantCategory, PartnerBrand
from domain.movements import Expiration, MemberAward, Transfer
from domain.offers import Award, CampaignTotals, FundedCost, FunderKind, Mechanic, Offer, OfferStatus
from domain.ports import ExpiringPoints, MemberFilter
from domain.profiles import DayActivity, LifecycleRules
from domain.programme import Programme
from domain.purchases import Adjustment, Purchase
from domain.refunds import Refund, award_net
from domain.rewards import Redemption, Reward
from domain.security import SecurityEvent
from domain.segments import Rule, RuleContext, Segment, SegmentStatus
from domain.tiers import Qualification, Tier, TierChange
from domain.vouchers import Voucher
from persistence import mapping, offer_codec, segment_sql
from persistence.catalogue import Catalogue, cache_for
from persistence.disconnects import read_retrying
from persistence.personal_data import PersonalDataVault, vault_for
from persistence.queries.campaign_bonuses import bonus_totals
from persistence.repositories.segments import segment as segment_of
from persistence.repositories.tiers import NO_CURRENCY, load_ladder, qualification_statement
from persistence.repositories.vouchers import voucher
from persistence.tables import (
    adjustments,
    audit_log,
    award_funding,
    expirations,
    journal_entries,
    journal_lines,
    lifecycle_rules,
    member_activity_days,
    member_awards,
    member_balances,
    member_links,
    members,
    merchants,
    offer_funders,
    offers,
    partner_brands,
    points_lots,
    purchase_awards,
    purchases,
    redemptions,
    refunds,
    rewards,
    security_events,
    segment_members,
    segment_sizes,
    segments,
    tier_changes,
    transfers,
    vouchers,
)

T = TypeVar("T")


def _by_ids_statement(table: Table, key: str = "id") -> Select[Any]:
    # Built once: a statement object memoizes its cache key, so each use skips building and hashing it.
    return select(table).where(table.c[key].in_(bindparam("ids", expanding=True)))


_MEMBERS_WITH_BALANCES = (
    select(
        members,
        member_balances.c.dormant_since,
        member_balances.c.last_activity_at,
        *(c.label(f"balance_{c.key}") for c in member_balances.c),
    )
    .join(member_balances, member_balances.c.member_id == members.c.id)
    .where(members.c.id.in_(bindparam("ids", expanding=True)))
)
# A member's shown status needs the dormancy mark its balance row keeps.
_MEMBERS = select(members, member_balances.c.dormant_since, member_balances.c.last_activity_at).join(
    member_balances, member_balances.c.member_id == members.c.id
)
_BY_IDS = {
    "members": _MEMBERS.where(members.c.id.in_(bindparam("ids", expanding=True))),
} | {
    name: _by_ids_statement(table, key)
    for name, table, key in (
        ("balances", member_balances, "member_id"),
        ("merchants", merchants, "id"),
        ("partners", partner_brands, "id"),
        ("rewards", rewards, "id"),
        ("purchases", purchases, "id"),
        ("refunds", refunds, "id"),
        ("redemptions", redemptions, "id"),
        ("adjustments", adjustments, "id"),
        ("transfers", transfers, "id"),
        ("expirations", expirations, "id"),
        ("member_awards", member_awards, "id"),
        ("offers", offers, "id"),
        ("vouchers", vouchers, "redemption_id"),
    )
}


def _offer(row: Row[Any]) -> Offer:
    return offer_codec.from_json(row.id, row.version, OfferStatus(row.status), row.definition)


_LEDGER_PAGE = (
    select(
        journal_lines.c.id,
        journal_lines.c.entry_id,
        journal_lines.c.member_id,
        journal_lines.c.account_kind,
        journal_lines.c.amount,
        journal_entries.c.kind,
        journal_entries.c.origin_type,
        journal_entries.c.origin_id,
        journal_entries.c.description,
        journal_entries.c.created_at,
    )
    .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
    .where(journal_lines.c.member_id == bindparam("member_id"))
    .order_by(journal_lines.c.id.desc())
    .limit(bindparam("limit"))
)
_LEDGER_PAGE_BEFORE = _LEDGER_PAGE.where(journal_lines.c.id < bindparam("before"))
_QUALIFICATIONS = qualification_statement(by_member=True)


_STANDING = member_links.c.unlinked_at.is_(None)


class SqlReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.vault = vault_for(engine)

    async def _read(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Every read: its own short connection, tried again once if that connection was gone."""

        async def attempt() -> T:
            async with self.engine.connect() as conn:
                return await read(conn)

        return await read_retrying(attempt)

    async def _rows(self, statement: Select[Any], params: dict[str, Any] | None = None) -> Sequence[Row[Any]]:
        async def rows(conn: AsyncConnection) -> Sequence[Row[Any]]:
            return (await conn.execute(statement, params)).all()

        return await self._read(rows)

    async def _by_ids(
        self, name: str, ids: Sequence[int], convert: Callable[[Row[Any]], T], key: str = "id"
    ) -> list[T | None]:
        if not ids:
            return []
        rows = await self._rows(_BY_IDS[name], {"ids": sorted(set(ids))})
        found = {getattr(row, key): convert(row) for row in rows}
        return [found.get(i) for i in ids]

    async def members(self, ids: Sequence[int]) -> list[Member | None]:
        return await self._by_ids("members", ids, self._member)

    async def members_with_balances(self, ids: Sequence[int]) -> list[tuple[Member, Balance] | None]:
        """Members and their balances in one statement: a wallet almost always asks for both."""
        if not ids:
            return []
        rows = await self._rows(_MEMBERS_WITH_BALANCES, {"ids": sorted(set(ids))})
        found = {row.id: (self._member(row), mapping.balance_from_prefixed(row)) for row in rows}
        return [found.get(i) for i in ids]

    async def balances(self, member_ids: Sequence[int]) -> list[Balance | None]:
        return await self._by_ids("balances", member_ids, mapping.balance, key="member_id")

    async def merchants(self, ids: Sequence[int]) -> list[Merchant | None]:
        return await self._by_ids("merchants", ids, mapping.merchant)

    async def partners(self, ids: Sequence[int]) -> list[PartnerBrand | None]:
        return await self._by_ids("partners", ids, mapping.partner)

    async def rewards(self, ids: Sequence[int]) -> list[Reward | None]:
        return await self._by_ids("rewards", ids, mapping.reward)

    async def purchases(self, ids: Sequence[int]) -> list[Purchase | None]:
        return await self._by_ids("purchases", ids, mapping.purchase)

    async def refunds(self, ids: Sequence[int]) -> list[Refund | None]:
        return await self._by_ids("refunds", ids, mapping.refund)

    async def purchase_refunds(self, purchase_ids: Sequence[int]) -> list[list[Refund]]:
        if not purchase_ids:
            return []
        rows = await self._rows(
            select(refunds)
            .where(refunds.c.purchase_id.in_(set(purchase_ids)))
            .order_by(refunds.c.purchase_id, refunds.c.id)
        )
        by_purchase: dict[int, list[Refund]] = defaultdict(list)
        for row in rows:
            by_purchase[row.purchase_id].append(mapping.refund(row))
        return [by_purchase.get(i, []) for i in purchase_ids]

    async def redemptions(self, ids: Sequence[int]) -> list[Redemption | None]:
        return await self._by_ids("redemptions", ids, mapping.redemption)

    async def vouchers(self, redemption_ids: Sequence[int]) -> list[Voucher | None]:
        return await self._by_ids(
            "vouchers", redemption_ids, lambda row: voucher(row, self.vault), key="redemption_id"
        )

    async def adjustments(self, ids: Sequence[int]) -> list[Adjustment | None]:
        return await self._by_ids("adjustments", ids, mapping.adjustment)

    async def transfers(self, ids: Sequence[int]) -> list[Transfer | None]:
        return await self._by_ids("transfers", ids, mapping.transfer)

    async def expirations(self, ids: Sequence[int]) -> list[Expiration | None]:
        return await self._by_ids("expirations", ids, mapping.expiration)

    async def member_awards(self, ids: Sequence[int]) -> list[MemberAward | None]:
        return await self._by_ids("member_awards", ids, mapping.member_award)

    async def expiring(self, member_ids: Sequence[int], until: datetime) -> list[list[ExpiringPoints]]:
        if not member_ids:
            return []
        rows = await self._rows(
            select(
                points_lots.c.member_id,
                points_lots.c.expires_at,
                func.sum(points_lots.c.remaining).label("points"),
            )
            .where(
                points_lots.c.member_id.in_(set(member_ids)),
                points_lots.c.remaining > 0,
                points_lots.c.expires_at <= until,
            )
            .group_by(points_lots.c.member_id, points_lots.c.expires_at)
            .order_by(points_lots.c.expires_at)
        )
        by_member: dict[int, list[ExpiringPoints]] = defaultdict(list)
        for row in rows:
            by_member[row.member_id].append(ExpiringPoints(row.member_id, int(row.points), row.expires_at))
        return [by_member.get(m, []) for m in member_ids]

    async def activity(self, member_ids: Sequence[int], since: date) -> list[list[DayActivity]]:
        if not member_ids:
            return []
        a = member_activity_days.c
        rows = await self._rows(
            select(member_activity_days, merchants.c.category)
            .join(merchants, merchants.c.id == a.merchant_id)
            .where(a.member_id.in_(set(member_ids)), a.day >= since)
            .order_by(a.member_id, a.day)
        )
        by_member: dict[int, list[DayActivity]] = defaultdict(list)
        for row in rows:
            by_member[row.member_id].append(
                DayActivity(
                    row.day,
                    row.merchant_id,
                    MerchantCategory(row.category),
                    Channel(row.channel),
                    row.currency,
                    row.purchases,
                    row.spend_minor,
                )
            )
        return [by_member.get(m, []) for m in member_ids]

    async def lifecycle_rules(self) -> LifecycleRules:
        rows = await self._rows(select(lifecycle_rules).where(lifecycle_rules.c.id == 1))
        if not rows:
            return LifecycleRules()
        r = rows[0]
        return LifecycleRules(
            r.new_member_days, r.at_risk_after_days, r.dormant_after_days, r.churned_after_days
        )

    async def segments(self, ids: Sequence[int]) -> list[Segment | None]:
        if not ids:
            return []
        rows = await self._rows(select(segments).where(segments.c.id.in_(set(ids))))
        found = {row.id: segment_of(row) for row in rows}
        return [found.get(i) for i in ids]

    async def segment_page(
        self, after: int | None, limit: int, status: SegmentStatus | None
    ) -> list[Segment]:
        statement = select(segments).order_by(segments.c.id).limit(limit)
        if after is not None:
            statement = statement.where(segments.c.id > after)
        if status is not None:
            statement = statement.where(segments.c.status == status.value)
        return [segment_of(row) for row in await self._rows(statement)]

    async def segment_member_page(self, segment_id: int, after: int | None, limit: int) -> list[Member]:
        sm = segment_members.c
        statement = (
            _MEMBERS.join(segment_members, sm.member_id == members.c.id)
            .where(sm.segment_id == segment_id)
            .order_by(members.c.id)
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(members.c.id > after)
        return [self._member(row) for row in await self._rows(statement)]

    async def segment_preview(self, rule: Rule, ctx: RuleContext, sample: int) -> tuple[int, list[Member]]:
        where = segment_sql.condition(rule, ctx)

        async def read(conn: AsyncConnection) -> tuple[int, list[Member]]:
            size = (
                await conn.execute(select(func.count()).select_from(segment_sql.facts(rule)).where(where))
            ).scalar_one()
            first = (
                select(members.c.id).select_from(segment_sql.facts(rule)).where(where).order_by(members.c.id)
            )
            rows = (await conn.execute(_MEMBERS.where(members.c.id.in_(first.limit(sample))))).all()
            return int(size), [self._member(row) for row in sorted(rows, key=lambda r: r.id)]

        return await self._read(read)

    async def segment_sizes(self, segment_id: int, since: date) -> list[tuple[date, int]]:
        ss = segment_sizes.c
        rows = await self._rows(
            select(ss.day, ss.size).where(ss.segment_id == segment_id, ss.day >= since).order_by(ss.day)
        )
        return [(row.day, int(row.size)) for row in rows]

    async def member_page(self, after: int | None, limit: int, where: MemberFilter) -> list[Member]:
        statement = _MEMBERS.order_by(members.c.id).limit(limit)
        if after is not None:
            statement = statement.where(members.c.id > after)
        if where.status is MemberStatus.DORMANT:
            statement = statement.where(
                members.c.status == MemberStatus.ACTIVE.value, member_balances.c.dormant_since.is_not(None)
            )
        elif where.status is MemberStatus.ACTIVE:
            statement = statement.where(
                members.c.status == MemberStatus.ACTIVE.value, member_balances.c.dormant_since.is_(None)
            )
        elif where.status is not None:
            statement = statement.where(members.c.status == where.status.value)
        if where.external_ref is not None:
            statement = statement.where(members.c.external_ref == where.external_ref)
        # Contact data is found by its keyed hash: the database holds no plain value to compare.
        if where.phone is not None:
            statement = statement.where(members.c.phone_lookup == self.vault.phone_lookup(where.phone))
        if where.email is not None:
            statement = statement.where(members.c.email_lookup == self.vault.email_lookup(where.email))
        if where.name is not None:
            statement = statement.where(_by_name(where.name, self.vault))
        if where.referral_code is not None:
            statement = statement.where(members.c.referral_code == where.referral_code)
        if where.tier_id is not None:
            statement = statement.where(members.c.tier_id == where.tier_id)
        if where.enrolled_from is not None:
            statement = statement.where(members.c.enrolled_at >= where.enrolled_from)
        if where.enrolled_to is not None:
            statement = statement.where(members.c.enrolled_at < where.enrolled_to)
        return [self._member(row) for row in await self._rows(statement)]

    def _member(self, row: Row[Any]) -> Member:
        return mapping.member(row, self.vault)

    async def _page(
        self, table: Table, after: int | None, limit: int, convert: Callable[[Row[Any]], T]
    ) -> list[T]:
        statement = select(table).order_by(table.c.id).limit(limit)
        if after is not None:
            statement = statement.where(table.c.id > after)
        return [convert(row) for row in await self._rows(statement)]

    async def merchant_page(self, after: int | None, limit: int) -> list[Merchant]:
        return await self._page(merchants, after, limit, mapping.merchant)

    async def partner_page(self, after: int | None, limit: int) -> list[PartnerBrand]:
        return await self._page(partner_brands, after, limit, mapping.partner)

    async def reward_page(self, after: int | None, limit: int, active_only: bool) -> list[Reward]:
        statement = select(rewards).order_by(rewards.c.id).limit(limit)
        if after is not None:
            statement = statement.where(rewards.c.id > after)
        if active_only:
            statement = statement.where(rewards.c.active.is_(True))
        return [mapping.reward(row) for row in await self._rows(statement)]

    async def ledger_page(self, member_id: int, before: int | None, limit: int) -> list[MemberPosting]:
        # Newest first along the (member_id, id) index: the cost does not grow with the ledger.
        statement = _LEDGER_PAGE if before is None else _LEDGER_PAGE_BEFORE
        params = {"member_id": member_id, "before": before, "limit": limit}
        return [mapping.member_posting(row) for row in await self._rows(statement, params)]

    async def security_event_page(self, before: int | None, limit: int) -> list[SecurityEvent]:
        statement = select(security_events).order_by(security_events.c.id.desc()).limit(limit)
        if before is not None:
            statement = statement.where(security_events.c.id < before)
        return [mapping.security_event(row) for row in await self._rows(statement)]

    async def audit_page(self, before: int | None, limit: int, where: AuditFilter) -> list[AuditEntry]:
        statement = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before is not None:
            statement = statement.where(audit_log.c.id < before)
        if where.actor is not None:
            statement = statement.where(audit_log.c.actor == where.actor)
        if where.action is not None:
            statement = statement.where(audit_log.c.action == where.action)
        if where.member_id is not None:
            statement = statement.where(audit_log.c.member_id == where.member_id)
        if where.since is not None:
            statement = statement.where(audit_log.c.created_at >= where.since)
        if where.until is not None:
            statement = statement.where(audit_log.c.created_at < where.until)
        return [mapping.audit_entry(row) for row in await self._rows(statement)]

    async def redemption_page(self, member_id: int, before: int | None, limit: int) -> list[Redemption]:
        statement = (
            select(redemptions)
            .where(redemptions.c.member_id == member_id)
            .order_by(redemptions.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(redemptions.c.id < before)
        return [mapping.redemption(row) for row in await self._rows(statement)]

    async def offers(self, ids: Sequence[int]) -> list[Offer | None]:
        return await self._by_ids("offers", ids, _offer)

    async def offer_usage(self, ids: Sequence[int]) -> list[tuple[int, int, int] | None]:
        rows = await self._rows(
            select(offers.c.id, offers.c.points_used, offers.c.money_used_minor, offers.c.uses).where(
                offers.c.id.in_(set(ids))
            )
        )
        found = {row.id: (row.points_used, row.money_used_minor, row.uses) for row in rows}
        return [found.get(i) for i in ids]

    async def offer_page(
        self,
        after: int | None,
        limit: int,
        funder: tuple[FunderKind, int] | None,
        status: OfferStatus | None = None,
    ) -> list[Offer]:
        statement = select(offers).order_by(offers.c.id).limit(limit)
        if status is not None:
            statement = statement.where(offers.c.status == status.value)
        if after is not None:
            statement = statement.where(offers.c.id > after)
        if funder is not None:
            statement = statement.where(
                offers.c.id.in_(
                    select(offer_funders.c.offer_id).where(
                        offer_funders.c.funder_kind == funder[0].value, offer_funders.c.funder_id == funder[1]
                    )
                )
            )
        return [_offer(row) for row in await self._rows(statement)]

    async def awards(self, purchase_ids: Sequence[int]) -> list[list[Award]]:
        """What offers gave each purchase, in award order."""
        if not purchase_ids:
            return []
        rows = await self._rows(
            select(
                purchase_awards,
                award_funding.c.funder_kind,
                award_funding.c.funder_id,
                award_funding.c.points.label("funded_points"),
                award_funding.c.money_minor,
            )
            .join(award_funding, award_funding.c.award_id == purchase_awards.c.id)
            .where(purchase_awards.c.purchase_id.in_(set(purchase_ids)))
            .order_by(purchase_awards.c.id, award_funding.c.funder_kind, award_funding.c.funder_id)
        )
        by_award: dict[int, tuple[Any, list[FundedCost]]] = {}
        for row in rows:
            kind = FunderKind(row.funder_kind)
            cost = FundedCost(
                kind,
                None if kind is FunderKind.PROGRAMME else row.funder_id,
                row.funded_points,
                row.money_minor,
            )
            by_award.setdefault(row.id, (row, []))[1].append(cost)
        by_purchase: dict[int, list[Award]] = defaultdict(list)
        for row, costs in by_award.values():
            by_purchase[row.purchase_id].append(
                Award(
                    row.offer_id,
                    row.offer_version,
                    Mechanic(row.mechanic),
                    row.points,
                    row.discount_minor,
                    row.cashback_minor,
                    tuple(costs),
                )
            )
        return [by_purchase.get(i, []) for i in purchase_ids]

    async def campaign_totals(self, offer_id: int) -> CampaignTotals:
        """An offer's results net of refunds, as its usage counters count them (ledger_check's
        offer_usage): a purchase and its member count until a refund returns the award's use, and
        points, money, spend and each funder's share drop by what refunds gave back."""
        return await self._read(lambda conn: _campaign_totals(conn, offer_id))

    async def merchant_knows_member(self, merchant_id: int, member_id: int) -> bool:
        return bool(await self.member_refs(merchant_id, [member_id]) != [None])

    async def member_links(self, member_id: int) -> list[MerchantLink]:
        c = member_links.c
        statement = select(member_links).where(c.member_id == member_id, _STANDING).order_by(c.id.desc())
        return [mapping.member_link(row) for row in await self._rows(statement)]

    async def merchant_link_page(self, merchant_id: int, after: int | None, limit: int) -> list[MerchantLink]:
        c = member_links.c
        statement = (
            select(member_links)
            .where(c.merchant_id == merchant_id, _STANDING)
            .order_by(c.member_id)
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(c.member_id > after)
        return [mapping.member_link(row) for row in await self._rows(statement)]

    async def member_refs(self, merchant_id: int, member_ids: Sequence[int]) -> list[str | None]:
        c = member_links.c
        rows = await self._rows(
            select(c.member_id, c.member_ref).where(
                c.merchant_id == merchant_id, c.member_id.in_(list(member_ids)), _STANDING
            )
        )
        refs = {row.member_id: row.member_ref for row in rows}
        return [refs.get(member_id) for member_id in member_ids]

    async def programme(self) -> Programme:
        """The programme's settings, from this process's catalogue cache (one version check)."""
        return await self._read(lambda conn: Catalogue(conn, cache_for(self.engine)).programme())

    async def tiers(self) -> list[Tier]:
        async def ladder(conn: AsyncConnection) -> list[Tier]:
            return list(await Catalogue(conn, cache_for(self.engine)).tiers(lambda: load_ladder(conn)))

        return await self._read(ladder)

    async def qualifications(
        self, member_ids: Sequence[int], since: datetime, currency: str | None
    ) -> list[Qualification]:
        if not member_ids:
            return []
        rows = await self._rows(
            _QUALIFICATIONS,
            {"ids": sorted(set(member_ids)), "since": since, "currency": currency or NO_CURRENCY},
        )
        found = {row.member_id: Qualification(int(row.points), int(row.spend_minor)) for row in rows}
        return [found.get(i, Qualification()) for i in member_ids]

    async def tier_change_page(self, member_id: int, before: int | None, limit: int) -> list[TierChange]:
        statement = (
            select(tier_changes)
            .where(tier_changes.c.member_id == member_id)
            .order_by(tier_changes.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(tier_changes.c.id < before)
        return [mapping.tier_change(row) for row in await self._rows(statement)]


def _by_name(name: str, vault: PersonalDataVault) -> ColumnElement[bool]:
    """The display name is an email when it has an @, else a phone number: one keyed-hash index."""
    if "@" in name:
        return members.c.email_lookup == vault.email_lookup(name)
    return members.c.phone_lookup == vault.phone_lookup(name)


async def _campaign_totals(conn: AsyncConnection, offer_id: int) -> CampaignTotals:
    a = purchase_awards.c
    counted = ~a.use_returned
    head = (
        await conn.execute(
            select(
                func.count(case((counted, 1))),
                func.count(func.distinct(case((counted, a.member_id)))),
                func.coalesce(func.sum(a.points - a.refunded_points), 0),
            ).where(a.offer_id == offer_id)
        )
    ).one()
    money = await conn.execute(
        select(
            a.currency,
            func.sum(purchases.c.amount_minor - purchases.c.refunded_minor),
            func.sum(a.discount_minor),
            func.sum(a.cashback_minor),
        )
        .join(purchases, purchases.c.id == a.purchase_id)
        .where(a.offer_id == offer_id)
        .group_by(a.currency)
    )
    by_currency = {row[0]: [int(row[1]), int(row[2]), int(row[3])] for row in money}
    funding = await conn.execute(
        select(
            award_funding.c.funder_kind,
            award_funding.c.funder_id,
            func.sum(award_funding.c.points),
            func.sum(award_funding.c.money_minor),
        )
        .join(purchase_awards, a.id == award_funding.c.award_id)
        .where(a.offer_id == offer_id)
        .group_by(award_funding.c.funder_kind, award_funding.c.funder_id)
    )
    by_funder = {(row[0], row[1]): [int(row[2]), int(row[3])] for row in funding}
    # The few awards refunds gave something back from, split in Python as give_back split them.
    refunded = await conn.execute(
        select(
            a.id,
            a.currency,
            a.discount_minor,
            a.cashback_minor,
            a.refunded_points,
            a.refunded_money_minor,
            award_funding.c.funder_kind,
            award_funding.c.funder_id,
            award_funding.c.points,
            award_funding.c.money_minor,
        )
        .join(award_funding, award_funding.c.award_id == a.id)
        .where(a.offer_id == offer_id, or_(a.refunded_points > 0, a.refunded_money_minor > 0))
        .order_by(a.id, award_funding.c.funder_kind, award_funding.c.funder_id)
    )
    for _, award_rows in groupby(refunded, key=lambda row: row.id):
        rows = list(award_rows)
        first = rows[0]
        given = [FundedCost(FunderKind(r.funder_kind), r.funder_id, r.points, r.money_minor) for r in rows]
        net = award_net(
            first.discount_minor,
            first.cashback_minor,
            given,
            first.refunded_points,
            first.refunded_money_minor,
        )
        totals = by_currency[first.currency]
        totals[1] -= first.discount_minor - net.discount_minor
        totals[2] -= first.cashback_minor - net.cashback_minor
        for gross, kept in zip(given, net.funding, strict=True):
            funder = by_funder[(gross.kind.value, gross.funder_id)]
            funder[0] -= gross.points - kept.points
            funder[1] -= gross.money_minor - kept.money_minor
    costs = tuple(
        FundedCost(FunderKind(kind), None if kind == FunderKind.PROGRAMME.value else funder_id, p, m)
        for (kind, funder_id), (p, m) in sorted(by_funder.items())
    )
    return CampaignTotals(
        offer_id,
        int(head[0]),
        int(head[1]),
        int(head[2]),
        tuple((c, spend, off, back) for c, (spend, off, back) in sorted(by_currency.items())),
        costs,
        await bonus_totals(conn, offer_id),
    )
