"""Keyset (cursor) pagination into relay connections: `first` capped at 100, cursors opaque."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeAlias, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64

from api.errors import bad_input

MAX_PAGE = 100
DEFAULT_PAGE = 20
_PREFIX = "cursor"

# The arguments of every connection field, described once.
First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description=f"At most this many items (default {DEFAULT_PAGE}, at most {MAX_PAGE})."),
]
After: TypeAlias = Annotated[
    str | None, strawberry.argument(description="The previous page's endCursor; omitted: the first page.")
]

Item = TypeVar("Item")
NodeT = TypeVar("NodeT")


def decode_cursor(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        prefix, value = from_base64(after)
        if prefix != _PREFIX:
            raise ValueError(prefix)
        return int(value)
    except ValueError as exc:
        raise bad_input("malformed cursor in `after`") from exc


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise bad_input("`first` must not be negative")
    return min(first, MAX_PAGE)


async def connection(
    *,
    first: int | None,
    after: str | None,
    fetch: Callable[[int | None, int], Awaitable[list[Item]]],
    key: Callable[[Item], int],
    node: Callable[[Item], NodeT],
) -> relay.Connection[NodeT]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
    """Fetch one more row than asked to learn whether another page exists."""
    limit = page_size(first)
    position = decode_cursor(after)
    items = await fetch(position, limit + 1) if limit else []
    has_next = len(items) > limit
    edges = [
        relay.Edge(cursor=to_base64(_PREFIX, key(item)), node=node(item))  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        for item in items[:limit]
    ]
    return relay.Connection(  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=position is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
    )
