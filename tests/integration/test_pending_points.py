"""Pending points, on both databases: inside the programme's return window a purchase's points are
pending; the maturation job makes them available once, in a lot; the ledger verifies throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.actors import Actor, Role
from domain.clock import FixedClock, SystemClock
from domain.money import Money
from domain.services.maturation import run_maturation
from domain.services.settlement import import_settlement_batch
from domain.settlement import SettlementLine
from persistence.queries.ledger_check import check_ledger
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.builders import Scenario
from tests.conftest import Backend
from tests.integration.test_offers_api import create_offer


def mature_at(days: int):  # type: ignore[no-untyped-def]
    return FixedClock(datetime.now(UTC) + timedelta(days=days))


async def test_points_stay_pending_for_the_window_then_mature_once(
    backend: Backend, given: Scenario, return_window: None
) -> None:
    merchant = await given.merchant()
    member = await given.member()
    posted = await given.purchase(merchant, member, 12_300, key="p1")
    uow = lambda: SqlAlchemyUnitOfWork(backend.database.write_engine)  # noqa: E731

    pending = await given.balance(member)
    early = await run_maturation(uow, mature_at(13))
    matured = await run_maturation(uow, mature_at(15))
    again = await run_maturation(uow, mature_at(15))
    after = await given.balance(member)

    assert posted["purchase"]["pointsEarned"] == 123
    assert (pending["available"], pending["pending"], pending["lifetimeEarned"]) == (0, 123, 123)
    assert (early.purchases, matured.purchases, matured.points, again.purchases) == (0, 1, 123, 0)
    assert (after["available"], after["pending"], after["lifetimeEarned"]) == (123, 0, 123)
    assert await check_ledger(backend.database.read_engine) == []


async def test_a_settlement_import_keeps_the_same_return_window(
    backend: Backend, given: Scenario, return_window: None
) -> None:
    merchant = await given.merchant()
    member = await given.member("alice")
    ref = await given.member_ref(merchant, member)
    line = SettlementLine(2, "S-1", ref, Money(4_500, "CNY"), datetime.now(UTC), None)

    outcome = await import_settlement_batch(
        [line],
        actor=Actor(Role.MERCHANT, "import", merchant_id=merchant.raw),
        uow=SqlAlchemyUnitOfWork(backend.database.write_engine),
        clock=SystemClock(),
    )
    pending = await given.balance(member)
    matured = await run_maturation(lambda: SqlAlchemyUnitOfWork(backend.database.write_engine), mature_at(15))

    assert outcome.posted == 1
    assert (pending["available"], pending["pending"]) == (0, 45)
    assert (matured.purchases, matured.points) == (1, 45)
    assert (await given.balance(member))["available"] == 45
    assert await check_ledger(backend.database.read_engine) == []


QUALIFY = """mutation($input: QualifyPurchaseInput!) {
  qualifyPurchase(input: $input) { qualification { basePoints totalPoints } errors { code } }
}"""
PURCHASE_FIELDS = "pointsEarned pointsPending basePoints"
POST = f"""mutation($input: PostPurchaseInput!) {{
  postPurchase(input: $input) {{ purchase {{ id {PURCHASE_FIELDS} }} errors {{ code }} }}
}}"""
READ = f"query($id: ID!) {{ node(id: $id) {{ ... on Purchase {{ {PURCHASE_FIELDS} }} }} }}"


async def test_base_points_count_pending_points_once_before_and_after_maturation(
    backend: Backend, given: Scenario
) -> None:
    merchant = await given.merchant(pendingDays=14)
    member = await given.member()
    created = await create_offer(
        given,
        name="12 bonus points",
        mechanic="BONUS_POINTS",
        points=12,
        funding=[{"kind": "PROGRAMME", "percent": 100}],
    )
    assert created["errors"] == []
    merchant_token = given.tokens.merchant(merchant.raw)
    basket = {
        "memberRef": await given.member_ref(merchant, member),
        "amount": {"amountMinor": 10_000, "currency": "CNY"},
    }

    dry = await given.gql.data(QUALIFY, {"input": basket}, merchant_token)
    posted = await given.gql.data(POST, {"input": {**basket, "idempotencyKey": "p1"}}, merchant_token)
    purchase = posted["postPurchase"]["purchase"]
    read_pending = await given.gql.data(READ, {"id": purchase["id"]}, merchant_token)
    await run_maturation(lambda: SqlAlchemyUnitOfWork(backend.database.write_engine), mature_at(15))
    read_matured = await given.gql.data(READ, {"id": purchase["id"]}, merchant_token)

    assert dry["qualifyPurchase"]["qualification"] == {"basePoints": 100, "totalPoints": 112}
    assert {k: purchase[k] for k in ("pointsEarned", "pointsPending", "basePoints")} == {
        "pointsEarned": 112,
        "pointsPending": 112,
        "basePoints": 100,
    }
    assert read_pending["node"] == {"pointsEarned": 112, "pointsPending": 112, "basePoints": 100}
    assert read_matured["node"] == {"pointsEarned": 112, "pointsPending": 0, "basePoints": 100}
    assert await check_ledger(backend.database.read_engine) == []
