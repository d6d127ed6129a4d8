"""Experiments on offers through the API, on both databases: an admin sets variants and a holdout
(typed refusals change nothing); each member's arm is its hash, recorded once however often it is
listed and earns; the holdout is neither listed nor awarded, each variant's parameter is what it earns;
campaignReport's arms are exact against planted purchases, its statistics are the pure functions' on the
same samples, its CSV says the same, and only admins and the funding partner read it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import text

from domain.actors import Actor, Role
from domain.clock import SystemClock
from domain.experiments.assignment import arm_of
from domain.experiments.evaluation import ArmSample, compare_arm
from domain.experiments.guards import GuardKind, OfferGuard
from domain.experiments.model import HOLDOUT, Experiment, Variant
from domain.experiments.statistics import sample_ratio
from domain.services.guards import run_guards, set_offer_guards
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Ids, Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer, partner

pytestmark = pytest.mark.asyncio

SET_EXPERIMENT = """mutation($input: SetOfferExperimentInput!) {
  setOfferExperiment(input: $input) {
    offer {
      id version
      experiment { experimentId startedAt holdoutShare marginRate variants { key weight percent } }
    }
    errors { code field message }
  }
}"""
OFFER = """query($id: ID!) { node(id: $id) { ... on Offer {
  version percent experiment { experimentId startedAt holdoutShare
    assignments(first: 50) { edges { node { memberId arm assignedAt } } pageInfo { hasNextPage } } }
} } }"""
OFFER_STATUS = """query($id: ID!) { node(id: $id) { ... on Offer { status } } }"""
LISTED = """query { me { eligibleOffers(first: 20) { edges { node { id name percent } } } } }"""
EARN = """mutation($input: PostPurchaseInput!) {
  postPurchase(input: $input) {
    purchase { pointsEarned appliedOffers { offerId points } }
    errors { code }
  }
}"""
INTERVAL = "estimate low high pValue"
REPORT = f"""query($id: ID!, $period: StatementPeriod, $granularity: ReportGranularity! = DAY) {{
  campaignReport(offerId: $id, period: $period, granularity: $granularity) {{
    purchases
    experiment {{
      experimentId currency from to prePeriodFrom marginRate
      arms {{
        arm holdout assigned exposed participants conversionRate spendMinor spendPerMember
        incrementalSpendPerMember {{ {INTERVAL} }} incrementalSpend cuped {{ {INTERVAL} }} varianceReduction
        conversionTest {{ difference z pValue low high }} alwaysValid {{ {INTERVAL} }}
        funding {{ kind funderId points pointsValueMinor moneyMinor totalMinor }} costMinor roi
      }}
      sampleRatio {{ statistic degreesOfFreedom pValue mismatch }}
      budget {{ pointsUsed pointsShare elapsedShare }}
      series {{ at arm spendMinor participants costMinor }}
      csv
    }}
  }}
}}"""
VARIANTS = [{"key": "five", "weight": 1, "percent": "5"}, {"key": "eight", "weight": 1, "percent": "8"}]


@dataclass
class Trial:
    offer: Ids
    merchant: Ids
    elsewhere: Ids  # a merchant outside the offer's scope
    bank: Ids  # the partner brand that funds the offer
    experiment: Experiment
    members: list[Ids]

    def arm(self, member: Ids) -> str:
        return arm_of(self.offer.raw, self.experiment, member.raw)


async def set_experiment(given: Scenario, offer: str, experiment: dict[str, Any] | None, token: str) -> Any:
    return await given.gql.post(
        SET_EXPERIMENT, {"input": {"offerId": offer, "experiment": experiment}}, token
    )


async def trial(given: Scenario, members: int = 16, holdout: int = 5_000) -> Trial:
    """A 5% cashback-points offer at one merchant, funded by a partner brand, testing 5% against 8%
    with half the members held out."""
    await given.gql.data(
        "mutation($i: UpdateProgrammeInput!) { updateProgramme(input: $i) { errors { code } } }",
        {"i": {"pointValues": [{"currency": "CNY", "value": "0.01"}]}},
        given.admin,
    )
    bank = await partner(given)
    merchant = await given.merchant("Tea House")
    elsewhere = await given.merchant("Book Shop", category="RETAIL")
    created = await create_offer(
        given,
        name="5% back at Tea House",
        mechanic="CASHBACK_POINTS",
        percent="5",
        merchantIds=[merchant.gid],
        funding=[{"kind": "PARTNER", "funderId": bank.gid, "percent": 100}],
        limits={"budgetPoints": 100_000},
    )
    assert created["errors"] == [], created
    offer = Ids(created["offer"]["id"])
    people = [await given.member() for _ in range(members)]
    return Trial(offer, merchant, elsewhere, bank, Experiment(0, datetime.now(), holdout, ()), people)


async def start(given: Scenario, t: Trial, holdout: int = 5_000) -> dict[str, Any]:
    body = await set_experiment(
        given,
        t.offer.gid,
        {"holdoutShare": holdout, "marginRate": 3_000, "variants": VARIANTS},
        given.admin,
    )
    payload = body["data"]["setOfferExperiment"]
    assert payload["errors"] == [], payload
    set_ = payload["offer"]["experiment"]
    t.experiment = Experiment(
        set_["experimentId"],
        datetime.fromisoformat(set_["startedAt"]),
        holdout,
        (Variant("five", 1), Variant("eight", 1)),
    )
    return payload["offer"]  # type: ignore[no-any-return]


async def assignments(backend: Backend, offer: Ids) -> list[tuple[int, str]]:
    async with backend.database.read_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT member_id, arm FROM experiment_assignments WHERE offer_id = :o ORDER BY member_id"),
            {"o": offer.raw},
        )
        return [(int(r[0]), str(r[1])) for r in rows]


async def listed(given: Scenario, member: Ids) -> dict[str, dict[str, Any]]:
    data = await given.gql.data(LISTED, None, given.tokens.member(member.raw))
    return {e["node"]["id"]: e["node"] for e in data["me"]["eligibleOffers"]["edges"]}


async def earn(
    given: Scenario, merchant: Ids, member: Ids, minor: int, key: str, **fields: Any
) -> dict[str, Any]:
    variables = {
        "input": {
            "memberRef": await given.member_ref(merchant, member),
            "amount": {"amountMinor": minor, "currency": "CNY"},
            "idempotencyKey": key,
            **fields,
        }
    }
    data = await given.gql.data(EARN, variables, given.tokens.merchant(merchant.raw))
    assert data["postPurchase"]["errors"] == [], data
    return data["postPurchase"]["purchase"]  # type: ignore[no-any-return]


# --- setting an experiment --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("experiment", "field"),
    [
        ({"holdoutShare": 5_001, "variants": VARIANTS}, ["holdoutShare"]),
        ({"holdoutShare": 100, "variants": []}, ["variants"]),
        ({"holdoutShare": 100, "variants": [VARIANTS[0], VARIANTS[0]]}, ["variants", "key"]),
        ({"holdoutShare": 100, "variants": [{"key": "a", "weight": 0}]}, ["variants", "0", "weight"]),
        (
            {"holdoutShare": 100, "variants": [{"key": "a", "weight": 1, "points": 5}]},
            ["variants", "0", "points"],
        ),
        (
            {"holdoutShare": 100, "variants": [{"key": "a", "weight": 1, "percent": "101"}]},
            ["variants", "0", "percent"],
        ),
    ],
)
async def test_a_bad_experiment_is_a_typed_error_and_changes_nothing(
    backend: Backend, given: Scenario, experiment: dict[str, Any], field: list[str]
) -> None:
    t = await trial(given, members=0)
    body = await set_experiment(given, t.offer.gid, experiment, given.admin)
    [error] = body["data"]["setOfferExperiment"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", field)
    offer = (await given.gql.data(OFFER, {"id": t.offer.gid}, given.admin))["node"]
    assert (offer["version"], offer["experiment"]) == (1, None)


async def test_only_admins_set_experiments_and_members_never_see_them(
    backend: Backend, given: Scenario
) -> None:
    t = await trial(given, members=1)
    for token in (given.tokens.partner(t.bank.raw), given.tokens.member(t.members[0].raw)):
        body = await set_experiment(given, t.offer.gid, {"holdoutShare": 0, "variants": VARIANTS}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await start(given, t, holdout=0)
    member = t.members[0]
    [line] = (await listed(given, member)).values()
    assert line["name"] == "5% back at Tea House"
    seen = await given.gql.post(OFFER, {"id": t.offer.gid}, given.tokens.member(member.raw))
    assert seen["data"]["node"]["experiment"] is None  # the arm is the admin's business
    by_partner = await given.gql.post(OFFER, {"id": t.offer.gid}, given.tokens.partner(t.bank.raw))
    assert by_partner["data"]["node"]["experiment"] is None


async def test_changing_only_a_parameter_keeps_the_experiment_and_new_weights_begin_another(
    backend: Backend, given: Scenario
) -> None:
    t = await trial(given, members=0)
    first = await start(given, t)
    assert (first["version"], first["experiment"]["experimentId"]) == (2, 2)
    tweaked = [VARIANTS[0], {"key": "eight", "weight": 1, "percent": "9"}]
    body = await set_experiment(given, t.offer.gid, {"holdoutShare": 5_000, "variants": tweaked}, given.admin)
    kept = body["data"]["setOfferExperiment"]["offer"]
    assert (kept["version"], kept["experiment"]["experimentId"]) == (3, 2)
    assert kept["experiment"]["startedAt"] == first["experiment"]["startedAt"]
    reweighed = [VARIANTS[0], {"key": "eight", "weight": 3, "percent": "9"}]
    body = await set_experiment(
        given, t.offer.gid, {"holdoutShare": 5_000, "variants": reweighed}, given.admin
    )
    assert body["data"]["setOfferExperiment"]["offer"]["experiment"]["experimentId"] == 4
    ended = await set_experiment(given, t.offer.gid, None, given.admin)
    assert ended["data"]["setOfferExperiment"]["offer"]["experiment"] is None


# --- assignment, holdout and variants -----------------------------------------------------------------


async def test_each_member_is_assigned_once_by_its_hash_the_holdout_gets_nothing_and_each_variant_its_rate(
    backend: Backend, given: Scenario
) -> None:
    t = await trial(given)
    await start(given, t)
    arms = {m.raw: t.arm(m) for m in t.members}
    assert set(arms.values()) == {"five", "eight", HOLDOUT}  # 16 members reach every arm here
    for round_ in range(2):
        for member in t.members:
            shown = await listed(given, member)
            if arms[member.raw] == HOLDOUT:
                assert shown == {}  # not offered
            else:
                [line] = shown.values()
                assert Decimal(line["percent"]) == (5 if arms[member.raw] == "five" else 8)
            # 100.00 CNY: 100 base points, and 5 or 8 points of cashback, or nothing in the holdout
            bought = await earn(given, t.merchant, member, 10_000, key=f"k{round_}-{member.raw}")
            bonus = {"five": 5, "eight": 8, HOLDOUT: 0}[arms[member.raw]]
            assert bought["pointsEarned"] == 100 + bonus
            assert [a["points"] for a in bought["appliedOffers"]] == ([bonus] if bonus else [])
    assert await assignments(backend, t.offer) == sorted(arms.items())
    offer = (await given.gql.data(OFFER, {"id": t.offer.gid}, given.admin))["node"]
    recorded = [
        (e["node"]["memberId"], e["node"]["arm"]) for e in offer["experiment"]["assignments"]["edges"]
    ]
    assert recorded == [(m.gid, arms[m.raw]) for m in sorted(t.members, key=lambda m: m.raw)]


# --- the report ---------------------------------------------------------------------------------------


def planted(t: Trial) -> dict[int, int]:
    """Each member's in-scope spend in the period, minor units: the 8% arm spends 30.00 more, and
    every fourth member buys nothing there."""
    return {
        m.raw: 0 if i % 4 == 3 else 5_000 + 1_000 * i + (3_000 if t.arm(m) == "eight" else 0)
        for i, m in enumerate(t.members)
    }


async def test_the_report_per_arm_is_exact_against_planted_purchases_and_its_statistics_are_the_pure_ones(
    backend: Backend, given: Scenario
) -> None:
    t = await trial(given)
    pre = {m.raw: 2_000 + 500 * i for i, m in enumerate(t.members)}  # spend before the experiment
    given_before = 0  # the offer's awards before the experiment: in its budget, not in the arms
    for member in t.members:
        bought = await earn(given, t.merchant, member, pre[member.raw], key=f"pre-{member.raw}")
        given_before += sum(a["points"] for a in bought["appliedOffers"])
    await start(given, t)
    spend = planted(t)
    points: dict[str, int] = {"five": 0, "eight": 0}
    for member in t.members:
        await listed(given, member)  # evaluated: assigned, in every arm
        arm = t.arm(member)
        if spend[member.raw]:
            bought = await earn(given, t.merchant, member, spend[member.raw], key=f"in-{member.raw}")
            if arm != HOLDOUT:
                points[arm] += sum(a["points"] for a in bought["appliedOffers"])
        await earn(given, t.elsewhere, member, 7_000, key=f"out-{member.raw}")  # outside the scope
    exposed_members = [m for m in t.members[:6]]
    now = datetime.now(t.experiment.started_at.tzinfo)
    async with backend.database.write_engine.begin() as conn:
        for member in exposed_members:
            await conn.execute(
                text(
                    "INSERT INTO offer_exposures (offer_id, member_id, day, listings, first_at, last_at) "
                    "VALUES (:o, :m, :d, 1, :at, :at)"
                ),
                {"o": t.offer.raw, "m": member.raw, "d": now.date(), "at": now},
            )
    since = t.experiment.started_at
    period = {"from": since.isoformat(), "to": (since + timedelta(days=1)).isoformat()}
    report = (await given.gql.data(REPORT, {"id": t.offer.gid, "period": period}, given.admin))[
        "campaignReport"
    ]
    found = report["experiment"]
    assert (found["currency"], found["marginRate"]) == ("CNY", 3_000)
    assert datetime.fromisoformat(found["prePeriodFrom"]) == since - timedelta(days=1)

    ordered = sorted(t.members, key=lambda m: m.raw)
    samples = {}
    for arm in ("five", "eight", HOLDOUT):
        mine = [m for m in ordered if t.arm(m) == arm]
        samples[arm] = ArmSample(
            arm,
            len(mine),
            sum(1 for m in exposed_members if t.arm(m) == arm),
            sum(1 for m in mine if spend[m.raw]),
            [spend[m.raw] for m in mine],
            [pre[m.raw] for m in mine],
        )
    by_arm = {a["arm"]: a for a in found["arms"]}
    assert [a["arm"] for a in found["arms"]] == ["five", "eight", HOLDOUT]
    for arm, sample in samples.items():
        got = by_arm[arm]
        assert (got["assigned"], got["exposed"], got["participants"], got["spendMinor"]) == (
            sample.assigned,
            sample.exposed,
            sample.participants,
            sum(sample.spend),
        )
        cost = 0 if arm == HOLDOUT else points[arm]  # points at 0.01 CNY: one fen each
        assert got["costMinor"] == cost
        if arm == HOLDOUT:
            assert got["funding"] == []
            assert got["incrementalSpendPerMember"] is None
            continue
        assert got["funding"] == [
            {
                "kind": "PARTNER",
                "funderId": t.bank.gid,
                "points": cost,
                "pointsValueMinor": cost,
                "moneyMinor": 0,
                "totalMinor": cost,
            }
        ]
        expected = compare_arm(sample, samples[HOLDOUT])
        welch = expected.incremental_spend_per_member
        assert got["incrementalSpendPerMember"] == interval(
            welch.difference, welch.low, welch.high, welch.p_value
        )
        assert expected.cuped is not None
        cuped = expected.cuped
        assert got["cuped"] == interval(cuped.difference, cuped.low, cuped.high, cuped.p_value)
        valid = expected.always_valid
        assert got["alwaysValid"] == interval(valid.difference, valid.low, valid.high, valid.p_value)
        assert got["conversionTest"]["pValue"] == expected.conversion.p_value
        assert got["conversionRate"] == pytest.approx(float(Fraction(sample.participants, sample.assigned)))
        incremental = expected.incremental_spend
        assert incremental is not None
        assert got["incrementalSpend"] == dec(incremental)
        assert got["roi"] == dec((incremental * Fraction(3, 10) - cost) / cost)
    ratio = sample_ratio([samples[a].assigned for a in ("five", "eight", HOLDOUT)], [0.25, 0.25, 0.5])
    assert found["sampleRatio"] == {
        "statistic": ratio.statistic,
        "degreesOfFreedom": 2,
        "pValue": ratio.p_value,
        "mismatch": ratio.mismatch,
    }
    assert found["budget"]["pointsUsed"] == given_before + points["five"] + points["eight"]
    # The series: one day, each arm's spend and cost in it.
    assert [(p["arm"], p["spendMinor"], p["costMinor"]) for p in found["series"]] == [
        (arm, sum(samples[arm].spend), 0 if arm == HOLDOUT else points[arm])
        for arm in ("five", "eight", HOLDOUT)
    ]
    # The CSV says the same.
    rows = list(csv.reader(io.StringIO(found["csv"])))
    assert rows[2][:6] == ["arm", "assigned", "exposed", "participants", "conversion_rate", "spend_minor"]
    for row in rows[3:6]:
        got = by_arm[row[0]]
        assert [int(row[1]), int(row[3]), int(row[5]), int(row[16])] == [
            got["assigned"],
            got["participants"],
            got["spendMinor"],
            got["costMinor"],
        ]
    # By hour: the same totals, cut finer.
    hourly = await given.gql.data(
        REPORT, {"id": t.offer.gid, "period": period, "granularity": "HOUR"}, given.admin
    )
    series = hourly["campaignReport"]["experiment"]["series"]
    assert sum(p["spendMinor"] for p in series) == sum(sum(s.spend) for s in samples.values())


def dec(value: Fraction | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001")))
    return str(Decimal(repr(value)).quantize(Decimal("0.0001")))


def interval(
    estimate: float | None, low: float | None, high: float | None, p: float | None
) -> dict[str, Any]:
    return {"estimate": dec(estimate), "low": dec(low), "high": dec(high), "pValue": p}


async def test_only_admins_and_the_funding_partner_read_the_report(backend: Backend, given: Scenario) -> None:
    t = await trial(given, members=2)
    await start(given, t)
    other = Ids(
        (
            await given.gql.data(
                'mutation { createPartnerBrand(input: {name: "Other", kind: OTHER}) '
                "{ partnerBrand { id } } }",
                None,
                given.admin,
            )
        )["createPartnerBrand"]["partnerBrand"]["id"]
    )
    for token, readable in (
        (given.admin, True),
        (given.tokens.partner(t.bank.raw), True),
        (given.tokens.partner(other.raw), False),
        (given.tokens.merchant(t.merchant.raw), False),
        (given.tokens.member(t.members[0].raw), False),
    ):
        body = await given.gql.post(REPORT, {"id": t.offer.gid}, token)
        report = (body.get("data") or {}).get("campaignReport")
        assert (report is not None) == readable, token
        if readable:
            assert report["experiment"]["experimentId"] == t.experiment.id


async def test_an_roi_guard_reads_the_reports_figures_and_pauses_a_losing_experiment_once(
    backend: Backend, given: Scenario
) -> None:
    t = await trial(given)
    await start(given, t)
    for member in t.members:  # the variants' members spend less than the holdout's: a loss
        await listed(given, member)
        spend = 20_000 if t.arm(member) == HOLDOUT else 10_000
        await earn(given, t.merchant, member, spend, key=f"roi-{member.raw}")

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(backend.database.write_engine)

    admin = Actor(Role.ADMIN, "admin@test")
    guard = OfferGuard(t.offer.raw, GuardKind.ROI, min_participants=4, min_roi_percent=0)
    await set_offer_guards(t.offer.raw, [guard], actor=admin, uow=uow(), clock=SystemClock())
    async with (reading_uow := uow()):
        reading = await reading_uow.guards.roi_reading(t.offer.raw, datetime.now(UTC))
    assert reading is not None
    variants = [m for m in t.members if t.arm(m) != HOLDOUT]
    assert reading.participants == len(variants)
    assert reading.roi is not None
    assert reading.roi < 0

    first = await run_guards(uow, SystemClock())
    second = await run_guards(uow, SystemClock())
    assert (first.fired, second.fired) == (1, 0)
    offer = (await given.gql.data(OFFER_STATUS, {"id": t.offer.gid}, given.admin))["node"]
    assert offer["status"] == "PAUSED"
