"""Purchase and refund lists: a member's purchase history (`Member.purchases`, so `me.purchases`) and a
merchant's reconciliation lists (`purchases`, `refunds`) with totals over the whole filter.

Pages run newest first on (time, id); the cursor carries both, so the next page is an index range
from there (persistence/queries/purchase_lists.py) and never an offset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64

from api.context import Info
from api.errors import PublicError, bad_input
from api.types.activity import Purchase, Refund
from api.types.enums import describe_values
from api.types.ids import try_decode_id
from api.types.pagination import page_size
from api.types.scalars import BigInt
from domain import purchase_lists as dl
from domain import validation
from domain.actors import Role
from domain.money import Money as DomainMoney

Item = TypeVar("Item")
NodeT = TypeVar("NodeT")

_PREFIX = "at"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


strawberry.enum(
    dl.PurchaseStatus,
    name="PurchaseStatus",
    description="Where a purchase stands: refunds decide first; an unrefunded purchase is PENDING while "
    "points are in the return window, then SETTLED.",
)
describe_values(
    dl.PurchaseStatus,
    {
        dl.PurchaseStatus.PENDING: "Not refunded; some of its points are still in the return window.",
        dl.PurchaseStatus.SETTLED: "Not refunded; all its points have matured.",
        dl.PurchaseStatus.PARTIALLY_REFUNDED: "Part of its amount was refunded.",
        dl.PurchaseStatus.REFUNDED: "Its whole amount was refunded.",
    },
)
PurchaseStatus = dl.PurchaseStatus


def encode_cursor(position: dl.Position) -> str:
    at, id_ = position
    return to_base64(_PREFIX, f"{(at - _EPOCH) // _MICROSECOND}:{id_}")


def decode_cursor(after: str | None) -> dl.Position | None:
    if after is None:
        return None
    try:
        prefix, value = from_base64(after)
        micros, _, id_ = value.partition(":")
        if prefix != _PREFIX or not id_:
            raise ValueError(prefix)
        return _EPOCH + int(micros) * _MICROSECOND, int(id_)
    except (ValueError, OverflowError) as exc:
        raise bad_input("malformed cursor in `after`") from exc


async def timeline(
    *,
    first: int | None,
    after: str | None,
    fetch: Callable[[dl.Position | None, int], Awaitable[list[Item]]],
    key: Callable[[Item], dl.Position],
    node: Callable[[Item], NodeT],
) -> tuple[relay.PageInfo, list[relay.Edge[NodeT]]]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
    """A page newest first, keyed by (time, id); one more row than asked tells whether more follow."""
    limit = page_size(first)
    position = decode_cursor(after)
    items = await fetch(position, limit + 1) if limit else []
    edges = [relay.Edge(cursor=encode_cursor(key(item)), node=node(item)) for item in items[:limit]]  # type: ignore[type-var]  # as above
    page_info = relay.PageInfo(
        has_next_page=len(items) > limit,
        has_previous_page=position is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return page_info, edges


def _window(since: datetime | None, until: datetime | None) -> None:
    if not dl.window_is_valid(since, until):
        raise bad_input("`from` must be before `to`")


def _reference(reference: str | None) -> None:
    if reference is not None and not validation.is_storable(reference):
        raise bad_input("`reference` must be text without NUL or lone surrogates")


def _money(amounts: tuple[DomainMoney, ...]) -> list[MoneyTotal]:
    return [MoneyTotal(amount_minor=BigInt(m.amount_minor), currency=m.currency) for m in amounts]


@strawberry.type(description="A sum of money in one currency, over many rows.")
class MoneyTotal:
    amount_minor: BigInt = strawberry.field(description="Integer minor units (cents, fen).")
    currency: str = strawberry.field(description="ISO 4217 code.")


@strawberry.input(description="Narrows a member's purchases; omitted fields do not filter.")
class MemberPurchaseFilter:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only purchases at or after this time."
    )
    to: datetime | None = strawberry.field(default=None, description="Only purchases before this time.")
    merchant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only purchases at this merchant."
    )


@strawberry.input(description="Narrows a merchant's purchases; omitted fields do not filter.")
class MerchantPurchaseFilter:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only purchases that occurred at or after this time."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Only purchases that occurred before this time."
    )
    reference: str | None = strawberry.field(
        default=None, description="Only the purchases with this order id of the merchant's (exact)."
    )
    status: PurchaseStatus | None = strawberry.field(
        default=None, description="Only purchases in this state."
    )


@strawberry.input(description="Narrows a merchant's refunds; omitted fields do not filter.")
class MerchantRefundFilter:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only refunds made at or after this time."
    )
    to: datetime | None = strawberry.field(default=None, description="Only refunds made before this time.")
    reference: str | None = strawberry.field(
        default=None, description="Only the refunds with this refund id of the merchant's (exact)."
    )


@strawberry.type(description="Sums over every purchase the filter selects, not only the page.")
class PurchaseTotals:
    count: int = strawberry.field(description="How many purchases.")
    amount: list[MoneyTotal] = strawberry.field(description="What they cost, per currency.")
    refunded: list[MoneyTotal] = strawberry.field(description="What refunds gave back of it, per currency.")
    points_earned: BigInt = strawberry.field(description="The points they earned, base and offers.")
    points_refunded: BigInt = strawberry.field(description="Of those, the points refunds took back.")


@strawberry.type(description="Sums over every refund the filter selects, not only the page.")
class RefundTotals:
    count: int = strawberry.field(description="How many refunds.")
    amount: list[MoneyTotal] = strawberry.field(description="The money given back, per currency.")
    points_reversed: BigInt = strawberry.field(description="The purchases' points taken back.")
    points_returned: BigInt = strawberry.field(description="Points the purchases were paid with, given back.")


@strawberry.type(
    description="A merchant's purchases, newest first, with totals over the whole filter (ADMIN, and "
    "the MERCHANT itself)."
)
class MerchantPurchaseConnection(relay.Connection[Purchase]):
    where: strawberry.Private[dl.PurchaseFilter]

    @strawberry.field(description="Count, money and points over every purchase the filter selects.")
    async def totals(self, info: Info) -> PurchaseTotals:
        found = await info.context.purchase_lists.purchase_totals(self.where)
        return PurchaseTotals(
            count=found.count,
            amount=_money(found.amount),
            refunded=_money(found.refunded),
            points_earned=BigInt(found.points_earned),
            points_refunded=BigInt(found.points_refunded),
        )


@strawberry.type(
    description="A merchant's refunds, newest first, with totals over the whole filter (ADMIN, and the "
    "MERCHANT itself)."
)
class MerchantRefundConnection(relay.Connection[Refund]):
    where: strawberry.Private[dl.RefundFilter]

    @strawberry.field(description="Count, money and points over every refund the filter selects.")
    async def totals(self, info: Info) -> RefundTotals:
        found = await info.context.purchase_lists.refund_totals(self.where)
        return RefundTotals(
            count=found.count,
            amount=_money(found.amount),
            points_reversed=BigInt(found.points_reversed),
            points_returned=BigInt(found.points_returned),
        )


def listed_merchant(info: Info, merchant_id: relay.GlobalID | None) -> int:
    """The merchant whose lists the caller reads: a MERCHANT its own (naming another is refused),
    ADMIN the one it names."""
    actor = info.context.actor
    named = None
    if merchant_id is not None:
        named = try_decode_id(merchant_id, "Merchant")
        if named is None:
            raise bad_input("`merchantId` is not a merchant's id")
    if actor is not None and actor.role is Role.MERCHANT and actor.merchant_id is not None:
        if named is not None and named != actor.merchant_id:
            raise PublicError("Forbidden: a merchant reads its own purchases and refunds only", "FORBIDDEN")
        return actor.merchant_id
    if named is None:
        raise bad_input("`merchantId` is required: name the merchant whose list to read")
    return named


async def merchant_purchases(
    info: Info,
    merchant_id: relay.GlobalID | None,
    first: int | None,
    after: str | None,
    given: MerchantPurchaseFilter | None,
) -> MerchantPurchaseConnection:
    given = given or MerchantPurchaseFilter()
    _window(given.from_, given.to)
    _reference(given.reference)
    where = dl.PurchaseFilter(
        merchant_id=listed_merchant(info, merchant_id),
        since=given.from_,
        until=given.to,
        reference=given.reference,
        status=given.status,
    )
    lists = info.context.purchase_lists
    page_info, edges = await timeline(
        first=first,
        after=after,
        fetch=lambda before, limit: lists.purchase_page(where, before, limit),
        key=lambda p: (p.occurred_at, p.id),
        node=Purchase.from_domain,
    )
    return MerchantPurchaseConnection(page_info=page_info, edges=edges, where=where)


async def merchant_refunds(
    info: Info,
    merchant_id: relay.GlobalID | None,
    first: int | None,
    after: str | None,
    given: MerchantRefundFilter | None,
) -> MerchantRefundConnection:
    given = given or MerchantRefundFilter()
    _window(given.from_, given.to)
    _reference(given.reference)
    where = dl.RefundFilter(
        merchant_id=listed_merchant(info, merchant_id),
        since=given.from_,
        until=given.to,
        reference=given.reference,
    )
    lists = info.context.purchase_lists
    page_info, edges = await timeline(
        first=first,
        after=after,
        fetch=lambda before, limit: lists.refund_page(where, before, limit),
        key=lambda r: (r.created_at, r.id),
        node=Refund.from_domain,
    )
    return MerchantRefundConnection(page_info=page_info, edges=edges, where=where)


async def member_purchases(
    info: Info, member_id: int, first: int | None, after: str | None, given: MemberPurchaseFilter | None
) -> relay.Connection[Purchase]:
    given = given or MemberPurchaseFilter()
    _window(given.from_, given.to)
    merchant = None
    if given.merchant_id is not None:
        merchant = try_decode_id(given.merchant_id, "Merchant")
        if merchant is None:
            raise bad_input("`merchantId` is not a merchant's id")
    where = dl.PurchaseFilter(member_id=member_id, merchant_id=merchant, since=given.from_, until=given.to)
    lists = info.context.purchase_lists
    page_info, edges = await timeline(
        first=first,
        after=after,
        fetch=lambda before, limit: lists.purchase_page(where, before, limit),
        key=lambda p: (p.occurred_at, p.id),
        node=Purchase.from_domain,
    )
    return relay.Connection(page_info=page_info, edges=edges)


# The arguments of the merchant lists, described once.
MerchantIdArg = Annotated[
    relay.GlobalID | None,
    strawberry.argument(description="The merchant: ADMIN must name it; a MERCHANT reads its own."),
]
