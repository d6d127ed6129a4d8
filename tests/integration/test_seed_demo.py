"""The demo data: seeded through the use cases, so its ledger must be as consistent as real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from domain.clock import FixedClock
from domain.experiments import report as dr
from domain.experiments.model import HOLDOUT
from domain.ledger import AccountKind
from domain.offers import Usage
from persistence import tables as t
from persistence.queries.campaign_arms import SqlCampaignArmsReader
from persistence.queries.ledger_check import check_ledger
from persistence.queries.read_model import SqlReadModel
from scripts.seed_demo import seed
from scripts.seed_experiment import NAME, PANEL
from tests.conftest import Backend

TODAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


async def _scalar(backend: Backend, statement) -> int:
    async with backend.database.read_engine.connect() as conn:
        return (await conn.execute(statement)).scalar_one()


async def test_seed_demo_builds_a_consistent_demo(backend: Backend) -> None:
    await seed(backend.database, FixedClock(TODAY))

    count = func.count()
    assert await _scalar(backend, select(count).select_from(t.members)) == 20 + PANEL
    assert await _scalar(backend, select(count).select_from(t.partner_brands)) >= 2
    assert await _scalar(backend, select(count).select_from(t.rewards)) == 5
    assert await _scalar(backend, select(count).select_from(t.purchases)) > 100
    assert await _scalar(backend, select(count).select_from(t.redemptions)) > 0
    assert await _scalar(backend, select(count).select_from(t.adjustments)) >= 2
    locked = select(count).select_from(t.members).where(t.members.c.status == "LOCKED")
    assert await _scalar(backend, locked) == 1
    # Co-branded offers gave awards through the history, funded by partners among others.
    assert await _scalar(backend, select(count).select_from(t.offers)) >= 4
    assert await _scalar(backend, select(count).select_from(t.purchase_awards)) > 10
    partner_funded = (
        select(count).select_from(t.award_funding).where(t.award_funding.c.funder_kind == "PARTNER")
    )
    assert await _scalar(backend, partner_funded) > 0

    async with backend.database.read_engine.connect() as conn:
        merchants = (await conn.execute(select(t.merchants))).all()
        partner_kinds = set((await conn.execute(select(t.partner_brands.c.kind))).scalars())
        purchase_channels = set((await conn.execute(select(t.purchases.c.channel).distinct())).scalars())
        stocks = list((await conn.execute(select(t.rewards.c.stock))).scalars())
        first, last = (
            await conn.execute(select(func.min(t.purchases.c.created_at), func.max(t.purchases.c.created_at)))
        ).one()
        stored = dict(
            (await conn.execute(select(t.member_balances.c.member_id, t.member_balances.c.available))).all()
        )
        journal = dict(
            (
                await conn.execute(
                    select(t.journal_lines.c.member_id, func.sum(t.journal_lines.c.amount))
                    .where(t.journal_lines.c.account_kind == AccountKind.MEMBER_AVAILABLE.value)
                    .group_by(t.journal_lines.c.member_id)
                )
            ).all()
        )
        lots = dict(
            (
                await conn.execute(
                    select(t.points_lots.c.member_id, func.sum(t.points_lots.c.remaining)).group_by(
                        t.points_lots.c.member_id
                    )
                )
            ).all()
        )
        member_ids = list((await conn.execute(select(t.members.c.id))).scalars())

    categories = {m.category for m in merchants}
    assert {"DINING", "TRAVEL", "ONLINE_SHOPPING"} <= categories
    assert {"ONLINE", "OFFLINE"} <= {m.channel for m in merchants}
    assert purchase_channels == {"ONLINE", "OFFLINE"}
    assert {"AIRLINE", "ECOMMERCE"} <= partner_kinds
    assert sum(1 for m in merchants if m.partner_id is not None) >= 2
    assert any(s is not None and s <= 5 for s in stocks), "one reward has a small stock"
    # A few months of history, all of it before "today".
    assert (last - first).days >= 90
    assert last < TODAY

    assert sorted(stored) == sorted(member_ids), "every member has a balance row"
    for member_id in member_ids:
        available = stored[member_id]
        assert available >= 0
        assert available == int(journal.get(member_id) or 0), f"member {member_id}: balance != journal"
        assert available == int(lots.get(member_id) or 0), f"member {member_id}: balance != lots"
    assert sum(stored.values()) > 0

    # The demo segments mean something: each holds some members and not all of them.
    async with backend.database.read_engine.connect() as conn:
        sizes = dict((await conn.execute(select(t.segments.c.name, t.segments.c.size))).all())
        profiles = await conn.execute(select(count).select_from(t.member_profiles))
        assert profiles.scalar_one() == len(member_ids)
    assert set(sizes) == {"Frequent diners", "Travellers at risk", "High-value dormant"}
    assert all(0 < size < len(member_ids) for size in sizes.values()), sizes


async def test_the_demo_shows_the_whole_points_lifecycle(backend: Backend) -> None:
    await seed(backend.database, FixedClock(TODAY))

    async with backend.database.read_engine.connect() as conn:
        by_tier = dict(
            (
                await conn.execute(
                    select(func.coalesce(t.tiers.c.code, "STANDARD"), func.count())
                    .select_from(t.members.outerjoin(t.tiers, t.tiers.c.id == t.members.c.tier_id))
                    .group_by(t.tiers.c.code)
                )
            ).all()
        )
        b = t.member_balances.c
        pending, held, dormant = (
            await conn.execute(
                select(
                    func.count().filter(b.pending > 0),
                    func.count().filter(b.held > 0),
                    func.count().filter(b.dormant_since.is_not(None)),
                )
            )
        ).one()
        soon = TODAY + timedelta(days=30)
        expiring = (
            await conn.execute(
                select(func.count())
                .select_from(t.points_lots)
                .where(t.points_lots.c.remaining > 0, t.points_lots.c.expires_at <= soon)
            )
        ).scalar_one()
        expired_points = select(func.coalesce(func.sum(t.expirations.c.points), 0))
        expired = (await conn.execute(expired_points)).scalar_one()
        statuses = set((await conn.execute(select(t.redemptions.c.status).distinct())).scalars())
        refunds = (await conn.execute(select(func.count()).select_from(t.refunds))).scalar_one()
        transfers = (await conn.execute(select(func.count()).select_from(t.transfers))).scalar_one()

    assert set(by_tier) == {"STANDARD", "GOLD", "PLATINUM"}, by_tier
    assert pending >= 2, "hotel stays inside their return window"
    assert held == 2, "two POS holds are open"
    assert dormant == 1
    assert expiring > 0, "some points expire within 30 days"
    assert expired > 0, "some points have expired"
    assert {"REQUESTED", "FULFILLED", "CANCELLED", "AUTHORIZED", "CAPTURED"} <= statuses
    assert (refunds, transfers) == (2, 1)
    assert await check_ledger(backend.database.read_engine) == []


async def test_the_demo_has_a_finished_experiment_with_a_visible_lift(backend: Backend) -> None:
    await seed(backend.database, FixedClock(TODAY))
    reader = SqlReadModel(backend.database.read_engine)
    arms = SqlCampaignArmsReader(backend.database.read_engine)
    [offer] = [o for o in await reader.offer_page(None, 50, None, None) if o.name == NAME]
    experiment = offer.experiment
    assert experiment is not None
    assert offer.window.ends_at < TODAY, "finished"
    query = dr.arm_query(offer, experiment, "CNY", TODAY)
    members = await arms.member_spend(query)
    assert len(members) == PANEL, "every panel member was assigned when its wallet listed the offer"
    programme = await reader.programme()
    report = dr.build_report(
        offer,
        query,
        programme.point_values.get("CNY", Decimal(0)),
        members,
        await arms.exposed(query),
        await arms.costs(query),
        await arms.series(query, dr.Granularity.DAY),
        Usage(),
    )
    by_arm = {a.figures.arm: a for a in report.arms}
    assert set(by_arm) == {"five", "eight", HOLDOUT}
    assert not report.sample_ratio.mismatch
    eight = by_arm["eight"].evaluation
    assert eight is not None
    welch = eight.incremental_spend_per_member
    assert welch.low is not None
    assert welch.low > 0, "the 8% arm spends more than the holdout, its 95% interval above 0"
    assert eight.cuped is not None
    assert eight.cuped.low is not None
    assert eight.cuped.low > 0
    assert by_arm["eight"].cost_minor > 0
    assert by_arm[HOLDOUT].cost_minor == 0
    assert len(report.series) > 10
