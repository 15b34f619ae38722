#!/usr/bin/python3
"""Reference log-densities for the distributions added in issue 21 (StudentT, Cauchy,
HalfCauchy, HalfNormal, LogNormal, Exponential, Weibull, Gumbel, Pareto, FoldNormal,
InverseGamma, Geometric).

Each value is computed with mpmath at 50 significant digits from the textbook density, and,
where scipy is accurate (ordinary parameters), checked against scipy.stats' own
implementation, an independent one. Every parameter and value is first rounded to float32, so
the same case is exact in double and in float and a float test compares against the true
density of its own inputs. Cases flagged double_only hold numbers beyond float's range.

Run from the repository root with Debian's python3 (python3-mpmath, python3-scipy):
    /usr/bin/python3 tests/reference/new_distributions_reference.py > tests/reference/new_distributions_reference.inc
"""

import math
import sys

import mpmath as mp
import numpy as np
from scipy import stats

mp.mp.dps = 50
NEG_INF = -mp.inf


def f32(v):
    """v rounded to float32, as a Python float (exact in double)."""
    return float(np.float32(v))


def student_t(df, loc, scale, x):
    z = (mp.mpf(x) - loc) / scale
    return (mp.loggamma((df + 1) / mp.mpf(2)) - mp.loggamma(df / mp.mpf(2)) - mp.log(df * mp.pi) / 2 - mp.log(scale)
            - (df + 1) / mp.mpf(2) * mp.log1p(z * z / df))


def cauchy(loc, scale, x):
    z = (mp.mpf(x) - loc) / scale
    return -mp.log(mp.pi) - mp.log(scale) - mp.log1p(z * z)


def half_cauchy(scale, x):
    if x < 0:
        return NEG_INF
    z = mp.mpf(x) / scale
    return mp.log(2) - mp.log(mp.pi) - mp.log(scale) - mp.log1p(z * z)


def half_normal(std, x):
    if x < 0:
        return NEG_INF
    z = mp.mpf(x) / std
    return mp.log(2 / mp.pi) / 2 - mp.log(std) - z * z / 2


def log_normal(loc, scale, x):
    if x <= 0:
        return NEG_INF
    u = (mp.log(x) - loc) / scale
    return -mp.log(x) - mp.log(2 * mp.pi) / 2 - mp.log(scale) - u * u / 2


def exponential(rate, x):
    if x < 0:
        return NEG_INF
    return mp.log(rate) - rate * mp.mpf(x)


def weibull(scale, concentration, x):
    if x < 0:
        return NEG_INF
    k = mp.mpf(concentration)
    if x == 0:
        if k < 1:
            return mp.inf
        if k > 1:
            return NEG_INF
        return -mp.log(scale)
    z = mp.mpf(x) / scale
    return mp.log(k) - mp.log(scale) + (k - 1) * mp.log(z) - z ** k


def gumbel(loc, scale, x):
    z = (mp.mpf(x) - loc) / scale
    return -mp.log(scale) - z - mp.exp(-z)


def pareto(scale, alpha, x):
    if x < scale:
        return NEG_INF
    return mp.log(alpha) + alpha * mp.log(scale) - (alpha + 1) * mp.log(x)


def fold_normal(mean, std, x):
    if x < 0:
        return NEG_INF
    x, mean, std = mp.mpf(x), mp.mpf(mean), mp.mpf(std)
    a = -((x - mean) / std) ** 2 / 2
    b = -((x + mean) / std) ** 2 / 2
    return -mp.log(2 * mp.pi) / 2 - mp.log(std) + mp.log(mp.exp(a) + mp.exp(b))


def inverse_gamma(alpha, beta, x):
    if x <= 0:
        return NEG_INF
    return alpha * mp.log(beta) - mp.loggamma(alpha) - (alpha + 1) * mp.log(x) - beta / mp.mpf(x)


def geometric_probs(p, k):
    if k < 0 or k != math.floor(k):
        return NEG_INF
    return k * mp.log1p(-mp.mpf(p)) + mp.log(p)


def geometric_logits(logits, k):
    return geometric_probs(1 / (1 + mp.exp(-mp.mpf(logits))), k) if k >= 0 and k == math.floor(k) else NEG_INF


# name: (density, scipy's logpdf or None, parameter names, cases (params..., x, extreme?))
# extreme cases are not compared with scipy (it loses accuracy or over/underflows there).
O, E = False, True
DISTRIBUTIONS = {
    "StudentT": (
        student_t,
        lambda df, loc, scale, x: stats.t.logpdf(x, df, loc, scale),
        [(3.0, 0.5, 1.5, 1.25, O), (1.0, 0.0, 1.0, -2.0, O), (0.5, -1.0, 0.25, 3.0, O), (7.5, 2.0, 3.0, -4.0, O),
         (30.0, 0.0, 2.0, 0.5, O), (2.0, 1.0, 0.5, 1.0, O), (1e6, 0.0, 1.0, 1.5, E), (5e5, 3.0, 2.0, -1.0, E),
         (1e-3, 0.0, 1.0, 1e3, E), (4.0, 0.0, 1e-20, 3e-20, E), (4.0, 1e20, 1e20, -1e20, E), (2.5, 0.0, 1.0, 1e30, E),
         (25.0, 0.0, 1.0, 0.0, E)]),
    "Cauchy": (
        cauchy,
        lambda loc, scale, x: stats.cauchy.logpdf(x, loc, scale),
        [(0.0, 1.0, 0.0, O), (0.5, 2.0, -3.0, O), (-1.0, 0.25, 4.0, O), (3.0, 0.5, 3.5, O), (0.0, 1e-20, 1e-19, E),
         (0.0, 1e20, 3e20, E), (1.0, 1.0, 1e30, E), (0.0, 1e-30, 1e30, E)]),
    "HalfCauchy": (
        half_cauchy,
        lambda scale, x: stats.halfcauchy.logpdf(x, 0, scale),
        [(1.0, 0.0, O), (2.0, 3.0, O), (0.25, 0.5, O), (1.5, -0.5, O), (1e-20, 5e-20, E), (1e20, 1e19, E),
         (1.0, 1e30, E), (1.0, -1e-30, E)]),
    "HalfNormal": (
        half_normal,
        lambda std, x: stats.halfnorm.logpdf(x, 0, std),
        [(1.0, 0.0, O), (1.0, 1.5, O), (0.5, 0.25, O), (2.5, 4.0, O), (3.0, -1.0, O), (1e-20, 2e-20, E),
         (1e20, 3e19, E), (1.0, 30.0, E), (1.0, -1e-30, E)]),
    "LogNormal": (
        log_normal,
        lambda loc, scale, x: stats.lognorm.logpdf(x, scale, 0, math.exp(loc)),
        [(0.0, 1.0, 1.0, O), (0.5, 0.75, 2.0, O), (-1.0, 2.0, 0.1, O), (2.0, 0.25, 7.0, O), (0.0, 1.0, 0.0, O),
         (0.0, 1.0, -2.0, O), (0.0, 1e-3, 1.001, E), (50.0, 1.0, 5e21, E), (-50.0, 1.0, 2e-22, E),
         (0.0, 1.0, 1e-30, E), (0.0, 30.0, 1e30, E)]),
    "Exponential": (
        exponential,
        lambda rate, x: stats.expon.logpdf(x, 0, 1 / rate),
        [(1.0, 0.0, O), (2.0, 1.5, O), (0.5, 3.0, O), (3.0, -0.5, O), (1e-20, 1e20, E), (1e20, 2e-20, E),
         (1.0, 80.0, E), (1.0, -1e-30, E)]),
    "Weibull": (
        weibull,
        lambda scale, k, x: stats.weibull_min.logpdf(x, k, 0, scale),
        [(1.0, 1.0, 0.5, O), (2.0, 1.5, 3.0, O), (0.5, 0.5, 0.25, O), (1.5, 3.0, 1.0, O), (1.0, 2.0, -1.0, O),
         (1.0, 0.5, 0.0, O), (2.0, 1.0, 0.0, O), (1.0, 2.0, 0.0, O), (1.0, 50.0, 1.01, E), (1e10, 2.0, 3e9, E),
         (1.0, 0.05, 1e-20, E), (1e-10, 1.5, 2e-10, E)]),
    "Gumbel": (
        gumbel,
        lambda loc, scale, x: stats.gumbel_r.logpdf(x, loc, scale),
        [(0.0, 1.0, 0.0, O), (1.0, 2.0, 3.0, O), (-0.5, 0.5, -1.5, O), (2.0, 1.5, 10.0, O), (0.0, 1.0, -3.0, O),
         (0.0, 1.0, 60.0, E), (0.0, 1e-20, 2e-20, E), (0.0, 1e20, -1e20, E), (0.0, 1.0, -5.0, E)]),
    "Pareto": (
        pareto,
        lambda scale, alpha, x: stats.pareto.logpdf(x, alpha, 0, scale),
        [(1.0, 1.0, 2.0, O), (2.0, 3.0, 2.0, O), (0.5, 0.5, 4.0, O), (1.5, 2.5, 10.0, O), (1.0, 2.0, 0.5, O),
         (1e-20, 2.0, 1e-19, E), (1e20, 0.1, 1e30, E), (1.0, 1e6, 1.0000001, E), (1.0, 1e-3, 1e35, E)]),
    "FoldNormal": (
        fold_normal,
        lambda mean, std, x: stats.foldnorm.logpdf(x, abs(mean) / std, 0, std),
        [(0.0, 1.0, 0.5, O), (1.0, 1.0, 0.5, O), (-1.0, 1.0, 0.5, O), (2.5, 0.75, 2.0, O), (0.5, 2.0, 0.0, O),
         (1.0, 1.0, -0.5, O), (-3.0, 1.5, 4.0, O), (100.0, 1.0, 99.0, E), (30.0, 1.0, 1e-3, E), (0.0, 1e-20, 3e-20, E),
         (1e20, 1e20, 2e20, E), (1e-6, 1.0, 1e-6, E), (5.0, 1.0, 60.0, E)]),
    "InverseGamma": (
        inverse_gamma,
        lambda alpha, beta, x: stats.invgamma.logpdf(x, alpha, 0, beta),
        [(1.0, 1.0, 0.5, O), (2.5, 1.5, 1.0, O), (0.5, 2.0, 3.0, O), (4.0, 0.25, 0.1, O), (2.0, 1.0, 0.0, O),
         (2.0, 1.0, -1.0, O), (1e6, 1e6, 1.0005, E), (5e5, 1.0, 2e-6, E), (1e-3, 1.0, 10.0, E), (3.0, 1e-20, 1e-20, E),
         (3.0, 1e20, 1e20, E), (2.0, 1.0, 1e-3, E)]),
    "GeometricProbs": (
        geometric_probs,
        lambda p, k: stats.geom.logpmf(k + 1, p),
        [(0.5, 0.0, O), (0.5, 3.0, O), (0.2, 5.0, O), (0.9, 1.0, O), (0.3, 2.5, O), (0.3, -1.0, O), (1e-6, 1e6, E),
         (1e-6, 0.0, E), (0.999999, 20.0, E)]),
    "GeometricLogits": (
        geometric_logits,
        lambda logits, k: stats.geom.logpmf(k + 1, 1 / (1 + math.exp(-logits))),
        [(0.0, 0.0, O), (0.0, 3.0, O), (-1.5, 5.0, O), (2.0, 1.0, O), (1.0, 2.5, O), (1.0, -1.0, O), (-30.0, 1e12, E),
         (-30.0, 0.0, E), (40.0, 2.0, E), (80.0, 0.0, E), (-80.0, 3.0, E)]),
}


def main():
    out = sys.stdout
    out.write("// Generated by tests/reference/new_distributions_reference.py (mpmath, 50 digits; ordinary\n"
              "// cases also checked against scipy.stats). Do not edit: rerun the script.\n"
              "// Parameters and values are float32 numbers, exact in double and in float.\n"
              "#pragma once\n\n#include <limits>\n\nnamespace vaelib::testing::new_distributions_reference {\n\n"
              "struct Case {\n  double p[3];       // the parameters, in the constructor's order (unused: 0)\n"
              "  double x;          // the value\n  double log_prob;   // log p(x)\n"
              "  bool extreme;      // extreme parameters or values (not compared with scipy)\n"
              "  bool double_only;  // a parameter, the value or log p beyond float's range\n};\n\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n")
    for name, (density, scipy_logpdf, cases) in DISTRIBUTIONS.items():
        out.write(f"inline constexpr Case k{name}[] = {{\n")
        for case in cases:
            *params, x, extreme = case
            params = [f32(p) for p in params]
            x = f32(x)
            value = density(*params, x)
            if not extreme:
                reference = float(scipy_logpdf(*params, x))
                if math.isinf(reference) or mp.isinf(value):
                    assert reference == float(value), (name, case, reference, value)
                else:
                    assert abs(reference - float(value)) <= 1e-9 * max(1.0, abs(reference)), (name, case, reference,
                                                                                              float(value))
            fmax = float(np.finfo(np.float32).max)
            ftiny = float(np.finfo(np.float32).tiny)
            double_only = any(abs(v) > fmax or (v != 0 and abs(v) < ftiny) for v in params + [x])
            double_only = double_only or (not mp.isinf(value) and abs(value) > fmax)
            padded = params + [0.0] * (3 - len(params))
            log_prob = "-inf" if value == NEG_INF else ("inf" if value == mp.inf else repr(float(value)))
            out.write("    {{%s}, %s, %s, %s, %s},\n" % (", ".join(repr(p) for p in padded), repr(x), log_prob,
                                                      "true" if extreme else "false",
                                                      "true" if double_only else "false"))
        out.write("};\n\n")
    out.write("}  // namespace vaelib::testing::new_distributions_reference\n")


if __name__ == "__main__":
    main()
