"""Global ids: relay's `base64("Type:id")`, decoded and checked for the expected type."""

from __future__ import annotations

from strawberry import relay

from domain.errors import Validation


def decode_id(global_id: relay.GlobalID, type_name: str, field: str) -> int:
    if global_id.type_name != type_name:
        raise Validation(f"expected a {type_name} id", (field,))
    try:
        value = int(global_id.node_id)
    except ValueError as exc:
        raise Validation(f"malformed {type_name} id", (field,)) from exc
    if value <= 0:
        raise Validation(f"malformed {type_name} id", (field,))
    return value


def try_decode_id(global_id: relay.GlobalID, type_name: str) -> int | None:
    try:
        return decode_id(global_id, type_name, "id")
    except Validation:
        return None


def encode_id(type_name: str, value: int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(value))


def node_ints(node_ids: object) -> list[int]:
    """relay hands node ids over as text; a malformed one simply resolves to nothing (id 0)."""
    return [int(i) if str(i).isdigit() else 0 for i in node_ids]  # type: ignore[attr-defined]
