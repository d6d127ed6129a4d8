"""Offers aimed at segments, on both databases: a purchase gets the offer only while its member is in
one of the offer's segments (as last refreshed), the wallet lists it only to them, a new definition
with other segments is a new version, and a segment that is unknown or archived is refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.clock import SystemClock
from domain.services.segments import run_segment_refresh
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend

pytestmark = pytest.mark.asyncio

CREATE_SEGMENT = """mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id size } errors { code field } }
}"""
ARCHIVE = """mutation($input: ArchiveSegmentInput!) { archiveSegment(input: $input) { errors { code } } }"""
CREATE_OFFER = """mutation($input: CreateOfferInput!) {
  createOffer(input: $input) { offer { id version segmentIds } errors { code field } }
}"""
UPDATE_OFFER = """mutation($input: UpdateOfferInput!) {
  updateOffer(input: $input) { offer { id version segmentIds } errors { code field } }
}"""
ELIGIBLE = "query { me { eligibleOffers { edges { node { id reasons segmentIds } } } } }"
AWARDS = "query($id: ID!) { node(id: $id) { ... on Purchase { pointsEarned } } }"


def gid(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def definition(segment_ids: list[str], **more: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": "VIP bonus",
        "mechanic": "BONUS_POINTS",
        "points": 50,
        "funding": [{"kind": "PROGRAMME", "percent": 100}],
        "startsAt": (now - timedelta(days=1)).isoformat(),
        "endsAt": (now + timedelta(days=7)).isoformat(),
        "segmentIds": segment_ids,
        **more,
    }


async def segment(given: Scenario, name: str, refs: list[str]) -> str:
    made = await given.gql.data(CREATE_SEGMENT, {"input": {"name": name, "externalRefs": refs}}, given.admin)
    assert made["createSegment"]["errors"] == [], made
    return str(made["createSegment"]["segment"]["id"])


async def test_only_members_of_the_offers_segments_get_it(backend: Backend, given: Scenario) -> None:
    merchant = await given.merchant()
    vip, other = await given.member("vip"), await given.member("other")
    vips = await segment(given, "VIPs", ["vip"])
    created = (await given.gql.data(CREATE_OFFER, {"input": definition([vips])}, given.admin))["createOffer"]
    assert created["errors"] == []
    assert created["offer"]["segmentIds"] == [vips]

    mine = await given.purchase(merchant, vip, 1_000, key="v1")
    theirs = await given.purchase(merchant, other, 1_000, key="o1")
    assert (mine["purchase"]["pointsEarned"], theirs["purchase"]["pointsEarned"]) == (10 + 50, 10)
    assert (await given.balance(vip))["available"] == 60
    assert (await given.balance(other))["available"] == 10

    listed = await given.gql.data(ELIGIBLE, None, given.tokens.member(vip.raw))
    [offer] = [e["node"] for e in listed["me"]["eligibleOffers"]["edges"]]
    assert "picked for members like you" in offer["reasons"]
    assert offer["segmentIds"] is None  # whom it is aimed at is not the member's to see
    unlisted = await given.gql.data(ELIGIBLE, None, given.tokens.member(other.raw))
    assert unlisted["me"]["eligibleOffers"]["edges"] == []

    # A new definition aimed at another segment is a new version; members follow at once.
    others = await segment(given, "Others", ["other"])
    changed = await given.gql.data(
        UPDATE_OFFER,
        {"input": {"offerId": created["offer"]["id"], "offer": definition([others])}},
        given.admin,
    )
    assert changed["updateOffer"]["offer"]["version"] == 2
    assert changed["updateOffer"]["offer"]["segmentIds"] == [others]
    again_mine = await given.purchase(merchant, vip, 1_000, key="v2")
    again_theirs = await given.purchase(merchant, other, 1_000, key="o2")
    assert (again_mine["purchase"]["pointsEarned"], again_theirs["purchase"]["pointsEarned"]) == (10, 60)


async def test_a_rule_segment_admits_members_as_the_refresh_finds_them(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    rules = {"condition": {"field": "PURCHASES_30D", "op": "GTE", "number": 1}}
    made = await given.gql.data(CREATE_SEGMENT, {"input": {"name": "Buyers", "rules": rules}}, given.admin)
    buyers = made["createSegment"]["segment"]["id"]
    assert (await given.gql.data(CREATE_OFFER, {"input": definition([buyers])}, given.admin))["createOffer"][
        "errors"
    ] == []
    first = await given.purchase(merchant, member, 1_000, key="p1")
    assert first["purchase"]["pointsEarned"] == 10  # not a buyer until the refresh sees it
    await run_segment_refresh(lambda: SqlAlchemyUnitOfWork(backend.database.write_engine), SystemClock())
    second = await given.purchase(merchant, member, 1_000, key="p2")
    assert second["purchase"]["pointsEarned"] == 60


async def test_unknown_or_archived_segments_and_sign_up_offers_with_segments_are_refused(
    backend: Backend, given: Scenario
) -> None:
    await given.member("vip")
    vips = await segment(given, "VIPs", ["vip"])
    unknown = gid("Segment", 999_999)
    refused = await given.gql.data(CREATE_OFFER, {"input": definition([unknown])}, given.admin)
    assert refused["createOffer"] == {
        "offer": None,
        "errors": [{"code": "NOT_FOUND", "field": ["segmentIds"]}],
    }
    sign_up = await given.gql.data(
        CREATE_OFFER, {"input": definition([vips], trigger="SIGN_UP")}, given.admin
    )
    assert sign_up["createOffer"]["errors"] == [{"code": "VALIDATION", "field": ["trigger"]}]
    assert (await given.gql.data(ARCHIVE, {"input": {"segmentId": vips}}, given.admin))["archiveSegment"][
        "errors"
    ] == []
    archived = await given.gql.data(CREATE_OFFER, {"input": definition([vips])}, given.admin)
    assert archived["createOffer"]["errors"] == [{"code": "VALIDATION", "field": ["segmentIds"]}]
    wrong_type = await given.gql.data(CREATE_OFFER, {"input": definition([gid("Member", 1)])}, given.admin)
    assert wrong_type["createOffer"]["errors"] == [{"code": "VALIDATION", "field": ["segmentIds"]}]
