#!/usr/bin/python3
"""Reference log-densities (and Normal/Bernoulli KL divergences) for vaelib's original
distributions: Normal (std and log-std), Bernoulli, Uniform, Beta, Gamma, Poisson (rate and
log-rate), Laplace, Logistic, BinConcrete, Categorical, OnehotCategorical, Concrete,
MixtureNormal (std and log-std) and MultivariateNormalCholesky.

Every value is the textbook formula evaluated with mpmath at 60 significant digits; the
ordinary cases (flag `extreme` false) are also checked against scipy.stats where scipy has
the distribution, an independent implementation. Parameters and values are rounded to
float32 first, so that one case is the same problem in double and in float (a float test
compares with the exact density of its own inputs). A log-density whose true value lies
beyond float's range is written as its double value: in float it must round to -inf or +inf.
Uniform's support is [low, high) (scipy's is closed; its check is taken on that).

Conventions the library documents (and these tables pin): a value outside the support has
log p = -inf; Beta and Gamma at the edge of the support (x = 0, x = 1) take the limit of the
density (finite, +inf or -inf).

Run from the repository root with Debian's python3 (python3-mpmath, python3-scipy):
    /usr/bin/python3 tests/reference/distributions_reference.py > tests/reference/distributions_reference.inc
"""

import math
import sys

import mpmath as mp
import numpy as np
from scipy import stats

mp.mp.dps = 60
NEG_INF = -mp.inf
HALF_LOG_2PI = mp.log(2 * mp.pi) / 2


def f32(v):
    """v rounded to float32, as a Python float (exact in double)."""
    return float(np.float32(v))


def mpf(v):
    return mp.mpf(v)


# ---- univariate densities --------------------------------------------------------------

def normal_std(mean, std, x):
    z = (mpf(x) - mean) / std
    return -HALF_LOG_2PI - mp.log(std) - z * z / 2


def normal_logstd(mean, logstd, x):
    return normal_std(mean, mp.exp(mpf(logstd)), x)


def softplus(v):
    v = mpf(v)
    return mp.log1p(mp.exp(v)) if v < 0 else v + mp.log1p(mp.exp(-v))


def bernoulli(logits, x):
    return mpf(x) * logits - softplus(logits)


def uniform(low, high, x):
    if not (low <= x < high):
        return NEG_INF
    return -mp.log(mpf(high) - mpf(low))


def x_pow_term(power, log_x, x_is_zero):
    """power * log x, with the limit at x = 0: 0 when power = 0, -inf/+inf otherwise."""
    if x_is_zero:
        return mpf(0) if power == 0 else (NEG_INF if power > 0 else mp.inf)
    return power * log_x


def beta(a, b, x):
    if not (0 <= x <= 1):
        return NEG_INF
    a, b = mpf(a), mpf(b)
    x = mpf(x)
    log_b = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    left = x_pow_term(a - 1, None if x == 0 else mp.log(x), x == 0)
    right = x_pow_term(b - 1, None if x == 1 else mp.log1p(-x), x == 1)
    if (left == mp.inf and right == NEG_INF) or (left == NEG_INF and right == mp.inf):
        raise ValueError("undefined")
    return left + right - log_b


def gamma(alpha, rate, x):
    if not (0 <= x < math.inf):
        return NEG_INF
    a, b, x = mpf(alpha), mpf(rate), mpf(x)
    return a * mp.log(b) - mp.loggamma(a) + x_pow_term(a - 1, None if x == 0 else mp.log(x), x == 0) - b * x


def poisson_rate(rate, k):
    if math.isinf(k) or k < 0 or k != math.floor(k):
        return NEG_INF
    k = mpf(k)
    return k * mp.log(rate) - rate - mp.loggamma(k + 1)


def poisson_log_rate(log_rate, k):
    if math.isinf(k) or k < 0 or k != math.floor(k):
        return NEG_INF
    k = mpf(k)
    return k * log_rate - mp.exp(log_rate) - mp.loggamma(k + 1)


def laplace(loc, scale, x):
    return -mp.log(2 * mpf(scale)) - abs(mpf(x) - loc) / scale


def logistic(loc, scale, x):
    z = (mpf(x) - loc) / scale
    return -z - mp.log(scale) - 2 * softplus(-z)


def bin_concrete(temperature, logits, x):
    tau, l, x = mpf(temperature), mpf(logits), mpf(x)
    # density of Maddison et al.: tau a x^(-tau-1) (1-x)^(-tau-1) / (a x^(-tau) + (1-x)^(-tau))^2
    a = mp.exp(l)
    return (mp.log(tau) + l - (tau + 1) * (mp.log(x) + mp.log1p(-x))
            - 2 * mp.log(a * x ** (-tau) + (1 - x) ** (-tau)))


# ---- multivariate densities: p = flat parameters, x = list -----------------------------

def log_softmax(logits):
    logits = [mpf(v) for v in logits]
    top = max(logits)
    total = mp.log(mp.fsum(mp.exp(v - top) for v in logits)) + top
    return [v - total for v in logits]


def categorical(p, x):
    return log_softmax(p[:3])[int(x[0])]


def onehot_categorical(p, x):
    return mp.fsum(xi * li for xi, li in zip(x, log_softmax(p[:3])))


def concrete(p, x):
    tau, logits = mpf(p[0]), [mpf(v) for v in p[1:4]]
    k = len(logits)
    terms = [l - tau * mp.log(xi) for l, xi in zip(logits, x)]
    top = max(terms)
    lse = mp.log(mp.fsum(mp.exp(t - top) for t in terms)) + top
    return (mp.log(mp.factorial(k - 1)) + (k - 1) * mp.log(tau)
            + mp.fsum(l - (tau + 1) * mp.log(xi) for l, xi in zip(logits, x)) - k * lse)


def mixture_normal(p, x, log_scale):
    """K = 2 components in d = 1: p = [logit0, logit1, mean0, mean1, scale0, scale1]."""
    weights = log_softmax(p[0:2])
    parts = []
    for c in range(2):
        std = mp.exp(mpf(p[4 + c])) if log_scale else mpf(p[4 + c])
        parts.append(weights[c] + normal_std(p[2 + c], std, x[0]))
    top = max(parts)
    return top + mp.log(mp.fsum(mp.exp(t - top) for t in parts))


def mvn_cholesky(p, x):
    """d = 2: p = [mean0, mean1, L00, L10, L11]."""
    m0, m1, l00, l10, l11 = (mpf(v) for v in p[:5])
    z0 = (mpf(x[0]) - m0) / l00
    z1 = (mpf(x[1]) - m1 - l10 * z0) / l11
    return -2 * HALF_LOG_2PI - mp.log(l00) - mp.log(l11) - (z0 * z0 + z1 * z1) / 2


def kl_normal(mean_p, logstd_p, mean_q, logstd_q):
    r = 2 * (mpf(logstd_p) - logstd_q)
    z = (mpf(mean_p) - mean_q) / mp.exp(mpf(logstd_q))
    return (mp.expm1(r) - r) / 2 + z * z / 2


def kl_bernoulli(logits_p, logits_q):
    lp, lq = mpf(logits_p), mpf(logits_q)
    p = 1 / (1 + mp.exp(-lp))
    # log sigmoid(l) = -softplus(-l), log(1 - sigmoid(l)) = -softplus(l)
    return p * (softplus(-lq) - softplus(-lp)) + (1 - p) * (softplus(lq) - softplus(lp))


# ---- the cases --------------------------------------------------------------------------
O, E = False, True

# name: (density, scipy's logpdf or None, [(params..., x, extreme)])
SCALAR = {
    "Normal": (normal_std, lambda m, s, x: stats.norm.logpdf(x, m, s), [
        (0.0, 1.0, 0.0, O), (0.5, 2.0, -1.5, O), (-3.0, 0.25, -2.5, O), (1.0, 3.0, 7.0, O),
        (0.0, 1e-20, 3e-20, E), (0.0, 1e20, 3e20, E), (0.0, 1.0, 30.0, E), (1e30, 1e30, 0.0, E),
        (0.0, 1e-30, 1.0, E), (0.0, 1e-38, 1e-38, E)]),
    "NormalLogstd": (normal_logstd, lambda m, ls, x: stats.norm.logpdf(x, m, math.exp(ls)), [
        (0.0, 0.0, 0.0, O), (0.5, 0.7, -1.5, O), (1.0, -2.0, 1.1, O), (-2.0, 1.5, 3.0, O),
        (0.0, -100.0, 0.0, E), (1.0, -1000.0, 1.0, E), (0.0, -95.0, 1e-41, E), (0.0, -90.0, 1e-39, E),
        (0.0, -89.0, 2e-38, E), (0.0, -100.0, 1.0, E), (0.0, 80.0, 1e30, E), (0.0, 100.0, 3e38, E),
        (0.0, -300.0, 1e-300, E), (0.0, 1000.0, 0.0, E)]),
    "Bernoulli": (bernoulli, lambda l, x: stats.bernoulli.logpmf(x, 1 / (1 + math.exp(-l))), [
        (0.0, 0.0, O), (0.0, 1.0, O), (2.5, 1.0, O), (2.5, 0.0, O), (-3.0, 1.0, O), (30.0, 0.0, E),
        (-30.0, 0.0, E), (100.0, 1.0, E), (-100.0, 1.0, E), (1e30, 0.0, E), (-1e30, 0.0, E)]),
    "Uniform": (uniform, lambda lo, hi, x: -math.inf if x >= hi else stats.uniform.logpdf(x, lo, hi - lo), [
        (0.0, 1.0, 0.5, O), (-2.0, 3.0, 0.0, O), (1.0, 2.0, 2.0, O), (1.0, 2.0, 0.5, O), (1.0, 2.0, 1.0, O),
        (-3e38, 3e38, 0.0, E), (-3e38, 3e38, -3e38, E), (-3.4e38, 3.4e38, 3e38, E), (1e-30, 2e-30, 1.5e-30, E),
        (1.0, 1.0 + 2.0 ** -23, 1.0, E), (1e30, 1.0000001e30, 1e30, E)]),
    "Beta": (beta, lambda a, b, x: stats.beta.logpdf(x, a, b), [
        (1.0, 1.0, 0.5, O), (2.0, 3.0, 0.3, O), (0.5, 0.5, 0.1, O), (5.0, 1.0, 0.9, O), (2.0, 2.0, 1.5, O),
        (2.0, 2.0, -0.5, O), (1.0, 2.0, 0.0, O), (2.0, 1.0, 1.0, O), (2.0, 2.0, 0.0, O),
        (1e4, 1e4, 0.5, E), (1e4, 1e4, 0.505, E), (1e5, 1e5, 0.499, E), (1e6, 1e6, 0.5, E), (1e6, 1e6, 0.5005, E),
        (1e6, 2e6, 0.3333, E), (3e5, 7e5, 0.3, E), (1e5, 10.0, 0.99991, E), (10.0, 1e6, 1e-5, E),
        (1e-3, 1e-3, 0.5, E), (0.5, 0.5, 1e-30, E), (1e-3, 2.0, 1e-30, E), (1e6, 1e6, 0.0, E), (0.5, 2.0, 0.0, E)]),
    "Gamma": (gamma, lambda a, b, x: stats.gamma.logpdf(x, a, 0, 1 / b), [
        (1.0, 1.0, 0.5, O), (2.0, 3.0, 1.5, O), (0.5, 2.0, 0.1, O), (5.0, 0.5, 10.0, O), (2.0, 1.0, 0.0, O),
        (1.0, 2.0, 0.0, O), (2.0, 1.0, -1.0, O),
        (1e4, 1e4, 1.0, E), (1e4, 1e4, 1.01, E), (1e5, 1e5, 0.997, E), (1e6, 1e6, 1.0, E), (1e6, 1e6, 1.001, E),
        (1e6, 1.0, 1e6, E), (1e6, 2.0, 5e5, E), (1e5, 1e-3, 1e8, E), (1e-3, 1.0, 1e-20, E), (3.0, 1e20, 1e-20, E),
        (2.0, 1e-20, 1e20, E), (0.5, 1.0, 0.0, E), (2.0, 1.0, math.inf, E)]),
    "Poisson": (poisson_rate, lambda r, k: stats.poisson.logpmf(k, r), [
        (1.0, 0.0, O), (1.0, 3.0, O), (4.5, 2.0, O), (0.1, 5.0, O), (10.0, 10.0, O), (3.0, 2.5, O), (3.0, -1.0, O),
        (1e4, 1e4, E), (1e4, 10100.0, E), (1e5, 99700.0, E), (1e6, 1e6, E), (1e6, 999000.0, E), (1e6, 1001500.0, E),
        (1e-20, 0.0, E), (1e-20, 3.0, E), (1.0, 1e6, E), (1e6, 0.0, E), (3.0, math.inf, E)]),
    "PoissonLogRate": (poisson_log_rate, lambda lr, k: stats.poisson.logpmf(k, math.exp(lr)), [
        (0.0, 0.0, O), (0.0, 3.0, O), (1.5, 2.0, O), (-2.0, 5.0, O), (2.3, 10.0, O), (1.0, 0.5, O),
        (math.log(1e4), 1e4, E), (math.log(1e6), 1e6, E), (math.log(1e6), 999000.0, E), (-46.0, 0.0, E),
        (-46.0, 3.0, E), (80.0, 0.0, E), (100.0, 5.0, E)]),
    "Laplace": (laplace, lambda m, b, x: stats.laplace.logpdf(x, m, b), [
        (0.0, 1.0, 0.0, O), (0.5, 2.0, -1.0, O), (1.0, 0.1, 3.0, O), (-2.0, 3.0, 4.0, O),
        (0.0, 1e-20, 1e-19, E), (0.0, 1e20, 3e20, E), (0.0, 1.0, 1e30, E), (1e30, 1e30, -1e30, E)]),
    "Logistic": (logistic, lambda m, s, x: stats.logistic.logpdf(x, m, s), [
        (0.0, 1.0, 0.0, O), (1.0, 2.0, -3.0, O), (0.0, 0.5, 10.0, O), (-1.0, 1.5, 0.5, O),
        (0.0, 1.0, 100.0, E), (0.0, 1.0, -100.0, E), (0.0, 1e-20, 1e-19, E), (0.0, 1e20, 1e21, E),
        (0.0, 1.0, 1e30, E), (0.0, 1.0, -1e30, E)]),
    "BinConcrete": (bin_concrete, None, [
        (0.5, 0.0, 0.5, O), (1.0, 1.0, 0.3, O), (0.1, -2.0, 0.01, O), (2.0, 0.5, 0.9, O),
        (0.5, 0.0, 1e-30, E), (0.5, 0.0, 0.999999, E), (0.1, 20.0, 0.5, E), (0.3, -30.0, 1e-10, E)]),
}

# name: (density, scipy check or None, [(params, x, extreme)]); params padded to 6, x to 3
VECTOR = {
    "Categorical": (categorical, lambda p, x: math.log(np.exp(p[:3] - np.logaddexp.reduce(p[:3]))[int(x[0])]), [
        ([0.0, 0.0, 0.0], [1.0], O), ([1.0, -2.0, 0.5], [0.0], O), ([1.0, -2.0, 0.5], [1.0], O),
        ([10.0, -10.0, 0.0], [1.0], O), ([100.0, -100.0, 0.0], [1.0], E), ([30.0, -30.0, 0.0], [2.0], E),
        ([1e30, 0.0, 0.0], [1.0], E)]),
    "OnehotCategorical": (onehot_categorical, None, [
        ([0.0, 0.0, 0.0], [0.0, 1.0, 0.0], O), ([1.0, -2.0, 0.5], [1.0, 0.0, 0.0], O),
        ([10.0, -10.0, 0.0], [0.0, 1.0, 0.0], O), ([100.0, -100.0, 0.0], [0.0, 1.0, 0.0], E),
        ([1e30, 0.0, 0.0], [0.0, 0.0, 1.0], E)]),
    "Concrete": (concrete, None, [
        ([0.5, 0.0, 0.0, 0.0], [0.2, 0.3, 0.5], O), ([1.0, 1.0, -1.0, 0.5], [0.6, 0.1, 0.3], O),
        ([0.1, 2.0, 0.0, -2.0], [0.98, 0.01, 0.01], O), ([0.5, 0.0, 0.0, 0.0], [1e-20, 0.5, 0.5], E),
        ([0.1, 20.0, -20.0, 0.0], [0.999, 1e-4, 9e-4], E)]),
    "MixtureNormal": (lambda p, x: mixture_normal(p, x, False), None, [
        ([0.0, 0.0, 0.0, 5.0, 1.0, 2.0], [1.0], O), ([1.0, -1.0, -1.0, 1.0, 0.5, 0.5], [0.0], O),
        ([0.0, 2.0, 3.0, -3.0, 1.5, 0.3], [-2.5], O), ([0.0, 0.0, 0.0, 100.0, 1.0, 1.0], [50.0], E),
        ([0.0, 0.0, 0.0, 1.0, 1e-20, 1e20], [1e-20, ], E), ([0.0, -1e30, 0.0, 1.0, 1.0, 1.0], [0.5], E)]),
    "MixtureNormalLogstd": (lambda p, x: mixture_normal(p, x, True), None, [
        ([0.0, 0.0, 0.0, 5.0, 0.0, 0.7], [1.0], O), ([1.0, -1.0, -1.0, 1.0, -0.7, -0.7], [0.0], O),
        ([0.0, 0.0, 0.0, 5.0, -100.0, 0.0], [0.0], E), ([0.0, 0.0, 0.0, 5.0, -95.0, 0.0], [1e-41], E),
        ([0.0, 0.0, 0.0, 5.0, -90.0, 0.0], [1e-39], E), ([0.0, 0.0, 0.0, 5.0, -100.0, 0.0], [4.0], E),
        ([0.0, 0.0, 1.0, 1.0, -1000.0, -500.0], [1.0], E)]),
    "MultivariateNormalCholesky": (mvn_cholesky, lambda p, x: stats.multivariate_normal.logpdf(
        x[:2], p[:2], np.array([[p[2], 0], [p[3], p[4]]]) @ np.array([[p[2], 0], [p[3], p[4]]]).T), [
        ([0.0, 0.0, 1.0, 0.0, 1.0], [0.5, -0.5], O), ([1.0, -1.0, 2.0, 0.5, 0.3], [0.0, 0.0], O),
        ([0.5, 0.5, 0.1, -0.2, 1.5], [0.6, 2.0], O), ([0.0, 0.0, 1e-20, 0.0, 1e-20], [1e-20, -1e-20], E),
        ([0.0, 0.0, 1e20, 1e19, 1e20], [1e20, 3e20], E), ([0.0, 0.0, 1.0, 1e6, 1.0], [1.0, 1e6 + 2.0], E)]),
}

# (mean_p, logstd_p, mean_q, logstd_q, extreme)
KL_NORMAL = [
    (0.0, 0.0, 0.0, 0.0, O), (1.0, 0.5, -1.0, 0.2, O), (0.0, -1.0, 2.0, 1.0, O), (0.5, 1.0, 0.5, -1.0, O),
    (0.0, -25.0, 0.0, 25.0, E), (0.0, 25.0, 0.0, -25.0, E), (0.0, -45.0, 0.0, 5.0, E), (0.0, 44.0, 0.0, 0.0, E),
    (0.0, -200.0, 0.0, 200.0, E), (0.0, 200.0, 0.0, -200.0, E), (1.0, -100.0, 1.0, -100.0, E),
    (0.0, -80.0, 1e-30, -80.0, E), (0.0, -90.0, 1e-38, -90.0, E), (0.0, 0.0, 1e-3, 1e-4, E),
    (0.0, 1e-6, 0.0, 0.0, E)]
# (logits_p, logits_q, extreme)
KL_BERNOULLI = [
    (0.0, 0.0, O), (1.0, -1.0, O), (-2.0, 0.5, O), (10.0, -10.0, O), (-30.0, 30.0, E), (50.0, -50.0, E),
    (100.0, -100.0, E), (-100.0, 100.0, E), (1e30, 0.0, E), (0.0, -1e30, E)]

def literal(v):
    if v == mp.inf:
        return "inf"
    if v == NEG_INF:
        return "-inf"
    return repr(float(v))


def check_scipy(name, case, reference, value):
    if math.isinf(reference) or mp.isinf(value):
        assert reference == float(value), (name, case, reference, value)
    else:
        assert abs(reference - float(value)) <= 1e-9 * max(1.0, abs(reference)), (name, case, reference, float(value))


def main():
    out = sys.stdout
    out.write("// Generated by tests/reference/distributions_reference.py (mpmath, 60 digits; ordinary cases\n"
              "// also checked against scipy.stats). Do not edit: rerun the script.\n"
              "// Parameters and values are float32 numbers, exact in double and in float.\n"
              "#pragma once\n\n#include <limits>\n\nnamespace vaelib::testing::distributions_reference {\n\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n"
              "struct ScalarCase {\n  double p[3];       // the parameters, in the constructor's order (unused: 0)\n"
              "  double x;          // the value\n  double log_prob;   // log p(x) (or the KL divergence)\n"
              "  bool extreme;      // extreme parameters or values\n};\n\n"
              "struct VectorCase {\n  double p[6];       // the parameters, flattened (see the .py)\n"
              "  double x[3];       // the value\n  double log_prob;   // log p(x)\n  bool extreme;\n};\n\n")
    with np.errstate(all="ignore"):
        for name, (density, scipy_logpdf, cases) in SCALAR.items():
            out.write(f"inline constexpr ScalarCase k{name}[] = {{\n")
            for case in cases:
                *params, x, extreme = case
                params = [f32(p) for p in params]
                x = f32(x) if not math.isinf(x) else x
                value = density(*params, x)
                if not extreme and scipy_logpdf is not None:
                    check_scipy(name, case, float(scipy_logpdf(*params, x)), value)
                padded = params + [0.0] * (3 - len(params))
                out.write("    {{%s}, %s, %s, %s},\n" % (
                    ", ".join(repr(p) for p in padded), literal(x), literal(value), str(extreme).lower()))
            out.write("};\n\n")
        for name, (density, scipy_logpdf, cases) in VECTOR.items():
            out.write(f"inline constexpr VectorCase k{name}[] = {{\n")
            for params, x, extreme in cases:
                params = [f32(p) for p in params]
                x = [f32(v) for v in x]
                value = density(params, x)
                if not extreme and scipy_logpdf is not None:
                    check_scipy(name, (params, x), float(scipy_logpdf(np.array(params), np.array(x))), value)
                out.write("    {{%s}, {%s}, %s, %s},\n" % (
                    ", ".join(repr(p) for p in params + [0.0] * (6 - len(params))),
                    ", ".join(repr(v) for v in x + [0.0] * (3 - len(x))), literal(value), str(extreme).lower()))
            out.write("};\n\n")
    # KL tables: p = (mean_p, logstd_p, mean_q), x = logstd_q; p = (logits_p), x = logits_q
    out.write("// KL(Normal(p[0], exp(p[1])) || Normal(p[2], exp(x))) in log_prob\n")
    out.write("inline constexpr ScalarCase kKLNormal[] = {\n")
    for mp_, lp, mq, lq, extreme in KL_NORMAL:
        params = [f32(mp_), f32(lp), f32(mq)]
        lq = f32(lq)
        value = kl_normal(*params, lq)
        out.write("    {{%s}, %s, %s, %s},\n" % (", ".join(repr(p) for p in params), repr(lq), literal(value),
                                               str(extreme).lower()))
    out.write("};\n\n// KL(Bernoulli(p[0]) || Bernoulli(x)) in log_prob\n")
    out.write("inline constexpr ScalarCase kKLBernoulli[] = {\n")
    for lp, lq, extreme in KL_BERNOULLI:
        lp, lq = f32(lp), f32(lq)
        value = kl_bernoulli(lp, lq)
        out.write("    {{%s, 0.0, 0.0}, %s, %s, %s},\n" % (repr(lp), repr(lq), literal(value),
                                                                  str(extreme).lower()))
    out.write("};\n\n}  // namespace vaelib::testing::distributions_reference\n")


if __name__ == "__main__":
    main()
