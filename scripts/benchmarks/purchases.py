"""`--only purchases`: me.purchases' first page for a member with 1,000,000 purchases against one with
100, at the same concurrency. The page is one range of (member_id, occurred_at DESC, id DESC), so the
two should serve alike (target: the big member at least 0.9 of the small one's rate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from scripts.benchmarks import dataset, scenarios
from scripts.benchmarks.load import LoadResult, run_load
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import Server

PAGE = 20
FIRST_PAGE = f"""query Purchases {{ me {{ purchases(first: {PAGE}) {{
  edges {{ node {{ id occurredAt amount {{ amountMinor currency }} pointsEarned pointsPending status
    appliedOffers {{ points }} refunds {{ pointsReversed }} }} }}
  pageInfo {{ hasNextPage endCursor }}
}} }} }}"""

Load = Callable[[float], Awaitable[LoadResult]]


async def figures(
    report: Report,
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    clients: int,
    seconds: float,
    paired: Callable[[Load, Load, float], Awaitable[tuple[LoadResult, LoadResult]]],
) -> None:
    def load(member: int) -> Load:
        return lambda secs: run_load(
            host="127.0.0.1",
            ports=server.ports,
            path="/graphql",
            headers=lambda c: tokens.member(member),
            body=scenarios.fixed_body(FIRST_PAGE),
            check=lambda answer: answer.count(b'"pointsEarned"') == PAGE and b'"errors"' not in answer,
            clients=clients,
            seconds=secs,
        )

    small, big = await paired(load(data.small_member), load(data.big_member), seconds)
    report.add(
        Figure.from_load(
            "purchases",
            f"me.purchases(first: {PAGE}), {data.big_entries:,} purchases",
            big,
            ceiling=small.ops,
            ceiling_label=f"{dataset.SMALL_LEDGER} purchases",
            target_ratio=0.9,
        )
    )
