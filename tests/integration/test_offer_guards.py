"""Offer guards on both databases: an admin sets them through the API, the `guards` job pauses the offer
whose burn-rate guard trips, exactly at the projection's boundary, once, audited; an ROI guard waits
for the campaign figures; refusals change nothing; two job processes at once fire a guard once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.clock import FixedClock
from persistence.queries.ledger_check import check_ledger
from scripts.jobs import run_jobs
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer

SET_GUARDS = """mutation($input: SetOfferGuardsInput!) {
  setOfferGuards(input: $input) {
    guards { kind tolerancePercent minUsedPercent minParticipants minRoiPercent firedAt firedReason }
    errors { code field message }
  }
}"""
GUARDS = """query($offer: ID!) {
  offerGuards(offerId: $offer) { kind minRoiPercent firedAt firedReason }
}"""
STATUS = "query($id: ID!) { node(id: $id) { ... on Offer { status usage { pointsUsed } } } }"
RESUME = """mutation($input: ResumeOfferInput!) {
  resumeOffer(input: $input) { offer { status } errors { code } }
}"""
AUDIT = """query($filter: AuditLogFilter) {
  auditLog(first: 20, filter: $filter) { edges { node { actor action targetType before after } } }
}"""


class Campaign:
    """An offer of 100 bonus points a purchase with a budget of 1,000 points, in a ten-day window that
    opened a day before `now`: when the job runs at `now`, a tenth of the window has gone."""

    def __init__(self, given: Scenario) -> None:
        self.given = given
        self.now = datetime.now(UTC)
        self.starts = self.now - timedelta(days=1)
        self.ends = self.starts + timedelta(days=10)
        self.offer = ""
        self.purchases = 0

    async def create(self, budget: int | None = 1000) -> str:
        limits = {} if budget is None else {"limits": {"budgetPoints": budget}}
        created = await create_offer(
            self.given,
            name=f"Winter bonus {budget}",
            mechanic="BONUS_POINTS",
            points=100,
            funding=[{"kind": "PROGRAMME", "percent": 100}],
            startsAt=self.starts.isoformat(),
            endsAt=self.ends.isoformat(),
            **limits,
        )
        assert created["errors"] == [], created
        self.offer = created["offer"]["id"]
        return self.offer

    async def buy(self, merchant: Ids, member: Ids) -> None:
        self.purchases += 1
        posted = await self.given.purchase(merchant, member, 1_000, key=f"guarded-{self.purchases}")
        assert posted["errors"] == [], posted

    async def set_guards(self, guards: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
        data = await self.given.gql.data(
            SET_GUARDS, {"input": {"offerId": self.offer, "guards": guards}}, token or self.given.admin
        )
        return data["setOfferGuards"]  # type: ignore[no-any-return]

    async def status(self) -> tuple[str, int]:
        node = (await self.given.gql.data(STATUS, {"id": self.offer}, self.given.admin))["node"]
        return node["status"], node["usage"]["pointsUsed"]

    async def guards(self) -> list[dict[str, Any]]:
        return (await self.given.gql.data(GUARDS, {"offer": self.offer}, self.given.admin))["offerGuards"]  # type: ignore[no-any-return]


async def test_a_burn_rate_guard_pauses_the_offer_once_at_the_exact_pace(
    backend: Backend, given: Scenario
) -> None:
    merchant, member = await given.merchant(), await given.member()
    campaign = Campaign(given)
    await campaign.create()
    stored = await campaign.set_guards(
        [
            {"kind": "BURN_RATE", "minUsedPercent": 0},
            {"kind": "ROI", "minParticipants": 1, "minRoiPercent": 0},
        ]
    )
    assert stored["errors"] == []
    assert stored["guards"] == [
        {
            "kind": "BURN_RATE",
            "tolerancePercent": 0,
            "minUsedPercent": 0,
            "minParticipants": 0,
            "minRoiPercent": 0,
            "firedAt": None,
            "firedReason": None,
        },
        {
            "kind": "ROI",
            "tolerancePercent": 0,
            "minUsedPercent": 5,
            "minParticipants": 1,
            "minRoiPercent": 0,
            "firedAt": None,
            "firedReason": None,
        },
    ]
    at_now = FixedClock(campaign.now)

    # 100 points in a tenth of the window: 1,000 by its end, exactly the budget, so no pause
    await campaign.buy(merchant, member)
    [quiet] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert quiet.startswith("guards: 2 armed offer guards checked, 0 fired"), quiet
    assert await campaign.status() == ("ACTIVE", 100)

    # 200 points: 2,000 by the end, and the budget runs out five days in
    await campaign.buy(merchant, member)
    [line] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert line.startswith("guards: 2 armed offer guards checked, 1 fired and paused their offer in "), line
    assert await campaign.status() == ("PAUSED", 200)
    runs_out = campaign.starts + timedelta(days=5)
    burn, roi = await campaign.guards()
    assert burn["firedAt"] is not None
    assert datetime.fromisoformat(burn["firedAt"]) == campaign.now
    assert burn["firedReason"] == (
        f"200 of a budget of 1,000 points spent in 10% of the window: at this rate it runs out at "
        f"{runs_out.isoformat()}, before the window ends at {campaign.ends.isoformat()}"
    )
    # the ROI guard has no campaign figures to read yet (the campaign report supplies them): armed
    assert (roi["kind"], roi["firedAt"]) == ("ROI", None)

    # audited: the admin's setting, the guard's firing and the pause it made
    audit = (await given.gql.data(AUDIT, {"filter": {}}, given.admin))["auditLog"]["edges"]
    events = [e["node"] for e in audit if e["node"]["targetType"] == "Offer"]
    by_action = {e["action"]: e for e in events}
    assert by_action["setOfferGuards"]["actor"] != by_action["pausedOffer"]["actor"]
    assert by_action["pausedOffer"]["actor"] == by_action["fireOfferGuard"]["actor"]
    assert by_action["fireOfferGuard"]["actor"].startswith("offer-guard:")
    assert by_action["fireOfferGuard"]["actor"].endswith(":BURN_RATE")

    # once: a second run finds nothing armed on a paused offer, and after an admin resumes it the fired
    # guard stays quiet (the ROI guard is looked at again, and still has nothing to read)
    [again] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert again.startswith("guards: 0 armed offer guards checked, 0 fired"), again
    resumed = await given.gql.data(RESUME, {"input": {"offerId": campaign.offer}}, given.admin)
    assert resumed["resumeOffer"]["errors"] == []
    [after] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert after.startswith("guards: 1 armed offer guards checked, 0 fired"), after
    assert await campaign.status() == ("ACTIVE", 200)
    assert await check_ledger(backend.database.read_engine) == []


async def test_the_tolerance_and_the_minimum_share_hold_the_guard_back(
    backend: Backend, given: Scenario
) -> None:
    merchant, member = await given.merchant(), await given.member()
    campaign = Campaign(given)
    await campaign.create()
    # 300 points in a tenth of the window is 3,000 by its end: three times the budget
    assert (
        await campaign.set_guards([{"kind": "BURN_RATE", "tolerancePercent": 200, "minUsedPercent": 40}])
    )["errors"] == []
    for _ in range(3):
        await campaign.buy(merchant, member)
    at_now = FixedClock(campaign.now)
    [held] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert held.startswith("guards: 1 armed offer guards checked, 0 fired"), held  # only 30% used
    await campaign.buy(merchant, member)  # 40% used, 4,000 projected: more than 1,000 + 200%
    [fired] = await run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now)
    assert fired.startswith("guards: 1 armed offer guards checked, 1 fired"), fired
    assert await campaign.status() == ("PAUSED", 400)


async def test_two_job_processes_at_once_fire_a_guard_once(backend: Backend, given: Scenario) -> None:
    merchant, member = await given.merchant(), await given.member()
    campaign = Campaign(given)
    await campaign.create()
    assert (await campaign.set_guards([{"kind": "BURN_RATE", "minUsedPercent": 0}]))["errors"] == []
    await campaign.buy(merchant, member)
    await campaign.buy(merchant, member)
    at_now = FixedClock(campaign.now)
    first, second = await asyncio.gather(
        run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now),
        run_jobs(backend.url, ["guards"], show_progress=False, clock=at_now),
    )
    fired = [int(line.split(", ")[1].split(" ")[0]) for line in (*first, *second)]
    assert sorted(fired) == [0, 1]
    audit = (await given.gql.data(AUDIT, {"filter": {"action": "pausedOffer"}}, given.admin))["auditLog"]
    assert len(audit["edges"]) == 1
    assert await campaign.status() == ("PAUSED", 200)


async def test_refusals_change_nothing(backend: Backend, given: Scenario) -> None:
    member = await given.member()
    campaign = Campaign(given)
    await campaign.create(budget=None)
    refused = await campaign.set_guards([{"kind": "BURN_RATE"}])
    assert refused == {
        "guards": None,
        "errors": [
            {
                "code": "VALIDATION",
                "field": ["guards", "0", "kind"],
                "message": "a burn-rate guard needs an offer with a budget",
            }
        ],
    }
    twice = await campaign.set_guards([{"kind": "ROI"}, {"kind": "ROI"}])
    assert [e["field"] for e in twice["errors"]] == [["guards"]]
    out_of_range = await campaign.set_guards([{"kind": "ROI", "minParticipants": -1}])
    assert [e["field"] for e in out_of_range["errors"]] == [["guards", "0", "minParticipants"]]
    assert await campaign.guards() == []
    # members, merchants and partners are refused outright
    body = await given.gql.post(
        SET_GUARDS, {"input": {"offerId": campaign.offer, "guards": []}}, given.tokens.member(member.raw)
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await given.gql.post(GUARDS, {"offer": campaign.offer}, given.tokens.member(member.raw))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    audit = (await given.gql.data(AUDIT, {"filter": {"action": "setOfferGuards"}}, given.admin))["auditLog"]
    assert audit["edges"] == []
