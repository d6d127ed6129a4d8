"""How an input names the member a merchant or processor acts for, as the domain takes it."""

from __future__ import annotations

from typing import Protocol

from strawberry import relay

from api.types.ids import decode_id
from domain.commands import PresentedMember
from domain.security import Secret


class NamesAMember(Protocol):
    member_code: str | None
    member_ref: str | None
    member_id: relay.GlobalID | None
    member_external_ref: str | None


def presented_member(input: NamesAMember) -> PresentedMember | None:
    """None when the input names no member (a member calling for itself)."""
    presented = PresentedMember(
        code=input.member_code,
        ref=input.member_ref,
        member_id=None if input.member_id is None else decode_id(input.member_id, "Member", "memberId"),
        external_ref=input.member_external_ref,
    )
    return None if presented == PresentedMember() else presented


def presented_secrets(input: NamesAMember) -> dict[str, Secret]:
    """The guessable member names this input presents, by field: a wrong one counts against the
    caller's guessing limit for its kind, and a caller locked out of a kind is refused before anything
    runs. A member id a merchant tries is a guess at a reference."""
    presents: dict[str, Secret] = {}
    if input.member_code is not None:
        presents["memberCode"] = Secret.REDEMPTION_CODE
    if input.member_ref is not None:
        presents["memberRef"] = Secret.MEMBER_REFERENCE
    if input.member_id is not None:
        presents["memberId"] = Secret.MEMBER_REFERENCE
    return presents
