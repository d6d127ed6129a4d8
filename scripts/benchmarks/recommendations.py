"""The recommendation figures, in process (no database):

- speed: ranking 1,000 live offers for one member (its profile from a year of day counters, then the
  score and reasons of every offer, sorted), median and p95 per call (target: under 5 ms);
- exposures: what recording a listing costs on SQLite, written at once or held by the buffer;
- quality: a generated population with planted preferences, each member's next purchase held out;
  hit rate at 5 (one of the top five offers applies to that purchase, by its merchant or category)
  for the recommender against a soonest-ending ranking and a random one (seeded).

The generator (one seed): MERCHANTS merchants spread over the categories; OFFERS live offers, 60%
naming one merchant and 40% one category, bonus points (20-300) or a percentage back in points
(2-15%) of the member's typical basket there, ending in 1 to 60 days, a third with a budget partly
spent. Each member gets a taste: one to three favourite categories holding 70% of its purchases, and in
each favourite one to two favourite merchants taking 60% of the purchases there; the rest is spread
over every category and merchant. It makes 5 to 60 purchases over the last year (amounts by category,
log-normal around a mean); the purchase after them, drawn from the same taste, is held out.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from api.exposure_buffer import ExposureBuffer
from domain.merchants import Channel, MerchantCategory
from domain.profiles import DayActivity
from domain.recommendations import Candidate, budget_left_ppm, recommend, taste
from persistence.engine import create_database
from persistence.migrate import upgrade_to_head_async
from persistence.repositories.exposures import SqlExposureLog
from scripts.benchmarks.report import Figure, Report

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TODAY = NOW.date()
MERCHANTS = 300
OFFERS = 400
MEMBERS = 3_000
TOP = 5
PAGE = 20  # the API's default page: the offers explained
CATEGORIES: list[MerchantCategory] = [c for c in MerchantCategory if c is not MerchantCategory.OTHER]
# Mean purchase per category, in minor units (CNY).
MEAN_BASKET: dict[MerchantCategory, int] = {c: 2_000 + 1_500 * i for i, c in enumerate(CATEGORIES)}
POINT_VALUES = {"CNY": Decimal("0.01")}


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    category: MerchantCategory


@dataclass(frozen=True, slots=True)
class Terms:
    """A generated offer: where it applies and what it gives."""

    id: int
    merchant_id: int | None
    category: MerchantCategory
    points: int  # fixed bonus, or 0
    percent: int  # back in points, % of the basket (1 point = 1 fen), or 0
    ends_at: datetime
    budget: tuple[int, int] | None  # (budget, used) in points

    def candidate(self, basket_minor: int) -> Candidate:
        return Candidate(
            offer_id=self.id,
            ends_at=self.ends_at,
            categories=frozenset({self.category}),
            merchant_ids=frozenset() if self.merchant_id is None else frozenset({self.merchant_id}),
            currency="CNY",
            basket_minor=basket_minor,
            money_minor=0,
            points=self.points + basket_minor * self.percent // 100,
            budget_left_ppm=None if self.budget is None else budget_left_ppm([self.budget]),
        )

    def applies(self, shop: Shop) -> bool:
        return shop.id == self.merchant_id if self.merchant_id is not None else shop.category is self.category


@dataclass(frozen=True, slots=True)
class Person:
    rows: list[DayActivity]
    baskets: dict[MerchantCategory, int]  # its mean purchase per category bought in
    next_shop: Shop


def shops(rng: random.Random) -> list[Shop]:
    return [
        Shop(i, CATEGORIES[i % len(CATEGORIES)] if i <= len(CATEGORIES) else rng.choice(CATEGORIES))
        for i in range(1, MERCHANTS + 1)
    ]


def catalogue(rng: random.Random, merchants: Sequence[Shop], count: int = OFFERS) -> list[Terms]:
    made = []
    for i in range(1, count + 1):
        at = rng.choice(merchants) if rng.random() < 0.6 else None
        category = at.category if at is not None else rng.choice(CATEGORIES)
        bonus = rng.random() < 0.5
        budget = None
        if rng.random() < 1 / 3:
            total = rng.randint(10, 100) * 1_000
            budget = (total, rng.randint(0, total * 9 // 10))
        made.append(
            Terms(
                i,
                None if at is None else at.id,
                category,
                rng.randint(20, 300) if bonus else 0,
                0 if bonus else rng.randint(2, 15),
                NOW + timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23)),
                budget,
            )
        )
    return made


def person(rng: random.Random, merchants: Sequence[Shop]) -> Person:
    by_category: dict[MerchantCategory, list[Shop]] = defaultdict(list)
    for s in merchants:
        by_category[s.category].append(s)
    favourites = rng.sample(CATEGORIES, rng.randint(1, 3))
    loved = {c: rng.sample(by_category[c], min(len(by_category[c]), rng.randint(1, 2))) for c in favourites}

    def draw() -> Shop:
        category = rng.choice(favourites) if rng.random() < 0.7 else rng.choice(CATEGORIES)
        if category in loved and rng.random() < 0.6:
            return rng.choice(loved[category])
        return rng.choice(by_category[category])

    days: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    spent: dict[MerchantCategory, list[int]] = defaultdict(lambda: [0, 0])
    for _ in range(rng.randint(5, 60)):
        shop = draw()
        amount = max(100, int(rng.lognormvariate(0, 0.5) * MEAN_BASKET[shop.category]))
        counter = days[(TODAY - timedelta(days=rng.randint(0, 364)), shop.id)]
        counter[0] += 1
        counter[1] += amount
        spent[shop.category][0] += 1
        spent[shop.category][1] += amount
    category_of = {s.id: s.category for s in merchants}
    rows = [
        DayActivity(day, merchant_id, category_of[merchant_id], Channel.OFFLINE, "CNY", n, spend)
        for (day, merchant_id), (n, spend) in days.items()
    ]
    baskets = {c: total // n for c, (n, total) in spent.items()}
    return Person(rows, baskets, draw())


def candidates(offers: Sequence[Terms], member: Person) -> list[Candidate]:
    """As the wallet estimates: on the member's mean basket in the offer's category, else the programme's."""
    return [o.candidate(member.baskets.get(o.category, MEAN_BASKET[o.category])) for o in offers]


Ranker = Callable[[Sequence[Terms], Person, random.Random], list[int]]


def by_recommender(offers: Sequence[Terms], member: Person, rng: random.Random) -> list[int]:
    ranked = recommend(
        candidates(offers, member),
        taste(member.rows, currency="CNY", today=TODAY),
        now=NOW,
        point_values=POINT_VALUES,
        merchant_names={},
    )
    return [r.offer_id for r in ranked[:TOP]]


def by_end(offers: Sequence[Terms], member: Person, rng: random.Random) -> list[int]:
    return [o.id for o in sorted(offers, key=lambda o: (o.ends_at, o.id))[:TOP]]


def at_random(offers: Sequence[Terms], member: Person, rng: random.Random) -> list[int]:
    return [o.id for o in rng.sample(list(offers), TOP)]


def hit_rates(seed: int, members: int = MEMBERS) -> dict[str, float]:
    rng = random.Random(seed)
    merchants = shops(rng)
    offers = catalogue(rng, merchants)
    by_id = {o.id: o for o in offers}
    people = [person(rng, merchants) for _ in range(members)]
    rankers: dict[str, Ranker] = {
        "recommender": by_recommender,
        "soonest ending": by_end,
        "random": at_random,
    }
    rates = {}
    for name, ranker in rankers.items():
        pick = random.Random(seed + 1)
        hits = sum(any(by_id[i].applies(p.next_shop) for i in ranker(offers, p, pick)) for p in people)
        rates[name] = hits / len(people)
    return rates


def ranking_times(seed: int, calls: int = 300) -> tuple[list[float], list[float]]:
    """Milliseconds per ranking of 1,000 live offers for one member with a year of purchases: its
    taste from the day counters, every offer scored and ranked, the first page explained. Wall-clock
    and this process's CPU time, per call."""
    rng = random.Random(seed)
    merchants = shops(rng)
    offers = catalogue(rng, merchants, 1_000)
    member = person(rng, merchants)
    while len(member.rows) < 50:  # a busy member: more rows to read its taste from
        member = person(rng, merchants)
    live = candidates(offers, member)
    wall, cpu = [], []
    for _ in range(calls):
        started, used = time.perf_counter(), time.process_time()
        recommend(
            live,
            taste(member.rows, currency="CNY", today=TODAY),
            now=NOW,
            point_values=POINT_VALUES,
            merchant_names={},
            first=PAGE,
        )
        wall.append((time.perf_counter() - started) * 1_000)
        cpu.append((time.process_time() - used) * 1_000)
    return wall, cpu


def figures(report: Report, seed: int = 7) -> None:
    wall, cpu = ranking_times(seed)

    def p95(times: list[float]) -> float:
        return statistics.quantiles(times, n=20)[-1]

    cpu_text = f"CPU time median {statistics.median(cpu):.2f} ms, p95 {p95(cpu):.2f} ms"
    for name, value in (("median", statistics.median(wall)), ("p95", p95(wall))):
        report.add(
            Figure(
                "recommendations",
                f"rank 1,000 live offers for one member ({name}, wall clock)",
                value,
                "ms",
                target_max=5,
                detail=f"{len(wall)} calls, profile from the day counters included, first {PAGE} explained; "
                + cpu_text,
            )
        )
    for name, rate in hit_rates(seed).items():
        report.add(
            Figure(
                "recommendations",
                f"hit rate at {TOP}, {name}",
                rate * 100,
                "%",
                detail=f"{MEMBERS:,} members, {OFFERS} offers, {MERCHANTS} merchants, seed {seed}",
            )
        )


async def exposure_figures(report: Report, var_dir: Path, listings: int = 300) -> None:
    """What recording a listing's exposures costs the request on SQLite (the file the server uses
    by default, WAL, one writer): written at once (EXPOSURE_FLUSH_SECONDS=0), or held by the buffer
    and written in one batch (the default), per listing of PAGE offers; and what that batch costs."""
    path = var_dir / "bench-exposures.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head_async(url)
    database = create_database(url)
    try:
        log = SqlExposureLog(database.write_engine)
        buffer = ExposureBuffer(log, flush_seconds=3600)
        offer_ids = list(range(1, PAGE + 1))
        at_once, held = [], []
        for i in range(listings):
            member = 1 + i % 50  # fifty members listing again and again: upserts onto their rows
            started = time.perf_counter()
            await log.record(member, offer_ids, NOW)
            at_once.append((time.perf_counter() - started) * 1_000)
            started = time.perf_counter()
            await buffer.record(member, offer_ids, NOW)
            held.append((time.perf_counter() - started) * 1_000)
        started = time.perf_counter()
        await buffer.flush()
        batch_ms = (time.perf_counter() - started) * 1_000
    finally:
        await database.dispose()
    report.add(
        Figure(
            "recommendations",
            f"exposures of one listing ({PAGE} offers) written at once, SQLite (median)",
            statistics.median(at_once),
            "ms",
            detail=f"p95 {statistics.quantiles(at_once, n=20)[-1]:.2f} ms; {listings} listings, "
            "one transaction each",
        )
    )
    report.add(
        Figure(
            "recommendations",
            f"exposures of one listing ({PAGE} offers) held by the buffer (median)",
            statistics.median(held) * 1_000,
            "µs",
            detail=f"then {listings} listings ({50 * PAGE:,} counters) written in one batch "
            f"in {batch_ms:.1f} ms",
        )
    )
