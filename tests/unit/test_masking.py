"""How a member's contact details are shown to those who may see them masked (domain/members.py):
exactly which characters stay visible, at each length."""

from __future__ import annotations

import pytest

from domain.members import Contact, display_name, mask_display_name, mask_email, mask_phone, masked_contact


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),  # the first three and the last four stay visible
        ("+8613800138000", "+86*******8000"),
        ("12345678", "123*5678"),  # the shortest number that shows any of its digits
        ("1234567", "*******"),  # seven or fewer: all hidden
        ("1", "*"),
        ("", ""),
        (None, None),
    ],
)
def test_a_phone_shows_its_first_three_and_last_four_characters(phone: str | None, shown: str | None) -> None:
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


def test_a_contact_is_masked_field_by_field() -> None:
    shown = masked_contact(Contact(phone="13812345678", email="alice@example.com"))

    assert shown == Contact(phone="138****5678", email="a***@example.com")
    assert masked_contact(Contact()) == Contact()


def test_a_member_is_greeted_by_its_phone_else_its_email() -> None:
    assert display_name(Contact(phone="13812345678", email="alice@example.com")) == "13812345678"
    assert display_name(Contact(email="alice@example.com")) == "alice@example.com"
    assert display_name(Contact(phone="", email="")) is None
    assert display_name(Contact()) is None


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("13812345678", "138****5678"),
        ("alice@example.com", "a***@example.com"),
        (None, None),
    ],
)
def test_a_display_name_is_masked_as_the_email_or_phone_it_is(name: str | None, shown: str | None) -> None:
    assert mask_display_name(name) == shown
