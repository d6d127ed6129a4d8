"""me.eligibleOffers' pages: keyset pagination over the wallet's order (worth, end, id), so a page
starts after the last offer shown even when the offers before it changed in between."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64

from api.errors import bad_input
from api.types.pagination import page_size
from domain.services.wallet_offers import UsableOffer

NodeT = TypeVar("NodeT")
_PREFIX = "offer-rank"
Rank = tuple[int, datetime, int]


def rank_cursor(rank: Rank) -> str:
    worth, ends_at, offer_id = rank
    return to_base64(_PREFIX, f"{worth}:{ends_at.astimezone(UTC).isoformat()}:{offer_id}")


def decode_rank(after: str | None) -> Rank | None:
    if after is None:
        return None
    try:
        prefix, value = from_base64(after)
        if prefix != _PREFIX:
            raise ValueError(prefix)
        worth, rest = value.split(":", 1)
        ends_at, offer_id = rest.rsplit(":", 1)
        ends = datetime.fromisoformat(ends_at)
        if ends.tzinfo is None:
            raise ValueError(ends_at)
        return (int(worth), ends, int(offer_id))
    except ValueError as exc:
        raise bad_input("malformed cursor in `after`") from exc


def ranked_connection(
    *,
    first: int | None,
    after: str | None,
    lines: Sequence[UsableOffer],
    node: Callable[[UsableOffer], NodeT],
) -> relay.Connection[NodeT]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
    """`lines` in their rank order, from just after the `after` cursor."""
    limit = page_size(first)
    position = decode_rank(after)
    rest = [line for line in lines if position is None or line.rank > position]
    edges = [
        relay.Edge(cursor=rank_cursor(line.rank), node=node(line))  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        for line in rest[:limit]
    ]
    return relay.Connection(  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        page_info=relay.PageInfo(
            has_next_page=len(rest) > limit,
            has_previous_page=position is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
    )
