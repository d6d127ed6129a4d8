"""node(id) for every Node type, resolved one way: load the objects in one batch, keep those the
caller may read (its rule in api/access.py), convert them with `from_domain`.

A Node type derives from `LoadedNode[T]` (T: the domain object it is built from) and declares
`load_many` (usually a DataLoader on `info.context.loaders`) and `may_read`, its read rule; a rule
that decides better for many objects at once overrides `readable` instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from typing import Generic, Literal, Self, TypeVar, overload

from strawberry import relay

from api.context import Info
from api.errors import PublicError
from api.types.ids import node_ints

T = TypeVar("T")


def not_found() -> PublicError:
    # The same answer for an object that does not exist and for one the caller may not read.
    return PublicError("No object with this id that the caller may read", "NOT_FOUND")


class LoadedNode(relay.Node, Generic[T]):
    """A relay Node built from the domain object T."""

    @classmethod
    def load_many(cls, info: Info, ids: list[int]) -> Awaitable[Sequence[T | None]]:
        """The object for each id, in order, None where there is none: one batch for all ids."""
        raise NotImplementedError

    @classmethod
    def may_read(cls, info: Info, obj: T) -> bool | Awaitable[bool]:
        """Whether the caller may read this object: its type's rule in api/access.py."""
        raise NotImplementedError

    @classmethod
    async def readable(cls, info: Info, found: Sequence[T | None]) -> list[bool]:
        """For each object (None: not found), whether the caller may read it."""
        verdicts = []
        for obj in found:
            verdict = obj is not None and cls.may_read(info, obj)
            verdicts.append(verdict if isinstance(verdict, bool) else await verdict)
        return verdicts

    @classmethod
    def from_domain(cls, obj: T) -> Self:
        raise NotImplementedError

    # relay's contract: one answer per id, in the order of the ids; None for a missing or unreadable
    # object, or, when `required`, an error instead.
    @overload
    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: Literal[True]
    ) -> list[Self]: ...

    @overload
    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: Literal[False] = ...
    ) -> list[Self | None]: ...

    @overload
    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool
    ) -> list[Self] | list[Self | None]: ...

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self] | list[Self | None]:
        found = await cls.load_many(info, node_ints(node_ids))
        readable = await cls.readable(info, found)
        nodes = [
            cls.from_domain(obj) if obj is not None and ok else None
            for obj, ok in zip(found, readable, strict=True)
        ]
        if not required:
            return nodes
        present = [node for node in nodes if node is not None]
        if len(present) < len(nodes):
            raise not_found()
        return present
