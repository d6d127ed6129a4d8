"""The risk figures: earn over GraphQL with the default risk rules on, beside the same load with every
rule off (in the same minutes, A B B A); and, in process, assessing one purchase against twenty rules.

Rules are switched by writing their actions in the benchmark database and moving the catalogue
version on, as `updateRiskRule` does: the server's workers re-read them at their next transaction.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from domain.money import Money
from domain.risk import (
    Counted,
    Movement,
    MovementKind,
    RiskAction,
    RiskRule,
    RuleKind,
    assess,
    default_rules,
    earning_claims,
    earning_figures,
)
from scripts.benchmarks.load import LoadResult, combine
from scripts.benchmarks.report import Figure, Report

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


async def switch_rules(url: str, actions: dict[int, str] | None) -> dict[int, str]:
    """Set every rule's action (None: all ALLOW, that is off); returns the actions they had."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            before = {
                row.id: row.action for row in await conn.execute(text("SELECT id, action FROM risk_rules"))
            }
            for rule_id in before:
                action = RiskAction.ALLOW.value if actions is None else actions[rule_id]
                await conn.execute(
                    text("UPDATE risk_rules SET action = :a WHERE id = :id"), {"a": action, "id": rule_id}
                )
            await conn.execute(text("UPDATE programme SET catalogue_version = catalogue_version + 1"))
        return before
    finally:
        await engine.dispose()


async def earn_figure(
    url: str,
    report: Report,
    earn: Callable[[float], Awaitable[LoadResult]],
    clients: int,
    seconds: float,
) -> None:
    """`earn(seconds)` measures the spread earn load; it runs with the rules on and off, interleaved."""
    defaults = await switch_rules(url, None)  # the actions as the data set has them
    if all(action == RiskAction.ALLOW.value for action in defaults.values()):
        raise SystemExit("every risk rule is off in the benchmark database: nothing to compare")
    half = seconds / 2
    results: dict[bool, list[LoadResult]] = {True: [], False: []}
    for on in (True, False, False, True):
        await switch_rules(url, defaults if on else None)
        results[on].append(await earn(half))
    await switch_rules(url, defaults)
    with_rules, without = combine(results[True]), combine(results[False])
    report.add(
        Figure.from_load(
            "risk",
            f"postPurchase, default risk rules on, {clients} clients",
            with_rules,
            ceiling=without.ops,
            ceiling_label="every rule off",
            target_ratio=0.9,
        )
    )


def twenty_rules() -> list[RiskRule]:
    """The defaults, and more of each earning kind (other currencies and windows) up to twenty."""
    rules = list(default_rules())
    extra = [
        (RuleKind.PURCHASE_AMOUNT, 1_000_000, 0, "EUR"),
        (RuleKind.PURCHASE_AMOUNT, 1_000_000, 0, "GBP"),
        (RuleKind.PURCHASE_AMOUNT, 100_000_000, 0, "JPY"),
        (RuleKind.MEMBER_VELOCITY, 30, 60, None),
        (RuleKind.MEMBER_VELOCITY, 100, 1_440, None),
        (RuleKind.MEMBER_VELOCITY, 3, 1, None),
        (RuleKind.MERCHANT_DAILY_POINTS, 80_000_000, 0, None),
        (RuleKind.MEMBER_DAILY_POINTS, 2_000_000, 0, None),
        (RuleKind.ABOVE_OWN_HISTORY, 20, 0, "CNY"),
        (RuleKind.ABOVE_OWN_HISTORY, 100, 0, None),
        (RuleKind.EARN_AND_BURN, 100_000, 5, None),
    ]
    for i, (kind, limit, window, currency) in enumerate(extra, start=len(rules) + 1):
        rules.append(
            RiskRule(
                i,
                kind,
                RiskAction.HOLD if kind.movement.holdable else RiskAction.REFUSE,
                limit,
                window,
                currency,
                5,
            )
        )
    return rules[:20]


def _time(run: Callable[[], None], seconds: float = 0.5) -> float:
    """Microseconds per call, over at least `seconds`."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            run()
        calls += 50
    return elapsed / calls * 1e6


def assess_figure(report: Report) -> None:
    rules = twenty_rules()
    movement = Movement(MovementKind.EARN, 42, 123, NOW, Money(12_345, "CNY"), merchant_id=7)
    counted = {c.key: Counted(3, 300, 30_000) for c in earning_claims(movement, rules)}

    def one_purchase() -> None:
        claims = earning_claims(movement, rules)
        figures = earning_figures(movement, {c.key: counted[c.key] for c in claims})
        assess(movement, figures, rules)

    report.add(
        Figure(
            "risk",
            f"assess one purchase against {len(rules)} rules, in process",
            _time(one_purchase),
            "µs",
            target_max=1000,
            detail="the counters to claim, the figures from them, and every rule's verdict",
        )
    )
