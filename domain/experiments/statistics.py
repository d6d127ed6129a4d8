"""The statistics of a campaign's evaluation: estimates of a treatment's effect against a control.

Standard library only (the distribution functions are in domain/experiments/distributions.py). These
are estimates, so they are floats; money enters as integer minor units and only `roi` returns an exact
figure. The formulas, their sources and their assumptions are in each function's docstring.

Degenerate input never raises: a figure that the data cannot support is None. An empty arm has no
mean, so the difference is None; an arm of one member has no variance, so everything that needs a
standard error (interval, p-value) is None; and when neither arm varies at all the standard error is
0, the interval is the difference itself and the p-value is None (the test statistic is 0/0 or
infinite, so there is no meaningful p). A report of a tiny experiment shows the means it has and
blanks for the rest.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from domain.experiments.distributions import (
    chi_square_sf,
    normal_quantile,
    normal_two_sided_p,
    t_quantile,
    t_two_sided_p,
)

# A sample-ratio mismatch is flagged below this p-value: the threshold GrowthBook, Statsig and Eppo use,
# strict because the check runs on every look at every experiment and a false alarm halts the analysis.
SAMPLE_RATIO_MISMATCH_P = 0.001

# mSPRT's default mixing scale, in standard deviations of the metric: the prior over the true difference
# is N(0, (TAU_EFFECT_SIZE * sd)^2), i.e. effects of about a tenth of a standard deviation, the size
# marketing offers have. The sequence is then tightest near 1,600 members per arm (see msprt).
TAU_EFFECT_SIZE = 0.1


@dataclass(frozen=True, slots=True)
class Estimate:
    """A difference of means (treatment - control) with a two-sided confidence interval and p-value.

    None where the data cannot support the figure (see the module docstring)."""

    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    std_error: float | None
    degrees_of_freedom: float | None = None


@dataclass(frozen=True, slots=True)
class CupedEstimate(Estimate):
    """Welch's estimate on CUPED-adjusted values, with the adjustment's coefficient and effect.

    `variance_reduction` is 1 - var(adjusted) / var(raw) over both arms pooled: the share of the
    metric's variance the pre-period covariate explains (the squared correlation, in the pooled fit)."""

    theta: float | None = None
    variance_reduction: float | None = None


@dataclass(frozen=True, slots=True)
class ProportionTest:
    """A two-proportion z-test (pooled) and an unpooled confidence interval of the difference of rates."""

    rate_treatment: float | None
    rate_control: float | None
    difference: float | None
    z: float | None
    p_value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class SampleRatio:
    """A chi-square goodness-of-fit test of the observed split against the designed one."""

    statistic: float | None
    degrees_of_freedom: int
    p_value: float | None
    mismatch: bool


@dataclass(frozen=True, slots=True)
class AlwaysValid:
    """mSPRT's always-valid p-value and confidence interval for a difference of means, at the current
    sample sizes; `tau` is the mixing distribution's standard deviation that was used."""

    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    tau: float | None


def _moments(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the sample variance (n - 1 in the denominator; None below two values).

    Whole numbers, as spend in minor units is, are summed exactly as integers, so the variance
    (n sum x^2 - (sum x)^2) / (n (n - 1)) is exact up to its one final rounding. Other values take two
    passes: the mean by `math.fsum`, then the squared deviations, all positive, summed plainly (relative
    error below n * 2^-53). The loops are `map`s over C functions: a million values take tens of
    milliseconds.
    """
    n = len(values)
    total = sum(values)
    if isinstance(total, int):
        mean = total / n
        if n < 2:
            return mean, None
        squares = sum(map(operator.mul, values, values))
        return mean, (n * squares - total * total) / (n * (n - 1))
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    deviations = list(map(operator.sub, values, itertools.repeat(mean)))
    return mean, sum(map(operator.mul, deviations, deviations)) / (n - 1)


def _no_estimate(difference: float | None) -> Estimate:
    return Estimate(difference=difference, low=None, high=None, p_value=None, std_error=None)


def welch(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Welch's unequal-variance t-test of the difference of means, treatment - control.

    With means m, sample variances s^2 (n - 1 denominators) and sizes n:
        difference = m_t - m_c
        se         = sqrt(s_t^2/n_t + s_c^2/n_c)
        df         = se^4 / ((s_t^2/n_t)^2/(n_t - 1) + (s_c^2/n_c)^2/(n_c - 1))   (Welch-Satterthwaite)
        t          = difference / se,  p = P(|T_df| >= |t|)
        interval   = difference -/+ t_{(1+confidence)/2, df} * se
    (Welch 1947, Biometrika 34; Satterthwaite 1946.) Assumes independent members and a mean that is
    near-normal by the central limit theorem; spend is skewed, so small arms give rough intervals.
    """
    _check_confidence(confidence)
    if not treatment or not control:
        return _no_estimate(None)
    (mean_t, variance_t), (mean_c, variance_c) = _moments(treatment), _moments(control)
    difference = mean_t - mean_c
    if variance_t is None or variance_c is None:
        return _no_estimate(difference)
    share_t = variance_t / len(treatment)
    share_c = variance_c / len(control)
    squared_error = share_t + share_c
    std_error = math.sqrt(squared_error)
    if std_error == 0:
        return Estimate(difference, difference, difference, None, 0.0)
    df = squared_error**2 / (share_t**2 / (len(treatment) - 1) + share_c**2 / (len(control) - 1))
    margin = t_quantile((1 + confidence) / 2, df) * std_error
    return Estimate(
        difference=difference,
        low=difference - margin,
        high=difference + margin,
        p_value=t_two_sided_p(difference / std_error, df),
        std_error=std_error,
        degrees_of_freedom=df,
    )


def two_proportions(
    successes_t: int, n_t: int, successes_c: int, n_c: int, confidence: float = 0.95
) -> ProportionTest:
    """The two-proportion z-test of a difference in conversion, treatment - control.

    With rates p_t = x_t/n_t, p_c = x_c/n_c and the pooled rate p = (x_t + x_c)/(n_t + n_c):
        z        = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c)),  p-value = erfc(|z| / sqrt 2)
        interval = (p_t - p_c) -/+ z_{(1+confidence)/2} sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)  (Wald)
    The test pools because under its null the rates are equal; the interval does not, because it
    describes the difference as it is (Agresti, Categorical Data Analysis, 3rd ed., on comparing two
    proportions).
    The normal approximation wants a handful of successes and failures in each arm.
    An empty arm gives None rates; no success or no failure at all gives z and p None.
    """
    _check_confidence(confidence)
    for successes, n in ((successes_t, n_t), (successes_c, n_c)):
        if n < 0 or not 0 <= successes <= n:
            raise ValueError("successes must be between 0 and the number of trials")
    rate_t = successes_t / n_t if n_t else None
    rate_c = successes_c / n_c if n_c else None
    if rate_t is None or rate_c is None:
        return ProportionTest(rate_t, rate_c, None, None, None, None, None)
    difference = rate_t - rate_c
    pooled = (successes_t + successes_c) / (n_t + n_c)
    pooled_error = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z = difference / pooled_error if pooled_error > 0 else None
    margin = normal_quantile((1 + confidence) / 2) * math.sqrt(
        rate_t * (1 - rate_t) / n_t + rate_c * (1 - rate_c) / n_c
    )
    return ProportionTest(
        rate_treatment=rate_t,
        rate_control=rate_c,
        difference=difference,
        z=z,
        p_value=None if z is None else normal_two_sided_p(z),
        low=difference - margin,
        high=difference + margin,
    )


def sample_ratio(observed: Sequence[int], expected_shares: Sequence[float]) -> SampleRatio:
    """Pearson's chi-square goodness-of-fit test of an observed split against the designed shares.

    Expected counts e_i = N * share_i / sum(shares) with N = sum(observed); the statistic is
    sum (o_i - e_i)^2 / e_i with k - 1 degrees of freedom, p = Q((k - 1)/2, statistic/2) (the regularized
    upper incomplete gamma). `mismatch` when p < SAMPLE_RATIO_MISMATCH_P:
    the assignment or the exposure logging is broken and the arms are not comparable (Fabijan et al.,
    "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019).
    An arm designed to get no one takes no part unless someone landed there, which is an infinite
    statistic and a mismatch. Nobody assigned, or fewer than two arms, gives statistic and p None.
    """
    if len(observed) != len(expected_shares):
        raise ValueError("one expected share per observed count")
    if any(count < 0 for count in observed) or any(share < 0 for share in expected_shares):
        raise ValueError("counts and shares cannot be negative")
    total, share_total = sum(observed), math.fsum(expected_shares)
    if any(count > 0 and share == 0 for count, share in zip(observed, expected_shares, strict=True)):
        return SampleRatio(math.inf, degrees_of_freedom=len(observed) - 1, p_value=0.0, mismatch=True)
    cells = [(count, share) for count, share in zip(observed, expected_shares, strict=True) if share > 0]
    df = len(cells) - 1
    if total == 0 or df < 1:
        return SampleRatio(statistic=None, degrees_of_freedom=max(df, 0), p_value=None, mismatch=False)
    statistic = math.fsum(
        (count - total * share / share_total) ** 2 / (total * share / share_total) for count, share in cells
    )
    p_value = chi_square_sf(statistic, df)
    return SampleRatio(statistic, df, p_value, p_value < SAMPLE_RATIO_MISMATCH_P)


def cuped(
    treatment: Sequence[tuple[float, float]],
    control: Sequence[tuple[float, float]],
    confidence: float = 0.95,
) -> CupedEstimate:
    """Welch's estimate after CUPED's variance reduction with a pre-period covariate.

    Each pair is (Y, X): the metric in the period and the same member's pre-period value. Over both arms
    pooled, theta = cov(Y, X) / var(X); each Y becomes Y - theta (X - mean X), which keeps every arm's
    expected mean (X does not depend on the arm, by randomization) and removes the part of the variance
    X explains; then `welch` on the adjusted values (Deng, Xu, Kohavi, Walker, "Improving the Sensitivity
    of Online Controlled Experiments by Utilizing Pre-Experiment Data", WSDM 2013).
    When X does not vary, theta is 0 and the estimate is the unadjusted one.
    """
    first, second = operator.itemgetter(0), operator.itemgetter(1)
    return cuped_columns(
        list(map(first, treatment)),
        list(map(second, treatment)),
        list(map(first, control)),
        list(map(second, control)),
        confidence,
    )


def cuped_columns(
    metric_t: Sequence[float],
    covariate_t: Sequence[float],
    metric_c: Sequence[float],
    covariate_c: Sequence[float],
    confidence: float = 0.95,
) -> CupedEstimate:
    """`cuped` on columns rather than pairs (the same member at the same index of an arm's two
    columns), which spares building a million tuples."""
    if len(metric_t) != len(covariate_t) or len(metric_c) != len(covariate_c):
        raise ValueError("one covariate per metric value")
    if not metric_t or not metric_c:
        return CupedEstimate(None, None, None, None, None)
    ys_t, xs_t, ys_c, xs_c = metric_t, covariate_t, metric_c, covariate_c
    ys, xs = [*ys_t, *ys_c], [*xs_t, *xs_c]
    n = len(ys)
    sum_y, sum_x = sum(ys), sum(xs)
    if isinstance(sum_y, int) and isinstance(sum_x, int):
        # Whole numbers: theta as a ratio of exact integer sums, rounded once.
        mean_x = sum_x / n
        spread = n * sum(map(operator.mul, xs, xs)) - sum_x * sum_x
        theta = (n * sum(map(operator.mul, xs, ys)) - sum_x * sum_y) / spread if spread else 0.0
    else:
        mean_x, mean_y = math.fsum(xs) / n, math.fsum(ys) / n
        dx = list(map(operator.sub, xs, itertools.repeat(mean_x)))
        dy = list(map(operator.sub, ys, itertools.repeat(mean_y)))
        spread_x = sum(map(operator.mul, dx, dx))
        theta = math.fsum(map(operator.mul, dx, dy)) / spread_x if spread_x > 0 else 0.0

    def adjust(ys: Sequence[float], xs: Sequence[float]) -> list[float]:
        shifts = map(operator.mul, itertools.repeat(theta), map(operator.sub, xs, itertools.repeat(mean_x)))
        return list(map(operator.sub, ys, shifts))

    adjusted_t, adjusted_c = adjust(ys_t, xs_t), adjust(ys_c, xs_c)
    estimate = welch(adjusted_t, adjusted_c, confidence)
    raw = _moments(ys)[1]
    reduction = None
    if raw is not None and raw > 0:
        adjusted = _moments([*adjusted_t, *adjusted_c])[1]
        reduction = None if adjusted is None else 1 - adjusted / raw
    return CupedEstimate(
        difference=estimate.difference,
        low=estimate.low,
        high=estimate.high,
        p_value=estimate.p_value,
        std_error=estimate.std_error,
        degrees_of_freedom=estimate.degrees_of_freedom,
        theta=theta,
        variance_reduction=reduction,
    )


def msprt(
    treatment: Sequence[float],
    control: Sequence[float],
    tau: float | None = None,
    alpha: float = 0.05,
) -> AlwaysValid:
    """The mixture sequential probability ratio test: an always-valid p-value and confidence interval.

    With the difference of means D, its plug-in variance V = s_t^2/n_t + s_c^2/n_c and a normal mixing
    distribution N(0, tau^2) over the true difference, the mixture likelihood ratio against "no difference" is
        Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 D^2 / (2 V (V + tau^2)))
    (Johari, Pekelis, Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests", arXiv
    1512.04922; Johari, Koomen, Pekelis, Walsh, "Peeking at A/B Tests", KDD 2017). Lambda is a martingale
    under the null, so by Ville's inequality P(ever Lambda >= 1/alpha) <= alpha however often one looks:
    p = min(1, 1/Lambda) is valid at every look. Inverting the test for each hypothesised difference
    gives the confidence sequence (Howard, Ramdas, McAuliffe, Sekhon, "Time-uniform, nonparametric,
    nonasymptotic confidence sequences", Ann. Statist. 2021, the normal mixture boundary):
        D -/+ sqrt(V (V + tau^2) / tau^2 * (2 log(1/alpha) + log((V + tau^2) / V)))
    The interval covers the true difference at all looks at once with probability >= 1 - alpha.

    Assumptions: the means are near-normal and the variances are the plug-in estimates (the guarantee
    is asymptotic; the test in tests/unit simulates it). Given no tau, it is TAU_EFFECT_SIZE times the
    pooled standard deviation: fixed in units of the metric's own spread, and the interval is then
    tightest when V is about tau^2 / 8, i.e. near 1,600 members per arm. This stateless function gives
    the figures at the current sample sizes; a caller that keeps every look may take the running
    minimum of the p-values and the intersection of the intervals, which stays valid.
    """
    if not 0 < alpha < 1:
        raise ValueError("alpha must be strictly between 0 and 1")
    if not treatment or not control:
        return AlwaysValid(None, None, None, None, tau)
    (mean_t, variance_t), (mean_c, variance_c) = _moments(treatment), _moments(control)
    difference = mean_t - mean_c
    if variance_t is None or variance_c is None:
        return AlwaysValid(difference, None, None, None, tau)
    v = variance_t / len(treatment) + variance_c / len(control)
    if tau is None:
        pooled = ((len(treatment) - 1) * variance_t + (len(control) - 1) * variance_c) / (
            len(treatment) + len(control) - 2
        )
        tau = TAU_EFFECT_SIZE * math.sqrt(pooled)
    if v == 0 or tau <= 0:
        return AlwaysValid(difference, None, None, None, tau)
    tau_square = tau * tau
    log_ratio = 0.5 * math.log(v / (v + tau_square)) + tau_square * difference**2 / (2 * v * (v + tau_square))
    p_value = math.exp(-log_ratio) if log_ratio > 0 else 1.0
    half_width = math.sqrt(
        v * (v + tau_square) / tau_square * (2 * math.log(1 / alpha) + math.log((v + tau_square) / v))
    )
    return AlwaysValid(difference, difference - half_width, difference + half_width, p_value, tau)


def roi(incremental_margin: Fraction | int, cost: int) -> Fraction | None:
    """Return on investment, (incremental gross margin - cost) / cost, exact.

    Both in integer minor units of one currency (the margin may be a fraction of a minor unit, being
    incremental spend times a margin rate). None when nothing was spent: cost 0 has no return, and a
    negative cost (more reversed than awarded) would turn the ratio's sign around.
    """
    if cost <= 0:
        return None
    return (Fraction(incremental_margin) - cost) / cost


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
