"""LoadedNode: relay's resolve_nodes contract from a type's loader and read rule alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from strawberry import relay

from api.errors import PublicError
from api.types.nodes import LoadedNode


@dataclass(frozen=True)
class Thing:
    id: int
    owner: str


@dataclass
class Store:
    caller: str
    things: dict[int, Thing]
    batches: list[list[int]] = field(default_factory=list)


@strawberry.type
class ThingNode(LoadedNode[Thing]):
    id: relay.NodeID[int]
    owner: str

    @classmethod
    async def load_many(cls, info: Any, ids: list[int]) -> list[Thing | None]:
        info.context.batches.append(ids)
        return [info.context.things.get(i) for i in ids]

    @classmethod
    def may_read(cls, info: Any, thing: Thing) -> bool:
        return thing.owner == info.context.caller

    @classmethod
    def from_domain(cls, thing: Thing) -> ThingNode:
        return cls(id=thing.id, owner=thing.owner)


@strawberry.type
class AsyncRuleNode(ThingNode):
    """The same, with a rule that must await (as Member's does)."""

    @classmethod
    async def may_read(cls, info: Any, thing: Thing) -> bool:
        return thing.owner == info.context.caller


def info_for(caller: str) -> Any:
    things = {1: Thing(1, "ann"), 2: Thing(2, "bob"), 3: Thing(3, "ann")}
    return SimpleNamespace(context=Store(caller=caller, things=things))


def ids_of(nodes: list[Any]) -> list[int | None]:
    return [None if n is None else n.id for n in nodes]


@pytest.mark.parametrize("node_type", [ThingNode, AsyncRuleNode])
async def test_answers_in_the_order_asked_with_none_for_missing_unreadable_or_malformed(
    node_type: type[ThingNode],
) -> None:
    info = info_for("ann")

    nodes = await node_type.resolve_nodes(info=info, node_ids=["3", "2", "9", "1", "01"])

    assert ids_of(nodes) == [3, None, None, 1, None]
    assert all(type(n) is node_type for n in nodes if n is not None)
    # One batch for all the ids; a malformed one is looked up as 0, which no object has.
    assert info.context.batches == [[3, 2, 9, 1, 0]]


async def test_required_returns_every_node_when_all_are_readable() -> None:
    info = info_for("ann")

    nodes = await ThingNode.resolve_nodes(info=info, node_ids=["3", "1"], required=True)

    assert ids_of(nodes) == [3, 1]


@pytest.mark.parametrize("node_ids", [["1", "9"], ["1", "2"]], ids=["missing", "unreadable"])
async def test_required_refuses_alike_whether_missing_or_unreadable(node_ids: list[str]) -> None:
    with pytest.raises(PublicError) as refused:
        await ThingNode.resolve_nodes(info=info_for("ann"), node_ids=node_ids, required=True)

    assert refused.value.extensions == {"code": "NOT_FOUND"}
    assert refused.value.message == "No object with this id that the caller may read"


async def test_resolve_node_goes_through_the_same_rule() -> None:
    assert (await ThingNode.resolve_node("2", info=info_for("bob"))) == ThingNode(id=2, owner="bob")
    assert await ThingNode.resolve_node("2", info=info_for("ann")) is None
