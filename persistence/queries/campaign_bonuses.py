"""campaignReport's bonuses: what an offer gave outside purchases (at sign-up, or by a trigger), with
each funder's points read from the bonuses' own journal entries, the same lines a funder's statement
reads (`statements._bonus_events`)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import AccountKind, EntryKind, OriginType
from domain.offers import BonusReason, BonusTotals, FundedCost, FunderKind
from persistence.tables import journal_entries, journal_lines, member_awards

# The account a funder's share of a bonus comes from (the programme's is issuance).
_FUNDER = {
    AccountKind.ISSUANCE.value: FunderKind.PROGRAMME,
    AccountKind.MERCHANT_FUNDING.value: FunderKind.MERCHANT,
    AccountKind.PARTNER_FUNDING.value: FunderKind.PARTNER,
}


async def bonus_totals(conn: AsyncConnection, offer_id: int) -> tuple[BonusTotals, ...]:
    """One entry per reason, in reason order. A referral bonus (it has a purchase) is left out: its
    points are in the referee's purchase award."""
    m, e, j = member_awards.c, journal_entries.c, journal_lines.c
    own = (m.offer_id == offer_id) & m.purchase_id.is_(None)
    heads = await conn.execute(
        select(m.reason, func.count(), func.count(func.distinct(m.member_id)), func.sum(m.points))
        .where(own)
        .group_by(m.reason)
    )
    shares = await conn.execute(
        select(m.reason, j.account_kind, j.owner_id, -func.sum(j.amount))
        .join(journal_entries, (e.origin_type == OriginType.AWARD.value) & (e.origin_id == m.id))
        .join(journal_lines, j.entry_id == e.id)
        .where(own, e.kind == EntryKind.EARN.value, j.account_kind.in_(list(_FUNDER)))
        .group_by(m.reason, j.account_kind, j.owner_id)
    )
    funding: dict[str, list[FundedCost]] = defaultdict(list)
    for reason, kind, owner, points in shares:
        funder = _FUNDER[kind]
        funder_id = None if funder is FunderKind.PROGRAMME else owner
        funding[reason].append(FundedCost(funder, funder_id, int(points), 0))
    return tuple(
        BonusTotals(
            BonusReason(reason),
            int(awards),
            int(members),
            int(points),
            tuple(sorted(funding[reason], key=lambda f: (f.kind.value, f.funder_id or 0))),
        )
        for reason, awards, members, points in sorted(heads, key=lambda row: row[0])
    )
