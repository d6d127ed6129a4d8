"""Global ids: relay's `base64("Type:id")`, decoded and checked for the expected type.

Only the number the API emits resolves: `int()` would read `Member:1_0` as 10 and `Member: 1`,
`Member:0001` and `Member:١` as 1, so one member would have many ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from strawberry import relay

from domain.errors import Validation

# Ids are 64-bit signed integers in both databases.
MAX_ID = 2**63 - 1
# ASCII digits only (`\d` would take Arabic-Indic and other digits), no sign, no leading zero.
_NUMBER = re.compile(r"[1-9][0-9]{0,18}")


def _number(node_id: str) -> int | None:
    if not _NUMBER.fullmatch(node_id):
        return None
    value = int(node_id)
    return value if value <= MAX_ID else None


def decode_id(global_id: relay.GlobalID, type_name: str, field: str) -> int:
    if global_id.type_name != type_name:
        raise Validation(f"expected a {type_name} id", (field,))
    value = _number(global_id.node_id)
    if value is None:
        raise Validation(f"malformed {type_name} id", (field,))
    return value


def try_decode_id(global_id: relay.GlobalID, type_name: str) -> int | None:
    try:
        return decode_id(global_id, type_name, "id")
    except Validation:
        return None


def encode_id(type_name: str, value: int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(value))


def node_ints(node_ids: Iterable[str]) -> list[int]:
    """relay hands node ids over as text; a malformed one simply resolves to nothing (id 0)."""
    return [_number(i) or 0 for i in node_ids]
