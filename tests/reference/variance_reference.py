#!/usr/bin/python3
"""Reference variances for Distribution::variance() (issue 21).

Each value is the textbook closed form evaluated with mpmath at 50 significant digits and, for
the ordinary cases, checked against scipy.stats' own .var() (or .cov() for the vector-valued
distributions), an independent implementation. Every parameter is first rounded to float32,
so the same case is exact in double and in float. Cases flagged double_only hold a parameter or
a variance beyond float's range. The MixtureNormal reference is a numerical integral of
(x - E x)^2 against the mixture density (mpmath.quad), not the law of total variance.

Run from the repository root with Debian's python3 (python3-mpmath, python3-scipy):
    /usr/bin/python3 tests/reference/variance_reference.py > tests/reference/variance_reference.inc
"""

import math
import sys

import mpmath as mp
import numpy as np
from scipy import stats

mp.mp.dps = 50
INF = mp.inf


def f32(v):
    """v rounded to float32, as a Python float (exact in double)."""
    return float(np.float32(v))


def sigmoid(l):
    return 1 / (1 + mp.exp(-mp.mpf(l)))


# name: (closed form in mpmath, scipy's variance, cases (parameters..., extreme))
SCALAR = {
    "NormalStd": (lambda m, s: mp.mpf(s) ** 2, lambda m, s: stats.norm(m, s).var(),
                  [(0.5, 1.5, False), (-3.0, 0.01, False), (1e3, 1e15, True)]),
    "NormalLogstd": (lambda m, s: mp.exp(2 * mp.mpf(s)), lambda m, s: stats.norm(m, math.exp(s)).var(),
                     [(0.5, 0.25, False), (0.0, -3.0, False), (0.0, -30.0, True), (0.0, -100.0, True)]),
    "Bernoulli": (lambda l: sigmoid(l) * sigmoid(-l), lambda l: stats.bernoulli(1 / (1 + math.exp(-l))).var(),
                  [(0.3, False), (-2.5, False), (30.0, True), (-60.0, True)]),
    "Beta": (lambda a, b: a * b / ((mp.mpf(a) + b) ** 2 * (mp.mpf(a) + b + 1)), lambda a, b: stats.beta(a, b).var(),
             [(2.0, 3.0, False), (0.5, 0.25, False), (1e6, 3e5, True), (1e-3, 1e6, True)]),
    "Gamma": (lambda a, b: mp.mpf(a) / mp.mpf(b) ** 2, lambda a, b: stats.gamma(a, scale=1 / b).var(),
              [(2.5, 1.5, False), (0.25, 4.0, False), (1e6, 1e3, True)]),
    "Poisson": (lambda r: mp.mpf(r), lambda r: stats.poisson(r).var(), [(3.5, False), (1e6, True)]),
    "Laplace": (lambda m, b: 2 * mp.mpf(b) ** 2, lambda m, b: stats.laplace(m, b).var(),
                [(0.5, 1.5, False), (-2.0, 0.125, False)]),
    "Logistic": (lambda m, s: mp.pi ** 2 * mp.mpf(s) ** 2 / 3, lambda m, s: stats.logistic(m, s).var(),
                 [(0.5, 1.5, False), (-2.0, 0.125, False)]),
    "Uniform": (lambda lo, hi: (mp.mpf(hi) - lo) ** 2 / 12, lambda lo, hi: stats.uniform(lo, hi - lo).var(),
                [(-1.0, 2.5, False), (3.0, 3.125, False), (-3e38, 3e38, True)]),
    "Exponential": (lambda r: 1 / mp.mpf(r) ** 2, lambda r: stats.expon(scale=1 / r).var(),
                    [(1.5, False), (0.01, False)]),
    "HalfNormal": (lambda s: mp.mpf(s) ** 2 * (1 - 2 / mp.pi), lambda s: stats.halfnorm(scale=s).var(),
                   [(1.5, False), (0.01, False)]),
    "LogNormal": (lambda m, s: mp.expm1(mp.mpf(s) ** 2) * mp.exp(2 * mp.mpf(m) + mp.mpf(s) ** 2),
                  lambda m, s: stats.lognorm(s, scale=math.exp(m)).var(),
                  [(0.5, 0.75, False), (-1.0, 1.5, False), (2.0, 1e-4, True)]),
    "StudentT": (lambda df, m, s: (mp.mpf(s) ** 2 * df / (mp.mpf(df) - 2)) if df > 2 else INF,
                 lambda df, m, s: stats.t(df, m, s).var(),
                 [(3.0, 0.5, 1.5, False), (30.0, 0.0, 2.0, False), (1.5, 0.0, 1.0, False), (2.0, 1.0, 0.5, False),
                  (1e6, 0.0, 1.0, True)]),
    "Weibull": (lambda s, k: mp.mpf(s) ** 2 * (mp.gamma(1 + 2 / mp.mpf(k)) - mp.gamma(1 + 1 / mp.mpf(k)) ** 2),
                lambda s, k: stats.weibull_min(k, scale=s).var(),
                [(1.5, 2.0, False), (0.5, 0.75, False), (2.0, 30.0, False), (1.0, 1e4, True)]),
    "Gumbel": (lambda m, s: mp.pi ** 2 * mp.mpf(s) ** 2 / 6, lambda m, s: stats.gumbel_r(m, s).var(),
               [(0.5, 1.5, False), (-2.0, 0.125, False)]),
    "Pareto": (lambda s, a: (mp.mpf(s) ** 2 * a / ((mp.mpf(a) - 1) ** 2 * (mp.mpf(a) - 2))) if a > 2 else INF,
               lambda s, a: stats.pareto(a, scale=s).var(),
               [(1.5, 3.0, False), (0.5, 7.5, False), (1.0, 2.0, False), (2.0, 0.5, False)]),
    "InverseGamma": (lambda a, b: (mp.mpf(b) ** 2 / ((mp.mpf(a) - 1) ** 2 * (mp.mpf(a) - 2))) if a > 2 else INF,
                     lambda a, b: stats.invgamma(a, scale=b).var(),
                     [(3.0, 1.5, False), (7.5, 0.5, False), (1.5, 1.0, False), (0.5, 2.0, False)]),
    "FoldNormal": (None, lambda m, s: stats.foldnorm(abs(m) / s, scale=s).var(),
                   [(0.5, 1.5, False), (-1.0, 0.5, False), (0.0, 2.0, False), (30.0, 1.0, True),
                    (-1e3, 0.5, True)]),
    "GeometricLogits": (lambda l: (1 - sigmoid(l)) / sigmoid(l) ** 2,
                        lambda l: stats.geom(1 / (1 + math.exp(-l)), loc=-1).var(),
                        [(0.5, False), (-2.0, False), (20.0, True), (-20.0, True)]),
    "GeometricProbs": (lambda p: (1 - mp.mpf(p)) / mp.mpf(p) ** 2, lambda p: stats.geom(p, loc=-1).var(),
                       [(0.25, False), (0.9, False)]),
    "BinomialLogits": (lambda n, l: n * sigmoid(l) * sigmoid(-l),
                       lambda n, l: stats.binom(n, 1 / (1 + math.exp(-l))).var(),
                       [(10.0, 0.5, False), (3.0, -2.0, False), (1e6, 25.0, True)]),
    "BinomialProbs": (lambda n, p: n * mp.mpf(p) * (1 - mp.mpf(p)), lambda n, p: stats.binom(n, p).var(),
                      [(10.0, 0.25, False), (7.0, 0.875, False)]),
    # total_count r, logits l: E k = r exp(l), i.e. scipy's nbinom with success probability sigmoid(-l)
    "NegativeBinomial": (lambda r, l: r * mp.exp(l) / sigmoid(-l),
                         lambda r, l: stats.nbinom(r, 1 / (1 + math.exp(l))).var(),
                         [(3.0, 0.5, False), (0.5, -2.0, False), (10.0, 20.0, True)]),
    "BetaBinomial": (lambda n, a, b: n * mp.mpf(a) * b * (mp.mpf(a) + b + n) / ((mp.mpf(a) + b) ** 2 * (mp.mpf(a) + b + 1)),
                     lambda n, a, b: stats.betabinom(int(n), a, b).var(),
                     [(10.0, 2.0, 3.0, False), (4.0, 0.5, 0.25, False), (1e3, 1e6, 2e6, True)]),
}


def fold_normal_variance(m, s):
    """s^2 + m^2 - (E|y|)^2 with E|y| = m erf(m / (s sqrt 2)) + s sqrt(2 / pi) exp(-m^2 / (2 s^2)), at 50 digits."""
    m, s = mp.mpf(m), mp.mpf(s)
    with mp.workdps(200):  # the formula cancels when |m| >> s
        first = m * mp.erf(m / (s * mp.sqrt(2))) + s * mp.sqrt(2 / mp.pi) * mp.exp(-m * m / (2 * s * s))
        return +(s * s + m * m - first * first)


SCALAR["FoldNormal"] = (fold_normal_variance,) + SCALAR["FoldNormal"][1:]


def softmax(logits):
    e = [mp.exp(mp.mpf(l)) for l in logits]
    total = sum(e)
    return [v / total for v in e]


def mixture_variance(logits, means, stds):
    """Per-dimension variance of a normal mixture with diagonal components, by quadrature."""
    w = softmax(logits)
    out = []
    for j in range(len(means[0])):
        def density(x):
            return sum(w[k] * mp.npdf(x, means[k][j], stds[k][j]) for k in range(len(w)))
        lo = min(means[k][j] - 40 * stds[k][j] for k in range(len(w)))
        hi = max(means[k][j] + 40 * stds[k][j] for k in range(len(w)))
        points = sorted({lo, hi} | {means[k][j] for k in range(len(w))})
        mean = mp.quad(lambda x: x * density(x), points)
        out.append(mp.quad(lambda x: (x - mean) ** 2 * density(x), points))
    return out


def event_cases():
    """(name, fields {name: flat float32 list}, variances, scipy variances)"""
    cases = []
    n, logits = f32(7.0), [f32(v) for v in (0.5, -1.0, 2.0)]
    p = softmax(logits)
    cases.append(("Multinomial", {"total_count": [n], "logits": logits}, [n * q * (1 - q) for q in p],
                  np.diag(stats.multinomial(int(n), [float(q) for q in p]).cov())))
    cases.append(("OnehotCategorical", {"logits": logits}, [q * (1 - q) for q in p],
                  np.diag(stats.multinomial(1, [float(q) for q in p]).cov())))
    alpha = [f32(v) for v in (0.5, 2.0, 7.5)]
    a0 = sum(mp.mpf(a) for a in alpha)
    cases.append(("Dirichlet", {"concentration": alpha}, [mp.mpf(a) * (a0 - a) / (a0 ** 2 * (a0 + 1)) for a in alpha],
                  stats.dirichlet(alpha).var()))
    tril = [f32(v) for v in (1.5, 0, 0, -0.5, 0.75, 0, 2.0, 0.25, 0.5)]
    l = mp.matrix(3, 3)
    for i in range(9):
        l[i // 3, i % 3] = tril[i]
    cov = l * l.T
    lf = np.array(tril).reshape(3, 3)
    cases.append(("MultivariateNormalCholesky", {"cov_tril": tril}, [cov[i, i] for i in range(3)],
                  np.diag(stats.multivariate_normal(np.zeros(3), lf @ lf.T).cov)))
    u_tril = [f32(v) for v in (1.5, 0, -0.5, 0.75)]
    v_tril = tril
    u = np.array(u_tril).reshape(2, 2)
    v = lf
    # vec(X) (columns stacked) has covariance V kron U: X_ij is element j * n + i
    kron = np.kron(v @ v.T, u @ u.T)
    scipy_var = [kron[j * 2 + i, j * 2 + i] for i in range(2) for j in range(3)]
    um, vm = mp.matrix(2, 2), l
    for i in range(4):
        um[i // 2, i % 2] = u_tril[i]
    uu, vv = um * um.T, vm * vm.T
    cases.append(("MatrixVariateNormalCholesky", {"u_tril": u_tril, "v_tril": v_tril},
                  [uu[i, i] * vv[j, j] for i in range(2) for j in range(3)], scipy_var))
    mix_logits = [f32(v) for v in (0.3, -0.7)]
    means = [[f32(v) for v in row] for row in ((-1.0, 2.0), (1.5, 0.25))]
    stds = [[f32(v) for v in row] for row in ((0.5, 1.5), (1.25, 0.75))]
    w = [float(q) for q in softmax(mix_logits)]
    total = []  # scipy has no mixture: the law of total variance in numpy, as the second check
    for j in range(2):
        m = sum(w[k] * means[k][j] for k in range(2))
        total.append(sum(w[k] * (stds[k][j] ** 2 + means[k][j] ** 2) for k in range(2)) - m * m)
    cases.append(("MixtureNormal", {"logits": mix_logits, "means": sum(means, []), "stds": sum(stds, [])},
                  mixture_variance(mix_logits, means, stds), total))
    return cases


def number(v):
    if v == INF:
        return "inf"
    return repr(float(v))


def main():
    out = sys.stdout
    out.write("// Generated by tests/reference/variance_reference.py (mpmath, 50 digits; ordinary cases\n"
              "// also checked against scipy.stats' .var()). Do not edit: rerun the script.\n"
              "// Parameters are float32 numbers, exact in double and in float.\n"
              "#pragma once\n\n#include <limits>\n\nnamespace vaelib::testing::variance_reference {\n\n"
              "struct Case {\n  double p[3];       // the parameters, in the constructor's order (unused: 0)\n"
              "  double variance;   // Var[x]\n"
              "  bool double_only;  // a parameter or the variance beyond float's range\n};\n\n"
              "/// A vector- or matrix-valued distribution: its parameters flattened (row-major), the\n"
              "/// variance of each element of a value (flattened).\n"
              "struct EventCase {\n  double a[9];\n  double b[9];\n  double c[9];\n  double variance[6];\n};\n\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n")
    fmax = float(np.finfo(np.float32).max)
    ftiny = float(np.finfo(np.float32).tiny)
    for name, (closed_form, scipy_var, cases) in SCALAR.items():
        out.write(f"inline constexpr Case k{name}[] = {{\n")
        for case in cases:
            *params, extreme = case
            params = [f32(p) for p in params]
            value = closed_form(*params)
            if not extreme:
                reference = float(scipy_var(*params))
                if math.isinf(reference) or value == INF:
                    assert reference == float(value), (name, case, reference, value)
                else:
                    assert abs(reference - float(value)) <= 1e-9 * abs(reference), (name, case, reference, float(value))
            double_only = any(v != 0 and (abs(v) > fmax or abs(v) < ftiny) for v in params)
            double_only = double_only or (value != INF and (float(value) > fmax or float(value) < ftiny))
            padded = params + [0.0] * (3 - len(params))
            out.write("    {{%s}, %s, %s},\n" % (", ".join(repr(p) for p in padded), number(value),
                                                "true" if double_only else "false"))
        out.write("};\n\n")
    out.write("// Multinomial: a = {total_count}, b = logits [3]. OnehotCategorical: b = logits [3].\n"
              "// Dirichlet: a = concentration [3]. MultivariateNormalCholesky: a = cov_tril [3, 3].\n"
              "// MatrixVariateNormalCholesky: a = u_tril [2, 2], b = v_tril [3, 3] (variance [2, 3]).\n"
              "// MixtureNormal: a = logits [2], b = means [2, 2], c = stds [2, 2] (variance [2]).\n")
    for name, fields, values, scipy_values in event_cases():
        for v, s in zip(values, scipy_values):
            assert abs(float(v) - float(s)) <= 1e-9 * abs(float(v)), (name, float(v), float(s))
        slots = {"Multinomial": ("total_count", "logits", None), "OnehotCategorical": (None, "logits", None),
                 "Dirichlet": ("concentration", None, None), "MultivariateNormalCholesky": ("cov_tril", None, None),
                 "MatrixVariateNormalCholesky": ("u_tril", "v_tril", None),
                 "MixtureNormal": ("logits", "means", "stds")}[name]
        arrays = [", ".join(repr(x) for x in (fields[s] if s else [0.0])) for s in slots]
        out.write("inline constexpr EventCase k%s = {{%s}, {%s}, {%s}, {%s}};\n" %
                  (name, arrays[0], arrays[1], arrays[2], ", ".join(number(v) for v in values)))
    out.write("\n}  // namespace vaelib::testing::variance_reference\n")


if __name__ == "__main__":
    main()
