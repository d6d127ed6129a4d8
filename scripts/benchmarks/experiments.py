"""The experiment figure: time to evaluate an experiment from its per-member rows, in process.

Two variants and a holdout (45% / 45% / 10%) of a population whose spend looks like purchase data: most
members buy nothing in the period, the buyers' spend is log-normal, and each member's pre-period spend
follows its period spend (what CUPED uses). Each evaluation computes every arm's figures, Welch's
interval, the CUPED-adjusted one, the z-test of conversion, mSPRT's interval and the sample-ratio check.
Timed beside one `math.fsum` pass over the same figures: the least any evaluation must read.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from functools import partial

from domain.experiments.evaluation import ArmSample, evaluate_experiment
from scripts.benchmarks.report import Figure, Report

SHARES = {"A": 0.45, "B": 0.45, "holdout": 0.10}


def _arm(name: str, members: int, lift: float, rng: random.Random) -> ArmSample:
    spend, pre = [], []
    for _ in range(members):
        habit = rng.lognormvariate(math.log(6_000), 1.0) if rng.random() < 0.3 else 0.0
        bought = rng.random() < 0.12 + lift
        spend.append(round(habit * 0.8 + (rng.lognormvariate(math.log(8_000), 1.0) if bought else 0.0)))
        pre.append(round(habit))
    participants = sum(1 for s in spend if s > 0)
    return ArmSample(name, members, members, participants, spend, pre)


def _best_of(run: Callable[[], object], times: int = 3) -> float:
    """Milliseconds of the fastest of `times` runs."""
    best = math.inf
    for _ in range(times):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def figures(report: Report) -> None:
    rng = random.Random(15)
    for population in (10_000, 100_000, 1_000_000):
        sizes = {name: round(population * share) for name, share in SHARES.items()}
        a = _arm("A", sizes["A"], 0.01, rng)
        b = _arm("B", sizes["B"], 0.02, rng)
        holdout = _arm("holdout", sizes["holdout"], 0.0, rng)
        every = [*a.spend, *a.pre_spend, *b.spend, *b.pre_spend, *holdout.spend, *holdout.pre_spend]
        evaluation = _best_of(partial(evaluate_experiment, [a, b], holdout, SHARES))
        floor = _best_of(partial(math.fsum, every))
        report.add(
            Figure(
                "experiments",
                f"evaluate 2 variants and a holdout, {population:,} members",
                evaluation,
                "ms",
                ceiling=None,
                detail=f"{floor:,.1f} ms for one fsum pass over the same figures",
                target_max=population / 500,  # 2 ms per 1,000 members: a million in two seconds
            )
        )
