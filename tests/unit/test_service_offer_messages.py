"""What an admin reads when an offer is refused: the message of each of test_service_offers.py's bad
offers, and the sign-up and red-packet conditions that list does not reach."""

from __future__ import annotations

import pytest

from domain.errors import ErrorCode
from domain.offers import Eligibility, FirstPurchase, Trigger
from tests.unit.fakes import FakeDatabase
from tests.unit.test_service_offers import _bad_offers, create, draft
from tests.unit.test_services import raised

SIGN_UP_CONDITIONS = "sign-up offers and red packets give bonus points, with no purchase conditions"
NO_COUPON_FLAG = "sign-up offers and red packets take no coupon flag and no referrer points"
NO_MEMBER_CONDITIONS = "sign-up offers and red packets take no tier, dormancy or segment condition"
MESSAGES = {
    "blank name": "must not be blank",
    "ends at its start": "must be after startsAt",
    "no time zone": "needs a time zone offset",
    "start without a zone": "needs a time zone offset",
    "end without a zone": "needs a time zone offset",
    "name of 121": "must be at most 120 characters",
    "zone name of 65": "must be at most 64 characters",
    "group of 41": "must be at most 40 characters",
    "unknown zone": "unknown time zone 'Mars/Olympus'",
    "day 0": "days run from 1 (Monday) to 7 (Sunday)",
    "day 8": "days run from 1 (Monday) to 7 (Sunday)",
    "one hour bound": "give both fromHour and toHour, or neither",
    "hours reversed": "hours must satisfy 0 <= fromHour < toHour <= 24",
    "hour 25": "hours must satisfy 0 <= fromHour < toHour <= 24",
    "negative hour": "hours must satisfy 0 <= fromHour < toHour <= 24",
    "no points": "must be greater than zero",
    "multiplier 1": "must be more than 1 and at most 100",
    "multiplier over 100": "must be more than 1 and at most 100",
    "discount of nothing": "the amount off is required",
    "threshold not above the amount off": "spend-and-save needs a threshold above the amount off",
    "percent 0": "must be more than 0 and at most 100",
    "percent over 100": "must be more than 0 and at most 100",
    "foreign money": "currency 'USD' is not accepted by this programme",
    "no money": "must be greater than zero",
    "no funder": "between 1 and 5 funders",
    "six funders": "between 1 and 5 funders",
    "shares of 99": "shares must be positive and add up to 100",
    "a zero share": "shares must be positive and add up to 100",
    "a funder twice": "a funder appears twice",
    "programme with an id": "merchants and partners need a funderId; the programme takes none",
    "merchant without id": "merchants and partners need a funderId; the programme takes none",
    "budget 0": "must be greater than zero",
    "max uses 0": "must be greater than zero",
    "per member 0": "must be greater than zero",
    "new within 0 days": "must be greater than zero",
    "negative referrer points": "must not be negative",
    "sign-up multiplier": SIGN_UP_CONDITIONS,
    "sign-up at a category": SIGN_UP_CONDITIONS,
    "red packet with a coupon flag": NO_COUPON_FLAG,
    "sign-up for dormant members": NO_MEMBER_CONDITIONS,
}


@pytest.mark.parametrize("name", list(MESSAGES))
async def test_a_bad_offer_says_what_is_wrong(name: str) -> None:
    [offer] = [o for n, o, _ in _bad_offers() if n == name]

    refused = await raised(create(FakeDatabase(), offer))

    assert refused.message == MESSAGES[name]


def test_every_bad_offer_has_its_message() -> None:
    assert [n for n, _, _ in _bad_offers()] == list(MESSAGES)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"trigger": Trigger.SIGN_UP, "eligibility": Eligibility(first_purchase=FirstPurchase.EVER)},
            SIGN_UP_CONDITIONS,
        ),
        ({"trigger": Trigger.RED_PACKET, "referrer_points": 5}, NO_COUPON_FLAG),
        (
            {"trigger": Trigger.SIGN_UP, "eligibility": Eligibility(tier_ids=frozenset({1}))},
            NO_MEMBER_CONDITIONS,
        ),
    ],
    ids=["first-purchase", "referrer-points", "tiers"],
)
async def test_a_sign_up_offer_or_red_packet_takes_no_purchase_coupon_or_tier_condition(
    changes: dict[str, object], message: str
) -> None:
    db = FakeDatabase()

    refused = await raised(create(db, draft(**changes)))

    assert (refused.code, refused.message, refused.field) == (ErrorCode.VALIDATION, message, ("trigger",))
    assert db.tables.offers == {}
