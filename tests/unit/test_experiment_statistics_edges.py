"""The experiment statistics at their edges: the messages of the errors, each guard's boundary, the
figures a blank result still carries, and the paths taken by whole numbers and by floats.

test_experiment_statistics.py checks the formulas against scipy and numpy; these check what those
comparisons leave out, with values worked out by hand."""

from __future__ import annotations

import math

import pytest

from domain.experiments import statistics
from domain.experiments.statistics import (
    SAMPLE_RATIO_MISMATCH_P,
    AlwaysValid,
    CupedEstimate,
    cuped,
    cuped_columns,
    msprt,
    sample_ratio,
    two_proportions,
    welch,
)


def close(got: float | None, expected: float, rel: float = 1e-12) -> bool:
    return got is not None and math.isclose(got, expected, rel_tol=rel)


# --- errors: the whole message, so a changed message is noticed ------------------------------------


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5])
def test_confidence_must_be_strictly_between_0_and_1(confidence: float) -> None:
    with pytest.raises(ValueError, match=r"^confidence must be strictly between 0 and 1$"):
        welch([1.0, 2.0], [1.0, 3.0], confidence=confidence)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, -0.1])
def test_msprt_alpha_must_be_strictly_between_0_and_1(alpha: float) -> None:
    with pytest.raises(ValueError, match=r"^alpha must be strictly between 0 and 1$"):
        msprt([1.0, 2.0], [1.0, 3.0], alpha=alpha)


def test_two_proportions_refuses_impossible_counts_with_its_message() -> None:
    message = r"^successes must be between 0 and the number of trials$"
    for args in [(11, 10, 0, 10), (-1, 10, 0, 10), (0, 10, 5, 4), (0, -1, 0, 10)]:
        with pytest.raises(ValueError, match=message):
            two_proportions(*args)


def test_sample_ratio_refuses_mismatched_lengths_with_its_message() -> None:
    with pytest.raises(ValueError, match=r"^one expected share per observed count$"):
        sample_ratio([1, 2], [1.0])


@pytest.mark.parametrize(
    ("observed", "shares"),
    [([-1, 2], [0.5, 0.5]), ([1, 2], [-0.5, 1.5]), ([-1, 2], [-0.5, 1.5])],
)
def test_sample_ratio_refuses_any_negative_count_or_share(observed: list[int], shares: list[float]) -> None:
    with pytest.raises(ValueError, match=r"^counts and shares cannot be negative$"):
        sample_ratio(observed, shares)


def test_cuped_columns_refuse_a_missing_covariate_with_its_message() -> None:
    with pytest.raises(ValueError, match=r"^one covariate per metric value$"):
        cuped_columns([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0])


# --- Welch -----------------------------------------------------------------------------------------


def test_welch_sums_whole_numbers_exactly_beyond_a_floats_precision() -> None:
    # 2^60 + k is no float: the exact integer sums see the variance 1, floats would see 2^60 three times
    big = [2**60 + 1, 2**60 + 2, 2**60 + 3]
    estimate = welch(big, [0, 1])
    assert estimate.std_error == math.sqrt(1 / 3 + 0.5 / 2)


# --- two proportions -------------------------------------------------------------------------------


def test_two_proportions_keep_the_rate_of_the_arm_that_has_members() -> None:
    result = two_proportions(3, 10, 0, 0)
    assert (result.rate_treatment, result.rate_control, result.difference) == (0.3, None, None)
    assert (result.z, result.p_value, result.low, result.high) == (None, None, None, None)


# --- sample ratio ----------------------------------------------------------------------------------


def test_sample_ratio_at_exactly_the_threshold_is_no_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # "below" the threshold: a p-value equal to it is not flagged (no split gives exactly 0.001, so the
    # distribution is replaced)
    monkeypatch.setattr(statistics, "chi_square_sf", lambda statistic, df: SAMPLE_RATIO_MISMATCH_P)
    assert sample_ratio([5160, 4840], [0.5, 0.5]).mismatch is False
    monkeypatch.setattr(statistics, "chi_square_sf", lambda statistic, df: math.nextafter(0.001, 0))
    assert sample_ratio([5160, 4840], [0.5, 0.5]).mismatch is True


def test_sample_ratio_leak_into_an_unused_arm_keeps_the_designed_degrees_of_freedom() -> None:
    leaked = sample_ratio([500, 499, 1], [0.5, 0.5, 0.0])
    assert leaked == statistics.SampleRatio(math.inf, degrees_of_freedom=2, p_value=0.0, mismatch=True)
    two_arms = sample_ratio([10, 1], [1.0, 0.0])
    assert two_arms.degrees_of_freedom == 1


# --- CUPED -----------------------------------------------------------------------------------------

# Small values, all below 1: the covariate's sum of squared deviations is 0.05 and the metric's 0.0875.
# By hand: theta = sum dx dy / sum dx^2 = 0.055 / 0.05 = 1.1, and the reduction is the squared
# correlation 0.055^2 / (0.05 * 0.0875).
SMALL_T = ([0.1, 0.2], [0.1, 0.3])  # (metric, covariate)
SMALL_C = ([0.3, 0.5], [0.2, 0.4])


def _adjusted(ys: list[float], xs: list[float], theta: float, mean_x: float) -> list[float]:
    return [y - theta * (x - mean_x) for y, x in zip(ys, xs, strict=True)]


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_cuped_is_welch_on_the_adjusted_values_for_spreads_below_one(confidence: float) -> None:
    result = cuped_columns(*SMALL_T, *SMALL_C, confidence=confidence)
    assert close(result.theta, 1.1)
    assert close(result.variance_reduction, 0.055**2 / (0.05 * 0.0875))
    plain = welch(
        _adjusted(*SMALL_T, theta=result.theta or 0, mean_x=0.25),
        _adjusted(*SMALL_C, theta=result.theta or 0, mean_x=0.25),
        confidence,
    )
    assert plain.degrees_of_freedom is not None
    for name in ("difference", "low", "high", "p_value", "std_error", "degrees_of_freedom"):
        assert close(getattr(result, name), getattr(plain, name)), name
    # the pairs' form passes the confidence on too
    pairs = cuped(list(zip(*SMALL_T, strict=True)), list(zip(*SMALL_C, strict=True)), confidence)
    assert pairs == result


def test_cuped_on_integer_metric_and_float_covariate_takes_the_two_pass_route() -> None:
    # a covariate far from 0: one pass (n sum x^2 - (sum x)^2) loses every digit of the spread to
    # rounding; the deviations from the mean keep them, and the metric is the covariate plus a constant
    xs_t, xs_c = [1e9 + 0.5, 1e9 + 1.5], [1e9 + 2.5, 1e9 + 3.5]
    result = cuped_columns([1, 2], xs_t, [3, 4], xs_c)
    assert result.theta == 1.0
    assert result.variance_reduction == 1.0


def test_cuped_on_whole_numbers_with_a_flat_covariate_adjusts_nothing() -> None:
    result = cuped_columns([5, 9, 4], [7, 7, 7], [1, 3], [7, 7])
    plain = welch([5, 9, 4], [1, 3])
    assert result.theta == 0.0
    # the adjusted values are floats, summed in two passes: the reduction is 0 up to one rounding
    assert math.isclose(result.variance_reduction or 1, 0.0, abs_tol=1e-15)
    assert (result.difference, result.low, result.high, result.p_value, result.degrees_of_freedom) == (
        plain.difference,
        plain.low,
        plain.high,
        plain.p_value,
        plain.degrees_of_freedom,
    )


def test_cuped_with_an_empty_arm_is_all_blank() -> None:
    assert cuped_columns([], [], [1.0, 2.0], [1.0, 2.0]) == CupedEstimate(None, None, None, None, None)
    assert cuped_columns([1.0, 2.0], [1.0, 2.0], [], []) == CupedEstimate(None, None, None, None, None)


def test_cuped_on_a_flat_metric_has_no_variance_reduction() -> None:
    # the metric does not vary at all: there is no variance for the covariate to reduce
    result = cuped_columns([5.0, 5.0], [1.0, 2.0], [5.0], [3.0])
    assert result.theta == 0.0
    assert result.variance_reduction is None


# --- mSPRT -----------------------------------------------------------------------------------------


def test_msprt_blank_results_keep_the_tau_given() -> None:
    assert msprt([], [1.0, 2.0], tau=3.0) == AlwaysValid(None, None, None, None, 3.0)
    assert msprt([4.0], [1.0, 2.0], tau=3.0) == AlwaysValid(2.5, None, None, None, 3.0)


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_msprt_without_a_positive_tau_gives_no_interval(tau: float) -> None:
    assert msprt([1.0, 3.0], [1.0, 2.0], tau=tau) == AlwaysValid(0.5, None, None, None, tau)


def test_msprt_worked_example_with_unit_variance() -> None:
    # treatment 0, 2 (variance 2, over 2 members: 1) against a flat control: V = 1, D = 0, tau = 1,
    # so Lambda = sqrt(1/2) < 1 (p = 1) and the half-width is sqrt(2 (2 log 20 + log 2))
    result = msprt([0.0, 2.0], [1.0, 1.0, 1.0], tau=1.0, alpha=0.05)
    half = math.sqrt(2 * (2 * math.log(20) + math.log(2)))
    assert result.difference == 0.0
    assert result.p_value == 1.0
    assert close(result.low, -half)
    assert close(result.high, half)
    assert result.tau == 1.0


def test_msprt_reports_the_difference_with_its_interval() -> None:
    # D = 3 - 1.5 = 1.5, V = 2/2 + 0.5/2 = 1.25, tau = 2
    result = msprt([2.0, 4.0], [1.0, 2.0], tau=2.0, alpha=0.1)
    v, tau_square = 1.25, 4.0
    log_ratio = 0.5 * math.log(v / (v + tau_square)) + tau_square * 1.5**2 / (2 * v * (v + tau_square))
    half = math.sqrt(v * (v + tau_square) / tau_square * (2 * math.log(10) + math.log((v + tau_square) / v)))
    assert result.difference == 1.5
    assert close(result.p_value, min(1.0, math.exp(-log_ratio)))
    assert close(result.low, 1.5 - half)
    assert close(result.high, 1.5 + half)
