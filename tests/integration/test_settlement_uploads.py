"""Settlement files through the API, on both databases: POST /settlements stores and queues the file,
a worker posts it with the settlement service, and settlementImport(id) shows the merchant its
progress and pages the lines not posted. The same idempotency as the command: nothing posts twice."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from strawberry import relay

from api.app import create_app
from api.types.ids import decode_id, encode_id
from domain.clock import Clock, FixedClock, SystemClock
from domain.services.settlement_imports import ImportsRun, run_settlement_imports
from domain.settlement_imports import BatchProgress, ImportStatus
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from scripts.jobs import run_jobs
from tests.builders import Ids, Scenario
from tests.conftest import Backend, GraphQLClient, Tokens, make_client, settings_for

WHEN = (datetime.now(UTC) - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
HEADER = "reference,member,amount,currency,time,channel"
PROGRESS = """query($id: ID!, $first: Int, $after: String) {
  settlementImport(id: $id) {
    id status format sizeBytes totalLines linesDone posted duplicates rejected points failure
    startedAt finishedAt
    errors(first: $first, after: $after) {
      edges { node { line code message } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def row(reference: str, member: str, amount: str, currency: str = "CNY") -> str:
    return f"{reference},{member},{amount},{currency},{WHEN.isoformat()},"


async def upload(
    http: httpx.AsyncClient, token: str | None, content: bytes, content_type: str = "text/csv", **params: str
) -> httpx.Response:
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {token}"} if token else {})
    return await http.post("/settlements", content=content, headers=headers, params=params)


async def queued(http: httpx.AsyncClient, token: str, content: bytes) -> str:
    response = await upload(http, token, content)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["errors"] == []
    assert body["settlementImport"]["status"] == "QUEUED"
    return str(body["settlementImport"]["id"])


async def work(backend: Backend, clock: Clock | None = None, worker: str = "w1", **kw: Any) -> ImportsRun:
    return await run_settlement_imports(
        lambda: SqlAlchemyUnitOfWork(backend.database.write_engine),
        clock or SystemClock(),
        lambda _: None,
        worker=worker,
        **kw,
    )


async def progress(gql: GraphQLClient, token: str, import_id: str, **page: Any) -> dict[str, Any]:
    data = await gql.data(PROGRESS, {"id": import_id, **page}, token)
    found: dict[str, Any] = data["settlementImport"]
    return found


async def scalar(backend: Backend, sql: str) -> int:
    async with backend.database.read_engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


@dataclass(frozen=True)
class Shop:
    token: str  # the merchant's
    alice: Ids
    bob: Ids
    a: str  # the merchant's references for alice and bob
    b: str


async def shop_with_members(given: Scenario) -> Shop:
    merchant = await given.merchant()
    alice, bob = await given.member("alice"), await given.member("bob")
    a, b = await given.member_ref(merchant, alice), await given.member_ref(merchant, bob)
    return Shop(given.tokens.merchant(merchant.raw), alice, bob, a, b)


async def test_an_upload_is_posted_in_the_background_with_progress_and_its_bad_lines_paged(
    backend: Backend, given: Scenario, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    shop = await shop_with_members(given)
    token, alice, bob, a, b = shop.token, shop.alice, shop.bob, shop.a, shop.b
    content = csv_file(
        row("S-1", a, "123.45"),  # line 2: 123 points
        row("S-2", "nobody", "10.00"),  # line 3: no such member
        row("S-3", b, "9.99"),  # line 4: 9 points
        row("S-4", a, "ten"),  # line 5: not an amount
        row("S-5", a, "500.00", "USD"),  # line 6: USD 500 at 7 a dollar: 3,500 points
        row("S-1", a, "1.00"),  # line 7: S-1 again with another amount
    )
    import_id = await queued(http, token, content)

    before = await progress(gql, token, import_id)
    assert (before["status"], before["totalLines"], before["linesDone"], before["sizeBytes"]) == (
        "QUEUED",
        6,
        0,
        len(content),
    )
    assert await scalar(backend, "SELECT count(*) FROM purchases") == 0  # nothing posted by the upload

    run = await work(backend, batch_size=2)

    assert run == ImportsRun(imports=1, lines=6)
    done = await progress(gql, token, import_id, first=2)
    assert {k: done[k] for k in ("status", "linesDone", "posted", "duplicates", "rejected", "points")} == {
        "status": "DONE",
        "linesDone": 6,
        "posted": 3,
        "duplicates": 0,
        "rejected": 3,
        "points": 123 + 9 + 3_500,
    }
    assert done["failure"] is None
    assert done["finishedAt"] is not None
    assert (await given.balance(alice))["available"] == 123 + 3_500
    assert (await given.balance(bob))["available"] == 9
    # The bad lines, two to a page, by line number, each with its code.
    first_page = done["errors"]
    assert [(e["node"]["line"], e["node"]["code"]) for e in first_page["edges"]] == [
        (3, "NOT_FOUND"),
        (5, "VALIDATION"),
    ]
    assert first_page["edges"][1]["node"]["message"].startswith("amount:")
    assert first_page["pageInfo"]["hasNextPage"] is True
    after = first_page["pageInfo"]["endCursor"]
    rest = (await progress(gql, token, import_id, first=2, after=after))["errors"]
    assert [(e["node"]["line"], e["node"]["code"]) for e in rest["edges"]] == [(7, "IDEMPOTENCY_KEY_REUSED")]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert await work(backend) == ImportsRun(imports=0, lines=0)  # nothing left to take


async def test_the_same_file_uploaded_again_posts_nothing_twice(
    backend: Backend, given: Scenario, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    shop = await shop_with_members(given)
    token, alice, bob, a, b = shop.token, shop.alice, shop.bob, shop.a, shop.b
    content = csv_file(row("S-1", a, "100.00"), row("S-2", b, "50.00"))
    first = await queued(http, token, content)
    await work(backend)
    second = await queued(http, token, content)
    await work(backend)

    again = await progress(gql, token, second)
    assert (again["status"], again["posted"], again["duplicates"], again["points"]) == ("DONE", 0, 2, 0)
    assert (await progress(gql, token, first))["points"] == 150
    assert (await given.balance(alice))["available"] == 100
    assert (await given.balance(bob))["available"] == 50
    assert await scalar(backend, "SELECT count(*) FROM purchases") == 2


async def test_only_the_uploading_merchant_reads_an_import(
    given: Scenario, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    shop = await shop_with_members(given)
    token, alice, a = shop.token, shop.alice, shop.a
    import_id = await queued(http, token, csv_file(row("S-1", a, "1.00")))
    other = given.tokens.merchant((await given.merchant("Elsewhere")).raw)

    for caller, code in ((other, "NOT_FOUND"), (given.tokens.member(alice.raw), "FORBIDDEN")):
        body = await gql.post(PROGRESS, {"id": import_id}, caller)
        assert body["data"] is None or body["data"]["settlementImport"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    # An id that names no import gets the same answer as another merchant's.
    missing = await gql.post(PROGRESS, {"id": str(encode_id("SettlementImport", 9999))}, token)
    assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]


async def test_uploads_that_cannot_be_imported_are_refused_and_store_nothing(
    backend: Backend, given: Scenario, tokens: Tokens
) -> None:
    shop = await shop_with_members(given)
    token, alice, a = shop.token, shop.alice, shop.a
    small = settings_for(backend.url, settlement_max_bytes=200)
    async with make_client(small, backend.database) as http:
        big = csv_file(*(row(f"S-{n}", a, "1.00") for n in range(10)))
        assert len(big) > 200
        cases = [
            (await upload(http, token, big), 413, "VALIDATION", ["file"]),
            (await upload(http, None, csv_file(row("S-1", a, "1.00"))), 401, "UNAUTHENTICATED", None),
            (await upload(http, tokens.admin(), csv_file(row("S-1", a, "1.00"))), 403, "FORBIDDEN", None),
            (await upload(http, token, b"reference,member\nS-1,x\n"), 400, "VALIDATION", ["file"]),
            (await upload(http, token, csv_file()), 400, "VALIDATION", ["file"]),
            (await upload(http, token, b"{}", "application/octet-stream"), 400, "VALIDATION", ["format"]),
        ]
        for response, status, code, field in cases:
            assert response.status_code == status, response.text
            body = response.json()
            assert body["settlementImport"] is None
            assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, field)]
        # JSON Lines by its content type, or by ?format=, within the limit.
        line = json.dumps(
            {"reference": "J-1", "member": a, "amount": "2.00", "currency": "CNY", "time": WHEN.isoformat()}
        )
        assert (await upload(http, token, line.encode(), "application/x-ndjson")).status_code == 202
        assert (await upload(http, token, line.encode(), "text/plain", format="jsonl")).status_code == 202
    assert await scalar(backend, "SELECT count(*) FROM settlement_imports") == 2
    await work(backend)
    assert (await given.balance(alice))["available"] == 2


async def test_an_import_whose_worker_died_resumes_after_its_last_batch(
    backend: Backend, given: Scenario, http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    shop = await shop_with_members(given)
    token, alice, bob, a, b = shop.token, shop.alice, shop.bob, shop.a, shop.b
    content = csv_file(*(row(f"S-{n}", a if n % 2 else b, f"{n}0.00") for n in range(1, 6)))  # 10..50
    import_id = await queued(http, token, content)

    class Crash(Exception):
        pass

    def crash_after_first_batch(done: int) -> None:
        raise Crash  # the worker's process dies right after its first batch committed

    with pytest.raises(Crash):
        await run_settlement_imports(
            lambda: SqlAlchemyUnitOfWork(backend.database.write_engine),
            SystemClock(),
            crash_after_first_batch,
            worker="dies",
            batch_size=2,
        )
    halfway = await progress(gql, token, import_id)
    assert (halfway["status"], halfway["linesDone"], halfway["posted"], halfway["points"]) == (
        "RUNNING",
        2,
        2,
        10 + 20,
    )
    # While the dead worker's lease lasts, no other worker takes the import.
    assert await work(backend, worker="w2") == ImportsRun(imports=0, lines=0)

    later = FixedClock(datetime.now(UTC) + timedelta(minutes=2))  # past the lease
    assert await work(backend, later, worker="w2", batch_size=2) == ImportsRun(imports=1, lines=3)

    done = await progress(gql, token, import_id)
    assert {k: done[k] for k in ("status", "linesDone", "posted", "duplicates", "points")} == {
        "status": "DONE",
        "linesDone": 5,
        "posted": 5,
        "duplicates": 0,  # the first batch is not posted again, nor counted twice
        "points": 10 + 20 + 30 + 40 + 50,
    }
    assert (await given.balance(bob))["available"] == 20 + 40
    assert (await given.balance(alice))["available"] == 10 + 30 + 50
    assert await scalar(backend, "SELECT count(*) FROM purchases") == 5
    # Had the first worker only stalled, its next batch could not record: it would roll back.
    stale = BatchProgress(cursor=6, lines=1, posted=1, duplicates=0, points=60, errors=())
    async with SqlAlchemyUnitOfWork(backend.database.write_engine) as uow:
        raw = int(decode_id(relay.GlobalID.from_id(import_id), "SettlementImport", "id"))
        assert await uow.settlement_imports.record(raw, "dies", stale, later.now()) is False
        assert (
            await uow.settlement_imports.finish(raw, "dies", ImportStatus.FAILED, later.now(), "x") is False
        )


async def test_the_jobs_command_posts_queued_files(
    backend: Backend, given: Scenario, http: httpx.AsyncClient
) -> None:
    shop = await shop_with_members(given)
    token, alice, bob, a, b = shop.token, shop.alice, shop.bob, shop.a, shop.b
    await queued(http, token, csv_file(row("S-1", a, "7.00"), row("S-2", b, "8.00")))

    lines = await run_jobs(backend.url, ["settlements"], show_progress=False)

    assert lines[0].startswith("settlements: 2 lines of 1 settlement files posted in ")
    assert (await given.balance(alice))["available"] == 7
    assert (await given.balance(bob))["available"] == 8


async def test_the_servers_own_worker_posts_an_upload_when_it_arrives(
    backend: Backend, given: Scenario
) -> None:
    shop = await shop_with_members(given)
    # Polling once a minute: what posts the file within the test is the upload waking the worker.
    app = create_app(settings_for(backend.url, settlement_poll_seconds=60), backend.database)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        import_id = await queued(http, shop.token, csv_file(row("S-1", shop.a, "5.00")))
        for _ in range(200):
            found = await progress(GraphQLClient(http), shop.token, import_id)
            if found["status"] == "DONE":
                break
            await asyncio.sleep(0.05)
    assert (found["status"], found["posted"], found["points"]) == ("DONE", 1, 5)
    assert (await given.balance(shop.alice))["available"] == 5
