"""The experiment statistics against values computed here independently: scipy's distributions and tests,
numpy for CUPED's regression, textbook values, and a simulation of repeated looks for mSPRT."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from domain.experiments import distributions
from domain.experiments.statistics import (
    SAMPLE_RATIO_MISMATCH_P,
    TAU_EFFECT_SIZE,
    cuped,
    cuped_columns,
    msprt,
    roi,
    sample_ratio,
    two_proportions,
    welch,
)

REL = 1e-9  # where the maths is exact, only floating-point rounding separates the two computations


def close(got: float | None, expected: float, rel: float = REL, abs_: float = 0.0) -> bool:
    return got is not None and math.isclose(got, float(expected), rel_tol=rel, abs_tol=abs_)


def scipy_welch(treatment: Sequence[float], control: Sequence[float]) -> Any:
    with warnings.catch_warnings():
        # scipy warns of "catastrophic cancellation" whenever an arm is constant; with whole numbers
        # its moments are exact all the same
        warnings.simplefilter("ignore", RuntimeWarning)
        return stats.ttest_ind(treatment, control, equal_var=False)


def spend_like(rng: np.random.Generator, n: int, buyers: float, median: float) -> list[int]:
    """Minor units per member: most buy nothing, the buyers' spend is log-normal (as purchase data is)."""
    bought = rng.random(n) < buyers
    amounts = np.round(rng.lognormal(math.log(median), 1.0, n)).astype(int)
    return [int(a) if b else 0 for a, b in zip(amounts, bought, strict=True)]


# name -> (treatment, control), seeded: several shapes and sizes
_rng = np.random.default_rng(20261128)
SHAPES: dict[str, tuple[list[float], list[float]]] = {
    "normal, equal sizes": (_rng.normal(100, 15, 200).tolist(), _rng.normal(97, 15, 200).tolist()),
    "unequal sizes and variances": (_rng.normal(10, 1, 30).tolist(), _rng.normal(9, 6, 400).tolist()),
    "two and three members": (_rng.normal(5, 2, 2).tolist(), _rng.normal(4, 1, 3).tolist()),
    "heavy-tailed": (_rng.standard_t(3, 500).tolist(), _rng.standard_t(3, 80).tolist()),
    "spend, zero-inflated": (
        [float(v) for v in spend_like(_rng, 5000, 0.12, 8000)],
        [float(v) for v in spend_like(_rng, 1200, 0.10, 8000)],
    ),
    "large": (_rng.exponential(50, 40_000).tolist(), _rng.exponential(49, 40_000).tolist()),
    "far apart": (_rng.normal(50, 2, 60).tolist(), _rng.normal(40, 3, 70).tolist()),
}


# --- the distribution functions -------------------------------------------------------------------


@pytest.mark.parametrize("df", [1, 1.5, 2, 3.7, 9, 24.99, 120, 4321.5, 2e5])
def test_t_tails_and_quantiles_match_scipy(df: float) -> None:
    for t in [0.0, 0.05, 0.7, 1.0, 1.96, 2.5, 4.0, 9.0, 35.0]:
        assert close(distributions.t_two_sided_p(t, df), 2 * stats.t.sf(t, df))
        assert close(distributions.t_sf(-t, df), stats.t.sf(-t, df))
        assert close(distributions.t_pdf(t, df), stats.t.pdf(t, df))
    for p in [0.001, 0.025, 0.05, 0.3, 0.7, 0.9, 0.95, 0.975, 0.995, 0.9999]:
        assert close(distributions.t_quantile(p, df), stats.t.ppf(p, df))


def test_textbook_quantiles() -> None:
    # Student's table, and the normal quantile every 95% interval uses
    assert close(distributions.t_quantile(0.975, 1), 12.706204736174698)
    assert close(distributions.t_quantile(0.975, 10), 2.2281388519649385)
    assert close(distributions.t_quantile(0.95, 30), 1.6972608865939587)
    assert close(distributions.normal_quantile(0.975), 1.959963984540054)
    assert close(distributions.chi_square_sf(3.841458820694124, 1), 0.05)
    assert close(distributions.chi_square_sf(5.991464547107979, 2), 0.05)
    # the t distribution with one degree of freedom is Cauchy's: P(|T| > 1) = 1/2
    assert close(distributions.t_two_sided_p(1.0, 1), 0.5)


@pytest.mark.parametrize(
    ("a", "b"), [(0.5, 0.5), (2, 3), (0.5, 40), (40, 0.5), (30, 70), (1e4, 0.5), (5e5, 5e5)]
)
def test_regularized_beta_matches_scipy(a: float, b: float) -> None:
    mean = a / (a + b)
    for x in [1e-6, 0.01, 0.2, 0.5, 0.8, 0.999, mean * 0.999, mean, min(mean * 1.001, 0.9999)]:
        expected = special.betainc(a, b, x)
        if expected > 1e-290:
            assert close(distributions.regularized_beta(a, b, x), expected), (a, b, x)
    assert distributions.regularized_beta(a, b, 0.0) == 0.0
    assert distributions.regularized_beta(a, b, 1.0) == 1.0


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 20, 99])
def test_chi_square_tail_matches_scipy(k: int) -> None:
    for statistic in [1e-4, 0.3, 1.0, k - 0.5, k + 1.5, 2.0 * k, 12.0, 60.0, 400.0]:
        assert close(distributions.chi_square_sf(statistic, k), stats.chi2.sf(statistic, k)), statistic
        assert close(
            distributions.regularized_upper_gamma(k / 2, statistic), special.gammaincc(k / 2, statistic)
        )
    assert distributions.chi_square_sf(0.0, k) == 1.0
    assert distributions.chi_square_sf(math.inf, k) == 0.0


def test_log_beta_keeps_its_digits_for_large_arguments() -> None:
    # B(p, q) = (p - 1)! / (q (q + 1) ... (q + p - 1)) for a whole p: exact, term by term
    for p, q in [(12, 3e6), (3, 4.5), (40, 2e5), (1, 7e7)]:
        exact = math.log(math.factorial(p - 1)) - math.fsum(math.log(q + k) for k in range(p))
        assert close(distributions.log_beta(p, q), exact, rel=1e-14)
        assert close(distributions.log_beta(q, p), exact, rel=1e-14)
    for a, b in [(0.5, 3e6), (2e6, 3e6), (10.5, 11.5)]:
        assert close(distributions.log_beta(a, b), special.betaln(a, b))


# --- Welch -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_welch_matches_scipy(shape: str, confidence: float) -> None:
    treatment, control = SHAPES[shape]
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    interval = reference.confidence_interval(confidence)
    estimate = welch(treatment, control, confidence)
    scale = abs(np.mean(treatment)) + abs(np.mean(control))
    assert close(estimate.difference, np.mean(treatment) - np.mean(control), abs_=1e-12 * scale)
    assert close(
        estimate.std_error,
        math.sqrt(np.var(treatment, ddof=1) / len(treatment) + np.var(control, ddof=1) / len(control)),
    )
    assert close(estimate.degrees_of_freedom, reference.df)
    assert close(estimate.p_value, reference.pvalue)
    assert close(estimate.low, interval.low, abs_=1e-12 * scale)
    assert close(estimate.high, interval.high, abs_=1e-12 * scale)


def test_welch_textbook_example() -> None:
    # Welch's test, Wikipedia's first example: t = -2.46, df = 24.99, p = 0.021
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    estimate = welch(a1, a2)
    assert estimate.difference is not None
    assert estimate.std_error is not None
    assert round(estimate.difference / estimate.std_error, 2) == -2.46
    assert round(estimate.degrees_of_freedom or 0, 2) == 24.99
    assert round(estimate.p_value or 0, 3) == 0.021


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 200_000), min_size=2, max_size=40),
    st.lists(st.integers(0, 200_000), min_size=2, max_size=40),
)
def test_welch_matches_scipy_on_any_integer_spend(treatment: list[int], control: list[int]) -> None:
    assume(len(set(treatment)) > 1 or len(set(control)) > 1)
    reference = scipy_welch(treatment, control)
    estimate = welch(treatment, control)
    assert close(estimate.p_value, reference.pvalue, abs_=1e-300)
    interval = reference.confidence_interval(0.95)
    assert close(estimate.low, interval.low, abs_=1e-7)
    assert close(estimate.high, interval.high, abs_=1e-7)


def test_whole_numbers_and_their_floats_give_the_same_estimate() -> None:
    # spend is summed exactly as integers; the same spend as floats takes the two-pass route
    treatment, control = SHAPES["spend, zero-inflated"]
    as_ints = welch([int(v) for v in treatment], [int(v) for v in control])
    as_floats = welch(treatment, control)
    for name in ("difference", "std_error", "degrees_of_freedom", "p_value", "low", "high"):
        assert close(getattr(as_ints, name), getattr(as_floats, name), rel=1e-12), name
    huge = [10**15 + v for v in (1, 2, 3, 4)]  # the exact sums keep digits a float sum of squares loses
    assert welch(huge, [10**15, 10**15 + 2]).std_error == math.sqrt((5 / 3) / 4 + 2 / 2)


def test_welch_degenerate_inputs_give_blanks_not_errors() -> None:
    empty = welch([], [1.0, 2.0])
    assert (empty.difference, empty.low, empty.p_value, empty.std_error) == (None, None, None, None)
    single = welch([5.0], [1.0, 2.0])
    assert single.difference == 3.5
    assert (single.low, single.high, single.p_value, single.std_error) == (None, None, None, None)
    flat = welch([3.0, 3.0, 3.0], [1.0, 1.0])
    assert (flat.difference, flat.low, flat.high, flat.std_error, flat.p_value) == (2.0, 2.0, 2.0, 0.0, None)
    nothing_bought = welch([0, 0, 0, 0], [0, 0, 0])
    assert (nothing_bought.difference, nothing_bought.p_value) == (0.0, None)
    # one arm flat, the other not: df = n - 1 of the varying arm, as scipy has it
    one_flat = welch([2.0, 2.0, 2.0], [1.0, 2.0, 4.0, 7.0])
    reference = scipy_welch([2.0, 2.0, 2.0], [1.0, 2.0, 4.0, 7.0])
    assert close(one_flat.degrees_of_freedom, 3)
    assert close(one_flat.p_value, reference.pvalue)
    with pytest.raises(ValueError, match="confidence"):
        welch([1.0, 2.0], [1.0, 2.0], confidence=1.0)


# --- two proportions -------------------------------------------------------------------------------


def test_two_proportions_worked_example() -> None:
    # 30 of 100 against 20 of 100: pooled rate 1/4, se = sqrt(1/4 * 3/4 * (1/100 + 1/100))
    result = two_proportions(30, 100, 20, 100)
    assert result.rate_treatment == 0.3
    assert result.rate_control == 0.2
    assert close(result.z, 0.1 / math.sqrt(0.25 * 0.75 * 0.02))
    assert close(result.p_value, 0.10247043485974942)
    margin = 1.959963984540054 * math.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    assert close(result.low, 0.1 - margin)
    assert close(result.high, 0.1 + margin)


@pytest.mark.parametrize("seed", range(8))
def test_two_proportions_match_scipy_normal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_t, n_c = (int(v) for v in rng.integers(20, 100_000, 2))
    x_t, x_c = int(rng.binomial(n_t, 0.1)), int(rng.binomial(n_c, 0.105))
    result = two_proportions(x_t, n_t, x_c, n_c)
    p_t, p_c = x_t / n_t, x_c / n_c
    pooled = (x_t + x_c) / (n_t + n_c)
    z = (p_t - p_c) / np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    assert close(result.z, z)
    assert close(result.p_value, 2 * stats.norm.sf(abs(z)))
    half = stats.norm.ppf(0.975) * np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    assert close(result.low, p_t - p_c - half, abs_=1e-15)
    assert close(result.high, p_t - p_c + half, abs_=1e-15)
    # the z-test is the chi-square test of the 2x2 table without continuity correction: z^2 = chi^2
    table = [[x_t, n_t - x_t], [x_c, n_c - x_c]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert close((result.z or 0) ** 2, chi2, rel=1e-8)
    assert close(result.p_value, p, rel=1e-8)


def test_two_proportions_degenerate_inputs() -> None:
    empty = two_proportions(0, 0, 3, 10)
    assert (empty.rate_treatment, empty.difference, empty.z, empty.p_value) == (None, None, None, None)
    assert empty.rate_control == 0.3
    nobody = two_proportions(0, 10, 0, 12)
    assert (nobody.difference, nobody.z, nobody.p_value, nobody.low, nobody.high) == (
        0.0,
        None,
        None,
        0.0,
        0.0,
    )
    everybody = two_proportions(10, 10, 12, 12)
    assert (everybody.z, everybody.p_value) == (None, None)
    with pytest.raises(ValueError, match="successes"):
        two_proportions(11, 10, 0, 10)


# --- sample ratio ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "shares"),
    [
        ([5000, 5000], [0.5, 0.5]),
        ([5123, 4877], [0.5, 0.5]),
        ([4510, 4490, 1000], [0.45, 0.45, 0.10]),
        ([3400, 3300, 3300], [1, 1, 1]),  # shares need not sum to one
        ([50_400, 49_600, 9_100, 11_000], [0.4, 0.4, 0.08, 0.12]),
        ([3, 9], [0.5, 0.5]),
    ],
)
def test_sample_ratio_matches_scipy(observed: list[int], shares: list[float]) -> None:
    expected = np.array(shares) / sum(shares) * sum(observed)
    reference = stats.chisquare(observed, expected)
    result = sample_ratio(observed, shares)
    assert close(result.statistic, reference.statistic)
    assert close(result.p_value, reference.pvalue)
    assert close(result.p_value, stats.chi2.sf(reference.statistic, len(observed) - 1))
    assert result.degrees_of_freedom == len(observed) - 1
    assert result.mismatch == (reference.pvalue < SAMPLE_RATIO_MISMATCH_P)


def test_sample_ratio_flags_below_one_in_a_thousand() -> None:
    # 50/50 over 10,000: chi^2 = (d^2/5000) * 2; p = 0.001 at chi^2 = 10.83, i.e. a gap of about 165
    assert sample_ratio([5160, 4840], [0.5, 0.5]).mismatch is False  # chi^2 = 10.24, p = 0.0014
    assert sample_ratio([5170, 4830], [0.5, 0.5]).mismatch is True  # chi^2 = 11.56, p = 0.00067
    assert SAMPLE_RATIO_MISMATCH_P == 0.001


def test_sample_ratio_degenerate_inputs() -> None:
    nobody = sample_ratio([0, 0, 0], [0.45, 0.45, 0.1])
    assert (nobody.statistic, nobody.p_value, nobody.mismatch) == (None, None, False)
    one_arm = sample_ratio([40], [1.0])
    assert (one_arm.statistic, one_arm.degrees_of_freedom, one_arm.mismatch) == (None, 0, False)
    # an arm designed to get nobody takes no part while it is empty ...
    unused = sample_ratio([500, 500, 0], [0.5, 0.5, 0.0])
    assert (unused.statistic, unused.degrees_of_freedom, unused.p_value) == (0.0, 1, 1.0)
    # ... and is a mismatch as soon as someone lands there
    leaked = sample_ratio([500, 499, 1], [0.5, 0.5, 0.0])
    assert (leaked.statistic, leaked.p_value, leaked.mismatch) == (math.inf, 0.0, True)
    with pytest.raises(ValueError, match="one expected share"):
        sample_ratio([1, 2], [1.0])


# --- CUPED -----------------------------------------------------------------------------------------


def _pre_and_period(rng: np.random.Generator, n: int, lift: float) -> list[tuple[float, float]]:
    """Members whose period spend follows their pre-period spend (habit), plus noise and a lift."""
    pre = rng.gamma(2.0, 3000.0, n)
    period = 0.8 * pre + rng.normal(0, 1500.0, n) + lift
    return [(float(y), float(x)) for y, x in zip(period, pre, strict=True)]


@pytest.mark.parametrize(
    ("n_t", "n_c", "seed"), [(300, 300, 1), (2000, 500, 2), (40, 25, 3), (12_000, 3_000, 4)]
)
def test_cuped_matches_numpy_regression_and_scipy(n_t: int, n_c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    treatment, control = _pre_and_period(rng, n_t, 250.0), _pre_and_period(rng, n_c, 0.0)
    y = np.array([p[0] for p in treatment + control])
    x = np.array([p[1] for p in treatment + control])
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    adjusted_t = np.array([p[0] for p in treatment]) - theta * (
        np.array([p[1] for p in treatment]) - x.mean()
    )
    adjusted_c = np.array([p[0] for p in control]) - theta * (np.array([p[1] for p in control]) - x.mean())
    reference = stats.ttest_ind(adjusted_t, adjusted_c, equal_var=False)
    interval = reference.confidence_interval(0.95)
    adjusted = np.concatenate([adjusted_t, adjusted_c])

    result = cuped(treatment, control)
    assert close(result.theta, theta)
    assert close(result.difference, adjusted_t.mean() - adjusted_c.mean(), rel=1e-8)
    assert close(result.p_value, reference.pvalue, rel=1e-8)
    assert close(result.low, interval.low, rel=1e-8)
    assert close(result.high, interval.high, rel=1e-8)
    assert close(result.variance_reduction, 1 - np.var(adjusted, ddof=1) / np.var(y, ddof=1))
    # the pooled fit removes the squared correlation's share of the variance
    assert close(result.variance_reduction, np.corrcoef(y, x)[0, 1] ** 2, rel=1e-6)


def test_cuped_on_whole_numbers_matches_numpy() -> None:
    # spend in minor units: the exact integer sums give what numpy's float regression gives
    rng = np.random.default_rng(8)
    treatment = [(round(y), round(x)) for y, x in _pre_and_period(rng, 3000, 250.0)]
    control = [(round(y), round(x)) for y, x in _pre_and_period(rng, 800, 0.0)]
    y = np.array([p[0] for p in treatment + control], dtype=float)
    x = np.array([p[1] for p in treatment + control], dtype=float)
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    adjusted_t = np.array([p[0] - theta * (p[1] - x.mean()) for p in treatment])
    adjusted_c = np.array([p[0] - theta * (p[1] - x.mean()) for p in control])
    reference = stats.ttest_ind(adjusted_t, adjusted_c, equal_var=False)
    result = cuped(treatment, control)
    assert close(result.theta, theta)
    assert close(result.p_value, reference.pvalue, rel=1e-8)
    assert close(result.std_error, math.sqrt(adjusted_t.var(ddof=1) / 3000 + adjusted_c.var(ddof=1) / 800))
    floats = cuped([(float(a), float(b)) for a, b in treatment], [(float(a), float(b)) for a, b in control])
    assert close(floats.theta, result.theta or 0, rel=1e-12)
    assert close(floats.low, result.low or 0, rel=1e-12)


def test_cuped_on_columns_is_cuped_on_pairs() -> None:
    rng = np.random.default_rng(9)
    treatment, control = _pre_and_period(rng, 50, 10.0), _pre_and_period(rng, 40, 0.0)
    columns = cuped_columns(
        [y for y, _ in treatment], [x for _, x in treatment], [y for y, _ in control], [x for _, x in control]
    )
    assert columns == cuped(treatment, control)
    with pytest.raises(ValueError, match="one covariate per metric value"):
        cuped_columns([1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0])


def test_cuped_narrows_the_interval_when_the_covariate_explains_spend() -> None:
    rng = np.random.default_rng(7)
    treatment, control = _pre_and_period(rng, 1000, 250.0), _pre_and_period(rng, 1000, 0.0)
    raw = welch([y for y, _ in treatment], [y for y, _ in control])
    adjusted = cuped(treatment, control)
    assert raw.std_error is not None
    assert adjusted.std_error is not None
    assert adjusted.variance_reduction is not None
    assert adjusted.variance_reduction > 0.7
    assert adjusted.std_error < 0.6 * raw.std_error
    assert adjusted.low is not None
    assert adjusted.high is not None
    assert adjusted.low < 250 < adjusted.high


def test_cuped_degenerate_inputs() -> None:
    assert cuped([], [(1.0, 1.0), (2.0, 2.0)]).difference is None
    # a covariate that never varies adjusts nothing: the figures are Welch's
    flat = cuped([(5.0, 7.0), (9.0, 7.0), (4.0, 7.0)], [(1.0, 7.0), (3.0, 7.0)])
    plain = welch([5.0, 9.0, 4.0], [1.0, 3.0])
    assert flat.theta == 0.0
    assert flat.variance_reduction == 0.0
    assert (flat.difference, flat.low, flat.high, flat.p_value) == (
        plain.difference,
        plain.low,
        plain.high,
        plain.p_value,
    )
    single = cuped([(5.0, 1.0)], [(1.0, 2.0)])
    assert single.p_value is None
    assert single.difference is not None


# --- mSPRT -----------------------------------------------------------------------------------------


def _mixture_figures(
    treatment: Sequence[float], control: Sequence[float], tau: float, alpha: float
) -> tuple[float, float]:
    """The normal-mixture likelihood ratio's p-value and half-width, from the formula (numpy)."""
    t, c = np.asarray(treatment), np.asarray(control)
    v = t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c)
    d = t.mean() - c.mean()
    ratio = np.sqrt(v / (v + tau**2)) * np.exp(tau**2 * d**2 / (2 * v * (v + tau**2)))
    half = np.sqrt((2 * np.log(1 / alpha) + np.log((v + tau**2) / v)) * v * (v + tau**2) / tau**2)
    return float(min(1.0, 1 / ratio)), float(half)


@pytest.mark.parametrize(
    "shape", ["normal, equal sizes", "unequal sizes and variances", "spend, zero-inflated", "far apart"]
)
def test_msprt_matches_the_mixture_formula(shape: str) -> None:
    treatment, control = SHAPES[shape]
    for tau, alpha in [(1.0, 0.05), (25.0, 0.1), (300.0, 0.01)]:
        p, half = _mixture_figures(treatment, control, tau, alpha)
        result = msprt(treatment, control, tau=tau, alpha=alpha)
        difference = np.mean(treatment) - np.mean(control)
        assert result.tau == tau
        assert close(result.p_value, p, abs_=1e-300)
        assert close(result.low, difference - half, rel=1e-9, abs_=1e-9 * half)
        assert close(result.high, difference + half, rel=1e-9, abs_=1e-9 * half)
        # the interval is the test inverted: it leaves out 0 exactly when p < alpha
        assert (result.p_value < alpha) == (not result.low <= 0 <= result.high)  # type: ignore[operator]


def test_msprt_default_tau_is_a_tenth_of_the_pooled_standard_deviation() -> None:
    treatment, control = SHAPES["unequal sizes and variances"]
    pooled = (
        (len(treatment) - 1) * np.var(treatment, ddof=1) + (len(control) - 1) * np.var(control, ddof=1)
    ) / (len(treatment) + len(control) - 2)
    assert close(msprt(treatment, control).tau, TAU_EFFECT_SIZE * math.sqrt(pooled))
    assert TAU_EFFECT_SIZE == 0.1


def test_msprt_interval_is_wider_than_the_fixed_sample_one() -> None:
    for shape in SHAPES:
        treatment, control = SHAPES[shape]
        fixed, always = welch(treatment, control), msprt(treatment, control)
        assert always.low is not None
        assert fixed.low is not None
        assert always.low < fixed.low, shape


def _false_positive_rates(
    draw: object, simulations: int, looks: Sequence[int], alpha: float, seed: int
) -> tuple[float, float]:
    """Under no difference, the share of experiments that ever 'win' when read at every look: by
    mSPRT's p-value and by Welch's fixed-sample p-value."""
    rng = np.random.default_rng(seed)
    always_hits = fixed_hits = 0
    for _ in range(simulations):
        treatment, control = draw(rng, looks[-1]), draw(rng, looks[-1])  # type: ignore[operator]
        listed_t, listed_c = treatment.tolist(), control.tolist()
        always = fixed = False
        for n in looks:
            always = always or (msprt(listed_t[:n], listed_c[:n], alpha=alpha).p_value or 1) < alpha
            fixed = fixed or stats.ttest_ind(treatment[:n], control[:n], equal_var=False).pvalue < alpha
        always_hits += always
        fixed_hits += fixed
    return always_hits / simulations, fixed_hits / simulations


def test_msprt_controls_false_positives_across_repeated_looks() -> None:
    looks = list(range(100, 1001, 100))  # ten looks
    always, fixed = _false_positive_rates(lambda rng, n: rng.normal(100, 20, n), 300, looks, 0.05, seed=11)
    # peeking at the fixed-sample test ten times makes "significant" far more often than 5% ...
    assert fixed > 0.15
    # ... while the always-valid p-value keeps to alpha (binomial sd at 300 runs: 0.013)
    assert always <= 0.05 + 0.02


def test_msprt_controls_false_positives_on_skewed_spend() -> None:
    looks = list(range(200, 2001, 200))

    def spend(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.where(rng.random(n) < 0.2, np.round(rng.lognormal(math.log(8000), 1.0, n)), 0.0)

    always, fixed = _false_positive_rates(spend, 200, looks, 0.05, seed=12)
    assert fixed > always
    assert always <= 0.05 + 0.02


def test_msprt_degenerate_inputs() -> None:
    assert msprt([], [1.0, 2.0]).difference is None
    single = msprt([4.0], [1.0, 2.0])
    assert (single.difference, single.low, single.p_value) == (2.5, None, None)
    flat = msprt([2.0, 2.0], [1.0, 1.0, 1.0])
    assert (flat.difference, flat.low, flat.p_value, flat.tau) == (1.0, None, None, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        msprt([1.0, 2.0], [1.0, 2.0], alpha=0.0)


# --- ROI -------------------------------------------------------------------------------------------


def test_roi_is_exact() -> None:
    assert roi(1500, 1000) == Fraction(1, 2)
    assert roi(Fraction(2001, 2), 1000) == Fraction(1, 2000)
    assert roi(0, 300) == -1
    assert roi(-600, 300) == -3
    assert roi(Fraction(1, 3), 1) == Fraction(-2, 3)


def test_roi_without_cost_is_none() -> None:
    assert roi(1500, 0) is None
    assert roi(1500, -10) is None
