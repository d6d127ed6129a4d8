"""The console figure: a member's page (/console/members/N, rendered on the server) against its own
GraphQL query sent straight to /graphql with the same admin's token, paired. The ratio is what the
console adds over the API it reads through: the in-process request, the template and the HTML."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from api.console.ids import global_id
from api.console.pages.members import DETAIL
from scripts.benchmarks import dataset, scenarios
from scripts.benchmarks.load import LoadResult, run_load
from scripts.benchmarks.report import Figure, Report
from scripts.benchmarks.server import Server

Load = Callable[[float], Awaitable[LoadResult]]
Paired = Callable[[Load, Load, float], Awaitable[tuple[LoadResult, LoadResult]]]


async def figure(
    report: Report,
    server: Server,
    data: dataset.Dataset,
    tokens: scenarios.Tokens,
    clients: int,
    seconds: float,
    paired: Paired,
) -> None:
    member = data.member_ids[0]
    query = json.dumps({"query": DETAIL, "variables": {"id": global_id("Member", member), "reveal": False}})
    payload = query.encode()

    def api(secs: float) -> Awaitable[LoadResult]:
        return run_load(
            host="127.0.0.1",
            ports=server.ports,
            path="/graphql",
            headers=lambda c: tokens.admin(),
            body=lambda c, n: payload,
            check=scenarios.has(b'"ledger"'),
            clients=clients,
            seconds=secs,
        )

    def page(secs: float) -> Awaitable[LoadResult]:
        return run_load(
            host="127.0.0.1",
            ports=server.ports,
            path=f"/console/members/{member}",
            headers=lambda c: tokens.console(),
            body=lambda c, n: b"",
            check=lambda answer: b'<h2 id="ledger">' in answer,
            clients=clients,
            seconds=secs,
            method="GET",
        )

    direct, rendered = await paired(api, page, seconds)
    report.add(
        Figure.from_load(
            "console",
            f"member page, {clients} clients",
            rendered,
            ceiling=direct.ops,
            ceiling_label="its query on /graphql",
            target_ratio=0.7,
        )
    )
