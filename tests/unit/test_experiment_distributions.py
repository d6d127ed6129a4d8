"""The distribution functions at their edges and in their parts: the error messages, infinite and tiny
arguments, the Cornish-Fisher start of the t quantile, and how few Newton steps the quantile takes.

test_experiment_statistics.py checks the functions' values against scipy over the ranges the reports
use; these check what those comparisons cannot see."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from statistics import NormalDist

import pytest
from scipy import special

from domain.experiments import distributions
from domain.experiments.distributions import t_pdf, t_quantile, t_two_sided_p


def close(got: float, expected: float, rel: float = 1e-13) -> bool:
    return math.isclose(got, expected, rel_tol=rel)


# --- Student's t tails -----------------------------------------------------------------------------


@pytest.mark.parametrize("df", [1, 4.5, 1e6])
def test_t_tail_beyond_an_infinite_statistic_is_zero(df: float) -> None:
    assert t_two_sided_p(math.inf, df) == 0.0
    assert t_two_sided_p(-math.inf, df) == 0.0


def test_t_tail_of_a_tiny_statistic_keeps_its_distance_from_one() -> None:
    # t = 1e-9 with 10 degrees of freedom: df / (df + t^2) rounds to 1, so 1 - x would be 0 and the
    # p-value 1; t^2 / (df + t^2) given as it is keeps P(|T| < t) = 2 t f(0) (the density is flat at 0)
    t = 1e-9
    p = t_two_sided_p(t, 10)
    assert p < 1.0
    assert close(1 - p, 2 * t * t_pdf(0.0, 10), rel=1e-6)


# --- Student's t quantile --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, -0.5])
def test_t_quantile_refuses_p_outside_0_to_1_with_its_message(p: float) -> None:
    # the normal quantile would refuse 0 and 1 too, with its own message: this one names the bound
    with pytest.raises(ValueError, match=r"^p must be strictly between 0 and 1$"):
        t_quantile(p, 5)


@pytest.mark.parametrize("df", [1, 2.5, 3, 30, 1e6])
def test_t_quantile_of_one_half_is_positive_zero(df: float) -> None:
    # the median of a symmetric distribution: exactly 0.0, not -0.0 (which would print as "-0.0")
    median = t_quantile(0.5, df)
    assert median == 0.0
    assert math.copysign(1.0, median) == 1.0


def _abramowitz_stegun(z: float, df: float) -> float:
    """Abramowitz and Stegun 26.7.5 in exact rationals, each g_k written out as its polynomial in z."""
    x, v = Fraction(z), Fraction(df)
    g1 = (x**3 + x) / 4
    g2 = (5 * x**5 + 16 * x**3 + 3 * x) / 96
    g3 = (3 * x**7 + 19 * x**5 + 17 * x**3 - 15 * x) / 384
    g4 = (79 * x**9 + 776 * x**7 + 1482 * x**5 - 1920 * x**3 - 945 * x) / 92160
    return float(x + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4)


@pytest.mark.parametrize("df", [3, 3.5, 5, 12, 40])
@pytest.mark.parametrize("z", [0.25, 1.5, 1.959963984540054, 3.0, -2.0])
def test_t_quantile_starts_from_the_cornish_fisher_expansion(z: float, df: float) -> None:
    assert close(distributions._cornish_fisher(z, df), _abramowitz_stegun(z, df))


@pytest.mark.parametrize("df", [1, 2, 2.999])
def test_t_quantile_starts_from_the_normal_quantile_below_three_degrees(df: float) -> None:
    # the expansion diverges for so few degrees of freedom; z lies below the root, where Newton climbs
    assert distributions._cornish_fisher(1.959963984540054, df) == 1.959963984540054


def _count_steps(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count t_quantile's Newton steps from here on: it evaluates the density once a step."""
    steps = 0

    def counted_pdf(t: float, df: float) -> float:
        nonlocal steps
        steps += 1
        return t_pdf(t, df)

    monkeypatch.setattr(distributions, "t_pdf", counted_pdf)
    return lambda: steps


@pytest.mark.parametrize("df", [3, 4, 5, 10, 30, 120, 1000, 1e4])
@pytest.mark.parametrize("p", [0.025, 0.05, 0.1, 0.9, 0.95, 0.975, 0.995])
def test_t_quantile_takes_few_newton_steps(monkeypatch: pytest.MonkeyPatch, df: float, p: float) -> None:
    # from the Cornish-Fisher start Newton needs two or three steps, and one more that shows it has
    # converged; the density is evaluated once a step
    expected = t_quantile(p, df)
    steps = _count_steps(monkeypatch)
    assert distributions.t_quantile(p, df) == expected
    assert steps() <= 4


def test_t_quantile_halves_every_step_that_lands_on_zero_or_below(monkeypatch: pytest.MonkeyPatch) -> None:
    # a made-up tail 0.25 - t with density 1, from t = 1: each Newton step lands exactly on 0, so each
    # is halved instead, until t = 2^-56 is lost in 0.25's rounding and the step is 0
    monkeypatch.setattr(distributions, "_cornish_fisher", lambda z, df: 1.0)
    monkeypatch.setattr(distributions, "t_pdf", lambda t, df: 1.0)
    monkeypatch.setattr(distributions, "t_sf", lambda t, df: 0.25 - t)
    assert distributions.t_quantile(0.75, 10) == 2.0**-56


def test_t_quantile_gives_up_after_a_hundred_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # a tail that never comes down to p: every step climbs by 1 and none is small enough to stop
    steps = 0

    def counted_pdf(t: float, df: float) -> float:
        nonlocal steps
        steps += 1
        return 1.0

    monkeypatch.setattr(distributions, "_cornish_fisher", lambda z, df: 1.0)
    monkeypatch.setattr(distributions, "t_pdf", counted_pdf)
    monkeypatch.setattr(distributions, "t_sf", lambda t, df: 1.25)
    assert distributions.t_quantile(0.75, 10) == 101.0
    assert steps == 100


@pytest.mark.parametrize("df", [3e5, 1e6, 3e6, 1e7])
@pytest.mark.parametrize("p", [0.025, 0.975, 0.995])
def test_t_quantile_stops_at_the_tails_rounding_with_many_degrees_of_freedom(
    monkeypatch: pytest.MonkeyPatch, df: float, p: float
) -> None:
    # here the computed tail is only good to about 1e-11 of t, so Newton's steps jitter back and forth
    # around the root instead of shrinking: the first step back ends the search
    steps = _count_steps(monkeypatch)
    t = distributions.t_quantile(p, df)
    z = NormalDist().inv_cdf(p)
    assert close(t, z + (z**3 + z) / (4 * df), rel=1e-10)  # the expansion's first term is exact enough
    assert steps() <= 4


@pytest.mark.parametrize(("df", "p", "most"), [(3, 0.9999, 5), (3, 0.999999, 7), (5, 0.99999, 5)])
def test_t_quantile_far_in_the_tail_stops_within_a_few_steps(
    monkeypatch: pytest.MonkeyPatch, df: float, p: float, most: int
) -> None:
    # t is 15 to 100 here: the stop is relative to t (1e-12 t), which a large t reaches as soon as a
    # small one; an absolute or inverse one would ask for steps below the tail's own rounding
    steps = _count_steps(monkeypatch)
    assert distributions.t_quantile(p, df) > 15
    assert steps() <= most


@pytest.mark.parametrize("df", [3, 5, 40])
def test_t_quantile_halves_a_newton_step_that_would_cross_zero(
    monkeypatch: pytest.MonkeyPatch, df: float
) -> None:
    # from far right of the root the tail is almost 0 and the density tiny, so Newton's step would land
    # far below 0: the iterate is halved instead, until it lies left of the root, then climbs to it
    expected = t_quantile(0.975, df)
    monkeypatch.setattr(distributions, "_cornish_fisher", lambda z, df: 1000.0)
    assert close(distributions.t_quantile(0.975, df), expected, rel=1e-12)
    assert close(distributions.t_quantile(0.025, df), -expected, rel=1e-12)


# --- the series and continued fractions stop once converged ----------------------------------------


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("chi-square tail by the continued fraction", lambda: distributions.chi_square_sf(60.0, 4)),
        ("chi-square tail by the series", lambda: distributions.chi_square_sf(3.0, 7)),
        ("t tail by the beta function's fraction", lambda: distributions.t_two_sided_p(2.0, 24.5)),
    ],
)
def test_each_expansion_stops_long_before_its_iteration_cap(
    monkeypatch: pytest.MonkeyPatch, name: str, call: Callable[[], float]
) -> None:
    # the loops test |term| or |step - 1| against _EPS once a turn (besides Lentz's guards), so the
    # calls of `abs` count the turns; these points converge in a few dozen, against a cap of 100,000
    expected = call()
    calls = 0

    def counted_abs(x: float) -> float:
        nonlocal calls
        calls += 1
        return abs(x)

    monkeypatch.setattr(distributions, "abs", counted_abs, raising=False)
    assert call() == expected, name
    assert 0 < calls < 500, name


# --- the regularized beta near x = 1 and near x = 0 ------------------------------------------------


def test_regularized_beta_takes_the_log_of_x_from_an_exact_y() -> None:
    # x = 1 - 1e-7 is rounded, y = 1e-7 is not: a = 1e6 times log(x) would carry x's rounding (about
    # 3e-11 here), log1p(-y) does not. Reference: I_x(a, b) = 1 - I_y(b, a), from scipy
    expected = 1 - special.betainc(0.5, 1e6, 1e-7)
    assert close(distributions.regularized_beta(1e6, 0.5, 1 - 1e-7, 1e-7), expected, rel=1e-13)


def test_regularized_beta_takes_the_log_of_y_through_log1p_of_a_small_x() -> None:
    # y = 1 - x is rounded; b = 1e6 times log(y) would carry that rounding, log1p(-x) does not
    expected = special.betainc(0.5, 1e6, 1e-7)
    assert close(distributions.regularized_beta(0.5, 1e6, 1e-7), expected, rel=1e-13)


# --- each function's switch between its two forms, at the boundary ---------------------------------


def _recorded(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[float, ...]]:
    """Replace distributions.NAME by a wrapper that records its arguments (and still computes)."""
    calls: list[tuple[float, ...]] = []
    original = getattr(distributions, name)

    def recording(*args: float) -> float:
        calls.append(args)
        return float(original(*args))

    monkeypatch.setattr(distributions, name, recording)
    return calls


def test_regularized_beta_takes_the_fraction_at_x_below_the_switch_and_at_y_from_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Numerical Recipes: the fraction converges fast for x < (a + 1) / (a + b + 2), here 3/9; from there
    # on it is taken at y = 1 - x with a and b swapped, and subtracted from 1
    calls = _recorded(monkeypatch, "_beta_fraction")
    distributions.regularized_beta(2.0, 5.0, 0.3)
    distributions.regularized_beta(2.0, 5.0, 0.4)
    assert calls == [(2.0, 5.0, 0.3), (5.0, 2.0, 1 - 0.4)]


def test_regularized_beta_switch_sits_exactly_at_a_plus_1_over_a_plus_b_plus_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _recorded(monkeypatch, "_beta_fraction")
    a, b = 3.0, 5.0  # switch at 4 / 10
    switch = 0.4
    for x in (math.nextafter(switch, 0), switch):
        distributions.regularized_beta(a, b, x)
    assert [call[:2] for call in calls] == [(a, b), (b, a)]


def test_the_beta_fraction_steps_over_a_denominator_of_exactly_zero() -> None:
    # Lentz's guard: at a = 1, b = 4, x = 1/2 the first step's d is 1 + (1/4)(-4) = 0 exactly; put at
    # 1e-300 instead, the fraction still comes out right: I_x(1, 4) = 1 - (1 - x)^4 = 15/16 is its front
    # x (1 - x)^4 / (a B(1, 4)) = 1/8 times 7.5
    assert distributions._beta_fraction(1.0, 4.0, 0.5) == pytest.approx(7.5, rel=1e-14)
    # and the first d, 1 - (a + b) x / (a + 1), is 0 at a = b = x = 1: a huge value, not a crash
    assert distributions._beta_fraction(1.0, 1.0, 1.0) == pytest.approx(1e300)


def test_upper_gamma_takes_the_series_below_a_plus_1_and_the_fraction_from_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    series = _recorded(monkeypatch, "_gamma_series")
    fraction = _recorded(monkeypatch, "_gamma_fraction")
    below = math.nextafter(3.0, 0)
    distributions.regularized_upper_gamma(2.0, below)
    assert (series, fraction) == ([(2.0, below)], [])
    distributions.regularized_upper_gamma(2.0, 3.0)
    assert (series, fraction) == ([(2.0, below)], [(2.0, 3.0)])


@pytest.mark.parametrize(
    ("p", "q", "corrections"),
    [
        (10.0, 20.0, 3),  # both from 10 up: Stirling's series for both and their sum
        (20.0, 10.0, 3),
        (math.nextafter(10.0, 0), 20.0, 2),  # only the larger: lgamma for the smaller one
        (2.0, 10.0, 2),
        (2.0, math.nextafter(10.0, 0), 0),  # both below 10: three lgammas
    ],
)
def test_log_beta_uses_stirling_from_an_argument_of_ten(
    monkeypatch: pytest.MonkeyPatch, p: float, q: float, corrections: int
) -> None:
    # the correction's error is below 1e-17 from 10 up (its docstring), and that is where it is used
    calls = _recorded(monkeypatch, "_lgamma_correction")
    distributions.log_beta(p, q)
    assert len(calls) == corrections
