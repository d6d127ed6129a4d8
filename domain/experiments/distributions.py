"""The distribution functions the experiment statistics need, in the standard library only.

Student's t and the chi-square distribution come from the regularized incomplete beta and gamma
functions, evaluated as in Numerical Recipes (Press et al., 3rd ed., sections 6.2 and 6.4): a power
series or a continued fraction summed with the modified Lentz method, whichever converges fast at the
point. The log of the beta function uses Stirling's series for large arguments (as R's `lbeta` does),
so that hundreds of thousands of degrees of freedom lose no accuracy to the cancellation of two large
`lgamma` values. The normal distribution is `statistics.NormalDist` and `math.erfc`.

Accuracy: about 1e-13 relative against scipy over the ranges the reports use (checked in
tests/unit/test_experiment_statistics.py).
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-16  # a continued fraction or series stops when its last factor or term is this small
_FPMIN = 1e-300  # Lentz's guard against division by zero
_MAX_ITERATIONS = 100_000  # a fraction needs O(sqrt(max(a, b))) terms; this covers a, b up to ~1e9
_LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_NORMAL = NormalDist()

# Stirling's series for lgamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)): B_2k / (2k (2k - 1) x^(2k-1)).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)


def _lgamma_correction(x: float) -> float:
    """lgamma(x) minus its Stirling approximation, for x >= 10 (error below 1e-17 there)."""
    inverse_square = 1 / (x * x)
    total = 0.0
    power = 1 / x
    for coefficient in _STIRLING:
        total += coefficient * power
        power *= inverse_square
    return total


def log_beta(a: float, b: float) -> float:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), without cancellation for large arguments."""
    p, q = min(a, b), max(a, b)
    if p >= 10:
        correction = _lgamma_correction(p) + _lgamma_correction(q) - _lgamma_correction(p + q)
        return (
            -0.5 * math.log(q)
            + _LN_SQRT_2PI
            + correction
            + (p - 0.5) * math.log(p / (p + q))
            + q * math.log1p(-p / (p + q))
        )
    if q >= 10:
        correction = _lgamma_correction(q) - _lgamma_correction(p + q)
        return math.lgamma(p) + correction + p - p * math.log(p + q) + (q - 0.5) * math.log1p(-p / (p + q))
    return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (Numerical Recipes' betacf, modified Lentz)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    d = 1 / (d if abs(d) >= _FPMIN else _FPMIN)
    h = d
    for m in range(1, _MAX_ITERATIONS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) >= _FPMIN else _FPMIN)
        c = 1 + aa / c
        c = c if abs(c) >= _FPMIN else _FPMIN
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) >= _FPMIN else _FPMIN)
        c = 1 + aa / c
        c = c if abs(c) >= _FPMIN else _FPMIN
        step = d * c
        h *= step
        if abs(step - 1) < _EPS:
            break
    return h


def regularized_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """I_x(a, b), the regularized incomplete beta function; y = 1 - x when the caller has it exactly."""
    if y is None:
        y = 1 - x
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    # log of the one nearer 1 through log1p of the other: a * log(x) with a in the millions would
    # otherwise multiply x's rounding into the result
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    log_front = a * log_x + b * log_y - log_beta(a, b)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, y) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with df degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2)."""
    if math.isinf(t):
        return 0.0
    square = t * t
    return regularized_beta(df / 2, 0.5, df / (df + square), square / (df + square))


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom."""
    half = 0.5 * t_two_sided_p(t, df)
    return half if t >= 0 else 1 - half


def t_pdf(t: float, df: float) -> float:
    """The density of Student's t with df degrees of freedom."""
    return math.exp(
        -0.5 * math.log(df) - log_beta(df / 2, 0.5) - (df + 1) / 2 * math.log1p(t * t / df),
    )


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: Newton's method on the upper tail, from the Cornish-Fisher expansion.

    The upper tail is decreasing and convex for t > 0, so once an iterate lies left of the root Newton's
    steps climb to it monotonically (one step from the right lands left of it); a step that would cross
    zero is halved instead. From the expansion's start two or three steps reach the precision the tail
    is computed to.
    """
    if not 0 < p < 1:
        raise ValueError("p must be strictly between 0 and 1")
    if p == 0.5:
        return 0.0
    tail = min(p, 1 - p)  # solve P(T > t) = tail for t > 0, then give it p's sign
    t = _cornish_fisher(-_NORMAL.inv_cdf(tail), df)
    climbing = False
    for _ in range(100):
        proposal = t + (t_sf(t, df) - tail) / t_pdf(t, df)
        if proposal <= 0:
            proposal = t / 2
        if climbing and proposal < t:
            # from the left Newton's steps only climb: a step back is the tail's own rounding (about
            # 1e-11 of t past 1e5 degrees of freedom), which no further step improves on
            break
        climbing = proposal > t
        # convergence is quadratic, so after a step this small the error is below the tail's rounding
        done = abs(proposal - t) <= 1e-12 * t
        t = proposal
        if done:
            break
    return t if p > 0.5 else -t


def _cornish_fisher(z: float, df: float) -> float:
    """Student's t quantile from the normal one (Abramowitz and Stegun 26.7.5); good for df >= 3, and a
    start below the root for fewer (the normal quantile then)."""
    if df < 3:
        return z
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z: erfc(|z| / sqrt 2)."""
    return math.erfc(abs(z) / math.sqrt(2))


def normal_quantile(p: float) -> float:
    """The z with P(Z <= z) = p for a standard normal Z."""
    return _NORMAL.inv_cdf(p)


def _gamma_series(a: float, x: float) -> float:
    """The series for the regularized lower incomplete gamma P(a, x); converges fast when x < a + 1."""
    term = total = 1 / a
    denominator = a
    for _ in range(_MAX_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_fraction(a: float, x: float) -> float:
    """The continued fraction for the regularized upper incomplete gamma Q(a, x); for x >= a + 1."""
    b = x + 1 - a
    c = 1 / _FPMIN
    d = 1 / b
    h = d
    for i in range(1, _MAX_ITERATIONS + 1):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) >= _FPMIN else _FPMIN)
        c = b + an / c
        c = c if abs(c) >= _FPMIN else _FPMIN
        step = d * c
        h *= step
        if abs(step - 1) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def regularized_upper_gamma(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a), the regularized upper incomplete gamma function."""
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1:
        return 1 - _gamma_series(a, x)
    return _gamma_fraction(a, x)


def chi_square_sf(statistic: float, df: float) -> float:
    """P(X >= statistic) for a chi-square X with df degrees of freedom: Q(df/2, statistic/2)."""
    return regularized_upper_gamma(df / 2, statistic / 2)
