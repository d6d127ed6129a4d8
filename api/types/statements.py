"""merchantStatement and partnerStatement: figures per offer and day over a period, and the same as CSV.

The CSV is a field of the statement (`csv: String!`) rather than a separate download: it is the same
read under the same authorization and field policy, in one round trip, with no second endpoint to
secure or keep in step; a statement is bounded (at most 366 days of lines), so it fits an answer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import bad_input
from api.permissions import ADMIN_OR_MERCHANT, ADMIN_OR_PARTNER
from api.types.ids import encode_id, try_decode_id
from domain import statements as ds
from domain.actors import Role
from domain.errors import Validation
from domain.offers import FunderKind
from domain.programme import Programme


@strawberry.input(description="A statement's period: from `from` (included) to `to` (excluded).")
class StatementPeriod:
    start: datetime = strawberry.field(name="from", description="The first instant included (with offset).")
    end: datetime = strawberry.field(name="to", description="The first instant after the period.")


@strawberry.type(description="One offer on one day (UTC), in one currency: what the funder paid, net.")
class StatementLine:
    day: date = strawberry.field(description="The day (UTC) the awards were given or taken back.")
    offer_id: relay.GlobalID = strawberry.field(description="The offer's global id.")
    offer_name: str = strawberry.field(description="The offer's name.")
    currency: str = strawberry.field(description="The purchases' currency (a bonus's: the statement's).")
    awards_given: int = strawberry.field(description="Awards the offer gave that day.")
    awards_refunded: int = strawberry.field(description="Awards whose purchase was fully refunded that day.")
    points: int = strawberry.field(description="Points the funder paid, less what refunds gave back.")
    money_minor: int = strawberry.field(
        description="Discount and cashback the funder paid, net, minor units."
    )
    cashback_minor: int = strawberry.field(description="Of moneyMinor, the cashback part.")
    points_value_minor: int = strawberry.field(
        description="The points valued at the programme's point value, rounded half to even once."
    )


@strawberry.type(description="A statement's lines in one currency, added up.")
class StatementTotal:
    currency: str = strawberry.field(description="ISO 4217 code.")
    point_value: str = strawberry.field(description="One point's value in currency units (a decimal).")
    awards_given: int = strawberry.field(description="Awards given in the period.")
    awards_refunded: int = strawberry.field(description="Awards fully refunded in the period.")
    points: int = strawberry.field(description="Points paid, net of refunds.")
    money_minor: int = strawberry.field(description="Discount and cashback paid, net, minor units.")
    cashback_minor: int = strawberry.field(description="Of moneyMinor, the cashback part.")
    points_value_minor: int = strawberry.field(description="The sum of the lines' values (never re-rounded).")


def _lines(statement: ds.FunderStatement, names: dict[int, str]) -> list[StatementLine]:
    return [
        StatementLine(
            day=line.day,
            offer_id=encode_id("Offer", line.offer_id),
            offer_name=names.get(line.offer_id, ""),
            currency=line.currency,
            awards_given=line.given,
            awards_refunded=line.returned,
            points=line.points,
            money_minor=line.money_minor,
            cashback_minor=line.cashback_minor,
            points_value_minor=line.points_value_minor,
        )
        for line in statement.lines
    ]


def _totals(statement: ds.FunderStatement) -> list[StatementTotal]:
    return [
        StatementTotal(
            currency=t.currency,
            point_value=str(t.point_value),
            awards_given=t.given,
            awards_refunded=t.returned,
            points=t.points,
            money_minor=t.money_minor,
            cashback_minor=t.cashback_minor,
            points_value_minor=t.points_value_minor,
        )
        for t in statement.totals
    ]


@strawberry.type(description="A partner brand's cost over a period, per offer and day (ADMIN, PARTNER: own).")
class PartnerStatement:
    partner_id: relay.GlobalID = strawberry.field(description="The partner brand's global id.")
    start: datetime = strawberry.field(name="from", description="The period's first instant.")
    end: datetime = strawberry.field(name="to", description="The first instant after the period.")
    lines: list[StatementLine] = strawberry.field(description="Per day, offer and currency, in that order.")
    totals: list[StatementTotal] = strawberry.field(description="Per currency.")
    csv: str = strawberry.field(description="The same as CSV (RFC 4180): period, header, lines, totals.")


@strawberry.type(description="What happened at a merchant over a period, in points (ADMIN, MERCHANT: own).")
class MerchantStatement:
    merchant_id: relay.GlobalID = strawberry.field(description="The merchant's global id.")
    start: datetime = strawberry.field(name="from", description="The period's first instant.")
    end: datetime = strawberry.field(name="to", description="The first instant after the period.")
    points_issued: int = strawberry.field(
        description="Points earned on its purchases recorded in the period."
    )
    points_reversed: int = strawberry.field(description="Points its refunds in the period took back.")
    points_rejected: int = strawberry.field(
        description="Points of its purchases taken back by risk reviews rejected in the period."
    )
    net_points_issued: int = strawberry.field(description="pointsIssued - pointsReversed - pointsRejected.")
    points_redeemed: int = strawberry.field(description="Points captured at its POS in the period.")
    points_returned: int = strawberry.field(
        description="Points paid with at its POS that its refunds in the period gave back."
    )
    net_points_redeemed: int = strawberry.field(description="pointsRedeemed - pointsReturned.")
    funded_lines: list[StatementLine] = strawberry.field(
        description="The awards it funded, wherever given, per day, offer and currency, net of refunds."
    )
    funded_totals: list[StatementTotal] = strawberry.field(
        description="Per currency; cashbackMinor is the cashback it owes for the period."
    )
    csv: str = strawberry.field(description="The figures, then the funded awards, as CSV (RFC 4180).")


def _period(given: StatementPeriod) -> ds.Period:
    try:
        return ds.period(given.start, given.end)
    except Validation as exc:
        raise bad_input(f"`period`: {exc.message}") from exc


def _currency(programme: Programme, given: str | None) -> str:
    """The currency bonuses (no purchase) are put in: the one named, else the programme's only
    point-valued currency, else its first accepted one."""
    if given is not None:
        currency = given.strip().upper()
        if currency not in programme.currencies:
            raise bad_input(f"`currency`: the programme accepts {sorted(programme.currencies)}")
        return currency
    valued = sorted(c for c, v in programme.point_values.items() if v)
    return valued[0] if len(valued) == 1 else sorted(programme.currencies)[0]


async def _funder_statement(
    info: Info, funder: tuple[FunderKind, int], period: StatementPeriod, currency: str | None
) -> tuple[ds.FunderStatement, dict[int, str]]:
    within = _period(period)
    programme = await info.context.reader.programme()
    events = await info.context.statements.funder_events(funder, within, _currency(programme, currency))
    statement = ds.funder_statement(funder, within, events, programme.point_values)
    offer_ids = sorted({line.offer_id for line in statement.lines})
    offers = await info.context.loaders.offers.load_many(offer_ids)
    return statement, {o.id: o.name for o in offers if o is not None}


def _own_or_named(
    info: Info, role: Role, own: int | None, named: relay.GlobalID | None, type_name: str
) -> int | None:
    """ADMIN names the funder; the role itself reads only its own (naming another answers null)."""
    actor = info.context.actor
    if actor is None:
        return None
    wanted = None if named is None else try_decode_id(named, type_name)
    if actor.role is Role.ADMIN:
        if named is None:
            raise bad_input(f"name the {type_name} (`{type_name[0].lower()}{type_name[1:]}Id`)")
        return wanted
    if actor.role is role and own is not None and (named is None or wanted == own):
        return own
    return None


Currency = Annotated[
    str | None,
    strawberry.argument(
        description="Bonuses without a purchase are put in this currency; default: see README."
    ),
]


@strawberry.type
class StatementQueries:
    @strawberry.field(
        permission_classes=ADMIN_OR_PARTNER,
        description="A partner brand's cost statement: ADMIN (names partnerId), PARTNER (its own only).",
    )
    async def partner_statement(
        self,
        info: Info,
        period: Annotated[StatementPeriod, strawberry.argument(description="[from, to), at most 366 days.")],
        partner_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Required for ADMIN; a PARTNER's own.")
        ] = None,
        currency: Currency = None,
    ) -> PartnerStatement | None:
        actor = info.context.actor
        own = actor.partner_id if actor is not None else None
        found = _own_or_named(info, Role.PARTNER, own, partner_id, "PartnerBrand")
        if found is None or (await info.context.loaders.partners.load(found)) is None:
            return None
        statement, names = await _funder_statement(info, (FunderKind.PARTNER, found), period, currency)
        return PartnerStatement(
            partner_id=encode_id("PartnerBrand", found),
            start=statement.period.start,
            end=statement.period.end,
            lines=_lines(statement, names),
            totals=_totals(statement),
            csv=ds.funder_csv(statement, names),
        )

    @strawberry.field(
        permission_classes=ADMIN_OR_MERCHANT,
        description="A merchant's statement: ADMIN (names merchantId), MERCHANT (its own only).",
    )
    async def merchant_statement(
        self,
        info: Info,
        period: Annotated[StatementPeriod, strawberry.argument(description="[from, to), at most 366 days.")],
        merchant_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Required for ADMIN; a MERCHANT's own.")
        ] = None,
        currency: Currency = None,
    ) -> MerchantStatement | None:
        actor = info.context.actor
        own = actor.merchant_id if actor is not None else None
        found = _own_or_named(info, Role.MERCHANT, own, merchant_id, "Merchant")
        if found is None or (await info.context.loaders.merchants.load(found)) is None:
            return None
        funded, names = await _funder_statement(info, (FunderKind.MERCHANT, found), period, currency)
        figures = await info.context.statements.merchant_figures(found, funded.period)
        statement = ds.MerchantStatement(found, figures, funded)
        return MerchantStatement(
            merchant_id=encode_id("Merchant", found),
            start=funded.period.start,
            end=funded.period.end,
            points_issued=figures.points_issued,
            points_reversed=figures.points_reversed,
            points_rejected=figures.points_rejected,
            net_points_issued=figures.net_issued,
            points_redeemed=figures.points_redeemed,
            points_returned=figures.points_returned,
            net_points_redeemed=figures.net_redeemed,
            funded_lines=_lines(funded, names),
            funded_totals=_totals(funded),
            csv=ds.merchant_csv(statement, names),
        )
