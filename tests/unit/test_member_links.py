"""A member's reference for a merchant it linked to (domain/member_links.py): long, random, in the
code alphabet behind a fixed prefix; read the way people type and files carry it."""

from __future__ import annotations

from domain import member_links as links
from domain.errors import ErrorCode, NotPresented
from domain.redemption_codes import ALPHABET


def test_a_reference_is_the_prefix_then_twenty_characters_of_the_code_alphabet() -> None:
    drawn = {links.new_member_ref() for _ in range(200)}

    assert len(drawn) == 200
    for ref in drawn:
        assert len(ref) == 22
        assert ref.startswith("MR")
        assert set(ref[2:]) <= set(ALPHABET)
        assert links.well_formed(ref)


def test_case_spaces_tabs_and_dashes_do_not_matter_and_nothing_else_is_dropped() -> None:
    assert links.normalize(" mr-abcd efgh\tx ") == "MRABCDEFGHX"
    assert links.normalize("MR.X") == "MR.X"


def test_what_cannot_be_a_reference_is_not_well_formed() -> None:
    ref = "MR" + "2" * 20
    assert links.well_formed(ref)
    assert links.well_formed(" mr-" + "2" * 20)
    assert not links.well_formed(ref[:-1])  # too short
    assert not links.well_formed(ref + "2")  # too long
    assert not links.well_formed("XR" + "2" * 20)  # another prefix
    assert not links.well_formed("MR" + "2" * 19 + "0")  # a character not in the alphabet
    assert not links.well_formed("2" * 22)  # no prefix, though of the right length and alphabet
    assert not links.well_formed("")


def test_a_member_that_did_not_present_itself_is_not_found_on_the_field_named() -> None:
    error = NotPresented("memberRef")

    assert (error.code, error.field, error.wrong_code) == (ErrorCode.NOT_FOUND, ("memberRef",), True)
    assert error.message == (
        "no member presented itself with this: use the code from the member's wallet or the"
        " reference its link to this merchant gave"
    )
