"""Scalars of our own, mapped once in the schema's config (api/schema.py)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)
"""Sums of points and money over many rows outgrow GraphQL's 32-bit Int."""

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A whole number that may exceed Int's 32 bits (sums over many rows); at most 2^53, "
        "so JavaScript reads it exactly.",
        serialize=int,
        parse_value=int,
    )
}
