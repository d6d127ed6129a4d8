"""How a member's contact details are shown to those who may see them masked (domain/members.py):
exactly which characters stay visible, at each length."""

from __future__ import annotations

import pytest

from domain.members import mask_email, mask_phone


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+8613800138000", "+86*********00"),  # the first three and the last two stay visible
        ("123456", "123*56"),  # the shortest number that shows any of its digits
        ("12345", "*****"),  # five or fewer: all hidden
        ("1", "*"),
        ("", ""),
        (None, None),
    ],
)
def test_a_phone_shows_its_first_three_and_last_two_characters(phone: str | None, shown: str | None) -> None:
    assert mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("email", "shown"),
    [
        ("alice@example.com", "a***@example.com"),
        ("a@b.cn", "a***@b.cn"),
        ("al@ice@example.com", "a***@ice@example.com"),  # split at the first @
        ("not-an-address", "not-an-address"),
        ("", ""),
        (None, None),
    ],
)
def test_an_email_shows_its_first_character_and_its_domain(email: str | None, shown: str | None) -> None:
    assert mask_email(email) == shown
