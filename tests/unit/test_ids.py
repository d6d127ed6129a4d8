"""Global ids: one text and one number per object, as the API emits them."""

from __future__ import annotations

import base64

import pytest
from strawberry import relay

from api.issued_ids import is_issued_id
from api.types.ids import MAX_ID, decode_id, encode_id, node_ints
from domain.errors import Validation


@pytest.mark.parametrize("value", [1, 10, 123456789, MAX_ID])
def test_what_the_api_emits_decodes_back(value: int) -> None:
    emitted = str(encode_id("Member", value))

    assert is_issued_id(emitted)
    assert decode_id(relay.GlobalID.from_id(emitted), "Member", "memberId") == value
    assert node_ints([str(value)]) == [value]


@pytest.mark.parametrize(
    "node_id", ["0", "-1", "+1", "1_0", " 1", "1 ", "0001", "١", "1.0", "1e3", str(MAX_ID + 1), ""]
)
def test_any_other_number_text_is_refused(node_id: str) -> None:
    with pytest.raises(Validation) as refused:
        decode_id(relay.GlobalID("Member", node_id), "Member", "memberId")

    assert refused.value.field == ("memberId",)
    assert node_ints([node_id]) == [0]


@pytest.mark.parametrize(
    "text",
    [
        "TWVt!YmVyOjE=",
        "TWVtYmVyOjE",
        "TWVtYmVyOjF=",
        " TWVtYmVyOjE=",
        "TWVtYmVyOjE=\n",
        "TWVtYmVyOjE=TWVt",
        "Og==",
        1,
    ],
)
def test_only_the_exact_base64_text_is_an_issued_id(text: str | int) -> None:
    assert not is_issued_id(text)


def test_the_type_must_match() -> None:
    with pytest.raises(Validation, match="expected a Member id"):
        decode_id(relay.GlobalID("Merchant", "1"), "Member", "memberId")
    assert base64.b64decode("TWVtYmVyOjE=") == b"Member:1"
