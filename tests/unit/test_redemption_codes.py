"""One-time redemption codes: short, unambiguous, random; only a hash is stored."""

from __future__ import annotations

import hashlib
import math

from domain import redemption_codes as codes


def test_a_code_is_ten_characters_of_an_alphabet_without_look_alikes() -> None:
    drawn = {codes.new_code() for _ in range(500)}

    assert len(drawn) == 500
    assert all(len(code) == 10 and set(code) <= set(codes.ALPHABET) for code in drawn)
    assert not set("01ILO") & set(codes.ALPHABET)
    assert math.log2(len(codes.ALPHABET)) * codes.LENGTH > 49


def test_case_spaces_and_dashes_do_not_change_the_hash() -> None:
    code = codes.new_code()
    typed = f" {code[:5].lower()}-{code[5:]} "

    assert codes.code_hash(typed) == codes.code_hash(code)
    assert codes.code_hash(code) == hashlib.sha256(code.encode()).hexdigest()
    assert codes.well_formed(typed)


def test_what_cannot_be_a_code_is_not_well_formed() -> None:
    assert not codes.well_formed("ABCDEFGHJ")  # too short
    assert not codes.well_formed("ABCDEFGHJK2")  # too long
    assert not codes.well_formed("ABCDEFGHJ0")  # a character not in the alphabet
    assert not codes.well_formed("")


def test_only_spaces_dashes_and_tabs_are_dropped_from_a_presented_code() -> None:
    assert codes.normalize(" ab-x y\tz ") == "ABXYZ"
    assert codes.normalize("A.B") == "A.B"
