#!/usr/bin/python3
"""Reference log-densities for the second batch of distributions of issue 21 (Binomial,
NegativeBinomial, BetaBinomial, Multinomial, UnnormalizedMultinomial, Dirichlet, ExpConcrete,
VonMises, MatrixVariateNormalCholesky, LKJCholesky).

Each value is computed with mpmath at 50 significant digits from the textbook density, and,
where scipy has the distribution and is accurate (ordinary parameters), checked against
scipy.stats' own implementation, an independent one. ExpConcrete and LKJCholesky, which scipy
lacks, are checked against a second derivation instead (the Concrete density and the change
of variables; the LKJ normalising constant of Lewandowski, Kurowicka and Joe 2009, eq. 16,
with the Jacobian of the Cholesky map), and their densities are integrated numerically in two
dimensions to 1.

Every parameter and value is first rounded to float32, so the same case is exact in double
and in float and a float test compares against the true density of its own inputs. Cases
flagged double_only hold numbers beyond float's range.

Run from the repository root with Debian's python3 (python3-mpmath, python3-scipy):
    /usr/bin/python3 tests/reference/more_distributions_reference.py > tests/reference/more_distributions_reference.inc
"""

import math
import sys

import mpmath as mp
import numpy as np
from scipy import stats

mp.mp.dps = 50
NEG_INF = -mp.inf
MAX_ARRAY = 24
MAX_VALUE = 16


def f32(v):
    """v rounded to float32, as a Python float (exact in double)."""
    return float(np.float32(v))


def is_count(k):
    return k >= 0 and k == math.floor(k) and not math.isinf(k)


def log_sigmoid(l):
    return -mp.log1p(mp.exp(-mp.mpf(l)))


# ---- the densities (mpmath) ----------------------------------------------------------------

def log_choose(n, k):
    n, k = mp.mpf(n), mp.mpf(k)
    return mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)


def binomial_logits(n, l, k):
    if not (is_count(k) and k <= n):
        return NEG_INF
    return log_choose(n, k) + k * log_sigmoid(l) + (n - k) * log_sigmoid(-l)


def binomial_probs(n, p, k):
    if not (is_count(k) and k <= n):
        return NEG_INF
    return log_choose(n, k) + k * mp.log(p) + (n - k) * mp.log1p(-mp.mpf(p))


def negative_binomial(r, l, k):
    if not is_count(k):
        return NEG_INF
    r, k = mp.mpf(r), mp.mpf(k)
    return mp.loggamma(k + r) - mp.loggamma(r) - mp.loggamma(k + 1) + r * log_sigmoid(-l) + k * log_sigmoid(l)


def log_beta(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def beta_binomial(n, a, b, k):
    if not (is_count(k) and k <= n):
        return NEG_INF
    return log_choose(n, k) + log_beta(k + a, n - k + b) - log_beta(a, b)


def von_mises(loc, kappa, x):
    if abs(x) > f32(math.pi):  # the support [-pi, pi], with float's rounding of pi
        return NEG_INF
    kappa = mp.mpf(kappa)
    return kappa * mp.cos(mp.mpf(x) - loc) - mp.log(2 * mp.pi) - mp.log(mp.besseli(0, kappa))


def log_softmax(logits):
    lse = mp.log(mp.fsum(mp.exp(mp.mpf(l)) for l in logits))
    return [mp.mpf(l) - lse for l in logits]


def multinomial(n, logits, x):
    if not all(is_count(v) for v in x) or sum(x) != n:
        return NEG_INF
    lp = log_softmax(logits)
    return (mp.loggamma(mp.mpf(n) + 1) - mp.fsum(mp.loggamma(mp.mpf(v) + 1) for v in x)
            + mp.fsum(v * q for v, q in zip(x, lp)))


def unnormalized_multinomial(logits, x):
    if any(v < 0 or math.isinf(v) for v in x):
        return NEG_INF
    return mp.fsum(v * q for v, q in zip(x, log_softmax(logits)))


def dirichlet(alpha, x, tolerance=1e-6):
    if any(v < 0 for v in x) or abs(mp.fsum(x) - 1) > tolerance:
        return NEG_INF
    total = mp.fsum(mp.loggamma(a) for a in alpha) - mp.loggamma(mp.fsum(alpha))
    log_p = -total
    for a, v in zip(alpha, x):
        if v == 0:
            if a > 1:
                return NEG_INF
            if a < 1:
                return mp.inf
            continue
        log_p += (a - 1) * mp.log(v)
    return log_p


def exp_concrete(tau, logits, y):
    """Maddison, Mnih and Teh (2017), appendix C: the density of y = log x, x ~ Concrete."""
    k = len(logits)
    if any(math.isinf(v) for v in y) or abs(mp.log(mp.fsum(mp.exp(mp.mpf(v)) for v in y))) > 1e-6:
        return NEG_INF
    tau = mp.mpf(tau)
    terms = [mp.mpf(l) - tau * v for l, v in zip(logits, y)]
    lse = mp.log(mp.fsum(mp.exp(t) for t in terms))
    return mp.loggamma(k) + (k - 1) * mp.log(tau) + mp.fsum(terms) - k * lse


def concrete(tau, logits, x):
    """Maddison et al. definition 1 (w.r.t. the first k - 1 coordinates of the simplex)."""
    k = len(logits)
    tau = mp.mpf(tau)
    terms = [mp.mpf(l) - tau * mp.log(v) for l, v in zip(logits, x)]
    lse = mp.log(mp.fsum(mp.exp(t) for t in terms))
    return (mp.loggamma(k) + (k - 1) * mp.log(tau) + mp.fsum(mp.mpf(l) - (tau + 1) * mp.log(v) for l, v in zip(logits, x))
            - k * lse)


def matrix_normal(mean, u_tril, v_tril, x):
    n, p = len(mean), len(mean[0])
    lu, lv = mp.matrix(u_tril), mp.matrix(v_tril)
    d = mp.matrix(x) - mp.matrix(mean)
    # ||Lu^{-1} D Lv^{-T}||_F^2 = tr(V^{-1} D^T U^{-1} D)
    u, v = lu * lu.T, lv * lv.T
    quad = mp.fsum((v ** -1 * d.T * u ** -1 * d)[i, i] for i in range(p))
    log_det_u = 2 * mp.fsum(mp.log(lu[i, i]) for i in range(n))
    log_det_v = 2 * mp.fsum(mp.log(lv[j, j]) for j in range(p))
    return -n * p / mp.mpf(2) * mp.log(2 * mp.pi) - p / mp.mpf(2) * log_det_u - n / mp.mpf(2) * log_det_v - quad / 2


def lkj_log_normalizer(d, eta):
    """log c_d(eta) of LKJ (2009) eq. 16: the integral of det(R)^(eta - 1) over correlation
    matrices."""
    eta = mp.mpf(eta)
    log_c = mp.log(2) * mp.fsum((2 * eta - 2 + d - k) * (d - k) for k in range(1, d))
    for k in range(1, d):
        b = eta + mp.mpf(d - k - 1) / 2
        log_c += (d - k) * log_beta(b, b)
    return log_c


def lkj_cholesky(d, eta, l_rows, tolerance=1e-6):
    """log p(L) = (eta - 1) log det(L L^T) + log |d(L L^T)/dL| - log c_d(eta), the Jacobian of
    the map from the strictly lower entries of L to those of R = L L^T being
    prod_{k=2}^d L_kk^(d - k)."""
    for i in range(d):
        for j in range(i + 1, d):
            if l_rows[i][j] != 0:
                return NEG_INF
        if not l_rows[i][i] > 0 or abs(mp.fsum(mp.mpf(v) ** 2 for v in l_rows[i]) - 1) > tolerance:
            return NEG_INF
    log_diag = [mp.log(l_rows[i][i]) for i in range(d)]
    log_det = 2 * mp.fsum(log_diag)
    log_jacobian = mp.fsum((d - k) * log_diag[k - 1] for k in range(2, d + 1))
    return (eta - 1) * log_det + log_jacobian - lkj_log_normalizer(d, eta)


# ---- independent checks for the distributions scipy lacks -----------------------------------

def check_exp_concrete():
    # the change of variables from the Concrete density: log p_y(y) = log p_x(exp y) + sum_i y_i
    # (the density w.r.t. dy_1..dy_{k-1} / x_k, Maddison et al.'s appendix C)
    for tau, logits, x in [(0.5, [0.3, -0.2, 1.1], [0.2, 0.3, 0.5]), (2.0, [0.0, 1.0], [0.75, 0.25])]:
        y = [mp.log(v) for v in x]
        direct = exp_concrete(tau, logits, [float(v) for v in y])
        via = concrete(tau, logits, x) + mp.fsum(y)
        assert abs(direct - via) < 1e-12, (direct, via)
    # integrates to 1 against dy_1 / x_2 for k = 2
    for tau, logits in [(0.5, [0.3, -0.7]), (1.5, [2.0, 0.0])]:
        def density(y1):
            y2 = mp.log(-mp.expm1(y1))
            terms = [mp.mpf(l) - tau * v for l, v in zip(logits, [y1, y2])]
            lse = mp.log(mp.fsum(mp.exp(t) for t in terms))
            return mp.exp(mp.log(tau) + mp.fsum(terms) - 2 * lse - y2)
        total = mp.quad(density, [-mp.inf, -10, -1, 0])
        assert abs(total - 1) < 1e-10, total


def check_lkj():
    # d = 2: L = [[1, 0], [w, sqrt(1 - w^2)]], density over w in (-1, 1) integrates to 1
    for eta in [0.5, 1.0, 3.0]:
        total = mp.quad(lambda w: mp.exp(lkj_cholesky(2, eta, [[1, 0], [w, mp.sqrt(1 - w * w)]])), [-1, 0, 1])
        assert abs(total - 1) < 1e-10, (eta, total)
    # d = 3: integrate over the two free rows, (w1) and (w2, w3) in the unit disc
    eta = mp.mpf(2)
    def row2(w):
        return mp.exp((2 * eta - 2 + 3 - 2) * mp.log(mp.sqrt(1 - w * w)))
    def row3(r, t):
        return mp.exp((2 * eta - 2 + 3 - 3) * mp.log(mp.sqrt(1 - r * r))) * r
    mp.mp.dps = 20
    total = mp.quad(row2, [-1, 1]) * mp.quad(row3, [0, 1], [0, 2 * mp.pi])
    mp.mp.dps = 50
    assert abs(mp.log(total) - lkj_log_normalizer(3, eta)) < 1e-10, (mp.log(total), lkj_log_normalizer(3, eta))


# ---- the cases ------------------------------------------------------------------------------

def unit_rows(rows):
    """Lower-triangular rows scaled to unit norm (a Cholesky factor of a correlation matrix)."""
    out = []
    for i, r in enumerate(rows):
        r = [mp.mpf(v) for v in r[:i + 1]] + [mp.mpf(0)] * (len(rows) - i - 1)
        norm = mp.sqrt(mp.fsum(v * v for v in r))
        out.append([v / norm for v in r])
    return out


def tril(n, values):
    m, it = [[0.0] * n for _ in range(n)], iter(values)
    for i in range(n):
        for j in range(i + 1):
            m[i][j] = next(it)
    return m


O, E = False, True
# name: (density(params..., x), scipy's log-density or None, dims of the case, cases)
# A case is (scalar parameters, array parameters, value, extreme?); arrays are flattened in
# the constructor's order.
SCALAR = {
    "BinomialLogits": (
        lambda p, a, x: binomial_logits(p[0], p[1], x[0]),
        lambda p, a, x: stats.binom.logpmf(x[0], p[0], 1 / (1 + math.exp(-p[1]))),
        [((10, 0.3), (), (4,), O), ((5, -1.2), (), (0,), O), ((5, 2.0), (), (5,), O), ((20, 0.0), (), (7,), O),
         ((8, 0.5), (), (2.5,), O), ((8, 0.5), (), (-1,), O), ((8, 0.5), (), (9,), O), ((0, 0.5), (), (0,), O),
         ((1e6, 0.0), (), (5e5,), E), ((1e6, -10.0), (), (45,), E), ((1e6, 2.0), (), (880797,), E),
         ((100, 30.0), (), (100,), E), ((100, -30.0), (), (0,), E), ((100, 40.0), (), (50,), E),
         ((1e7, -15.0), (), (3,), E)]),
    "BinomialProbs": (
        lambda p, a, x: binomial_probs(p[0], p[1], x[0]),
        lambda p, a, x: stats.binom.logpmf(x[0], p[0], p[1]),
        [((10, 0.3), (), (3,), O), ((4, 0.9), (), (4,), O), ((6, 0.05), (), (0,), O), ((6, 0.5), (), (7,), O),
         ((1e6, 0.5), (), (5e5,), E), ((1e6, 1e-6), (), (2,), E), ((50, 0.999999), (), (49,), E)]),
    "NegativeBinomial": (
        lambda p, a, x: negative_binomial(p[0], p[1], x[0]),
        lambda p, a, x: stats.nbinom.logpmf(x[0], p[0], 1 / (1 + math.exp(p[1]))),
        [((2.5, 0.3), (), (4,), O), ((1.0, -1.0), (), (0,), O), ((7.0, 1.5), (), (20,), O), ((0.5, 0.0), (), (3,), O),
         ((3.0, 0.2), (), (1.5,), O), ((3.0, 0.2), (), (-2,), O), ((1e6, 0.0), (), (1e6,), E),
         ((1e6, -13.0), (), (2,), E), ((1e-3, 1.0), (), (0,), E), ((1e-3, 1.0), (), (5,), E), ((5.0, -30.0), (), (0,), E),
         ((5.0, 20.0), (), (1e9,), E), ((2e5, 1.0), (), (543656,), E)]),
    "BetaBinomial": (
        lambda p, a, x: beta_binomial(p[0], p[1], p[2], x[0]),
        lambda p, a, x: stats.betabinom.logpmf(x[0], p[0], p[1], p[2]),
        [((10, 2.0, 3.0), (), (4,), O), ((5, 0.5, 0.5), (), (0,), O), ((12, 1.0, 1.0), (), (7,), O),
         ((30, 4.5, 0.8), (), (29,), O), ((6, 2.0, 2.0), (), (6.5,), O), ((6, 2.0, 2.0), (), (7,), O),
         ((1e6, 1e6, 1e6), (), (5e5,), E), ((1e6, 0.5, 0.5), (), (0,), E), ((50, 1e-3, 1e-3), (), (25,), E),
         ((100, 1e5, 2e5), (), (33,), E), ((1e6, 3.0, 1e6), (), (2,), E)]),
    "VonMises": (
        lambda p, a, x: von_mises(p[0], p[1], x[0]),
        lambda p, a, x: stats.vonmises.logpdf(x[0], p[1], p[0]),
        [((0.0, 1.0), (), (0.5,), O), ((1.0, 4.0), (), (-2.0,), O), ((0.0, 0.01), (), (3.0,), O),
         ((-3.0, 50.0), (), (3.0,), O), ((2.5, 0.7), (), (-2.9,), O), ((0.0, 1e3), (), (0.05,), E),
         ((0.5, 1e6), (), (0.501,), E), ((0.0, 1e-30), (), (1.0,), E), ((0.0, 1e3), (), (3.1,), E),
         ((0.0, 1.0), (), (4.0,), E), ((0.0, 1.0), (), (-3.2,), E), ((0.0, 2.0), (), (f32(math.pi),), E),
         ((0.0, 35.0), (), (0.2,), E), ((0.0, 25.0), (), (-0.2,), E)]),
}


def multinomial_scipy(p, a, x):
    logits = np.array(a, dtype=float)
    probs = np.exp(logits - logits.max())
    return stats.multinomial.logpmf(x, int(p[0]), probs / probs.sum())


def dirichlet_scipy(p, a, x):
    return stats.dirichlet.logpdf(np.array(x), np.array(a))


def matrix_normal_scipy(p, a, x):
    n, q = int(p[0]), int(p[1])
    mean = np.array(a[:n * q]).reshape(n, q)
    lu = np.array(a[n * q:n * q + n * n]).reshape(n, n)
    lv = np.array(a[n * q + n * n:]).reshape(q, q)
    return stats.matrix_normal.logpdf(np.array(x).reshape(n, q), mean, lu @ lu.T, lv @ lv.T)


def matrix_normal_density(p, a, x):
    n, q = int(p[0]), int(p[1])
    mean = [a[i * q:(i + 1) * q] for i in range(n)]
    lu = [a[n * q + i * n:n * q + (i + 1) * n] for i in range(n)]
    lv = [a[n * q + n * n + j * q:n * q + n * n + (j + 1) * q] for j in range(q)]
    return matrix_normal(mean, lu, lv, [x[i * q:(i + 1) * q] for i in range(n)])


def lkj_density(p, a, x):
    d = int(p[0])
    return lkj_cholesky(d, p[1], [x[i * d:(i + 1) * d] for i in range(d)])


def flat(m):
    return [float(v) for row in m for v in row]


def mn_case(n, q, mean, u_values, v_values, x, extreme):
    return ((n, q), tuple(mean) + tuple(flat(tril(n, u_values))) + tuple(flat(tril(q, v_values))), tuple(x), extreme)


def lkj_case(d, eta, rows, extreme):
    return ((d, eta), (), tuple(flat(unit_rows(rows))), extreme)


def log_simplex(x):
    return tuple(float(mp.log(v)) for v in x)


EVENT = {
    # p = (total_count,), a = logits, x = counts
    "Multinomial": (
        lambda p, a, x: multinomial(p[0], a, x), multinomial_scipy,
        [((10,), (0.1, -0.5, 1.2), (3, 2, 5), O), ((4,), (0.0, 0.0), (1, 3), O), ((0,), (0.3, 0.1, -2.0), (0, 0, 0), E),
         ((7,), (1.0, 2.0, 3.0, 4.0), (0, 1, 2, 4), O), ((5,), (0.1, -0.5, 1.2), (3, 2, 1), O),
         ((5,), (0.1, -0.5, 1.2), (2.5, 2.5, 0), O), ((5,), (0.1, -0.5, 1.2), (6, -1, 0), O),
         ((1e6,), (0.0, 0.0, 0.0), (333333, 333334, 333333), E), ((50,), (-50.0, 0.0, 50.0), (0, 0, 50), E),
         ((50,), (-50.0, 0.0, 50.0), (1, 0, 49), E), ((1e6,), (3.0, -2.0, 0.5), (870000, 5000, 125000), E)]),
    # a = logits, x = counts (any nonnegative numbers)
    "UnnormalizedMultinomial": (
        lambda p, a, x: unnormalized_multinomial(a, x), None,
        [((), (0.1, -0.5, 1.2), (3, 2, 5), O), ((), (0.0, 0.0), (0, 0), O), ((), (1.0, 2.0, 3.0), (0.5, 1.5, 0), O),
         ((), (1.0, 2.0, 3.0), (1, -1, 0), O), ((), (-50.0, 0.0, 50.0), (1e6, 0, 2), E),
         ((), (30.0, -30.0), (1e9, 1e9), E)]),
    # a = concentration, x = a point of the simplex
    "Dirichlet": (
        lambda p, a, x: dirichlet(a, x), dirichlet_scipy,
        [((), (1.0, 2.0, 3.0), (0.25, 0.5, 0.25), O), ((), (0.5, 0.5), (0.125, 0.875), O),
         ((), (2.5, 0.7, 1.0, 4.0), (0.0625, 0.25, 0.1875, 0.5), O), ((), (10.0, 20.0), (0.375, 0.625), O),
         ((), (1.0, 2.0, 3.0), (0.25, 0.5, 0.5), E), ((), (1.0, 2.0, 3.0), (-0.25, 0.75, 0.5), E),
         ((), (1.0, 2.0, 3.0), (0.0, 0.5, 0.5), E), ((), (0.5, 2.0, 3.0), (0.0, 0.5, 0.5), E),
         ((), (1e6, 1e6), (0.5, 0.5), E), ((), (1e6, 2e6, 3e6), (0.1666, 0.3334, 0.5), E),
         ((), (1e-3, 1e-3, 1e-3), (1e-20, 0.5, 0.5), E), ((), (1e-3, 5.0), (1e-30, 1.0), E),
         ((), (0.3, 0.3), (0.2, 0.8), E)]),
    # p = (temperature,), a = logits, y = log of a simplex point
    "ExpConcrete": (
        lambda p, a, x: exp_concrete(p[0], a, x), None,
        [((0.5,), (0.3, -0.2, 1.1), log_simplex((0.2, 0.3, 0.5)), O), ((1.0,), (0.0, 0.0), log_simplex((0.5, 0.5)), O),
         ((2.0,), (1.0, -1.0, 0.5, 0.0), log_simplex((0.1, 0.2, 0.3, 0.4)), O),
         ((0.5,), (0.3, -0.2, 1.1), (-1.0, -1.0, -1.0), O),
         ((0.1,), (0.3, -0.2, 1.1), log_simplex((1e-9, 1e-6, 1 - 1e-6 - 1e-9)), E),
         ((0.05,), (5.0, -5.0), (-30.0, float(mp.log(-mp.expm1(-30)))), E),
         ((10.0,), (20.0, -20.0, 0.0), log_simplex((0.3, 0.3, 0.4)), E),
         ((0.5,), (0.3, -0.2, 1.1), (-200.0, -300.0, 0.0), E)]),
    # p = (n, p), a = mean [n, p], u_tril [n, n], v_tril [p, p] (flattened), x [n, p]
    "MatrixVariateNormalCholesky": (
        matrix_normal_density, matrix_normal_scipy,
        [mn_case(2, 3, (0.5, -1.0, 0.0, 2.0, 0.3, -0.7), (1.2, 0.4, 0.8), (0.9, -0.3, 1.1, 0.2, 0.5, 0.7),
                 (0.1, -0.5, 0.6, 1.5, 0.0, -1.2), O),
         mn_case(1, 1, (0.0,), (1.0,), (1.0,), (0.5,), O),
         mn_case(3, 2, (0.0,) * 6, (1.0, 0.5, 2.0, -0.3, 0.1, 0.6), (0.8, 0.2, 1.3), (1.0, -1.0, 0.5, 2.0, -0.2, 0.3), O),
         mn_case(2, 2, (1e3, -1e3, 0.0, 5.0), (1e-10, 3e-11, 2e-10), (1.0, 0.0, 1.0),
                 (1e3 + 1e-10, -1e3, 1e-10, 5.0), E),
         mn_case(2, 2, (0.0,) * 4, (1e10, 0.0, 1e10), (1e10, 5e9, 1e10), (3e19, -1e20, 2e20, 0.0), E),
         mn_case(2, 2, (0.0,) * 4, (1.0, 0.0, 1.0), (1.0, 0.0, 1.0), (30.0, -20.0, 25.0, 10.0), E)]),
    # p = (dimension, concentration), x = L [d, d]
    "LKJCholesky": (
        lkj_density, None,
        [lkj_case(3, 1.0, [[1], [0.3, 0.8], [-0.2, 0.5, 0.6]], O), lkj_case(3, 2.5, [[1], [0.3, 0.8], [-0.2, 0.5, 0.6]], O),
         lkj_case(3, 0.5, [[1], [0.9, 0.2], [-0.2, 0.5, 0.1]], O), lkj_case(2, 1.0, [[1], [-0.6, 0.8]], O),
         lkj_case(1, 3.0, [[1]], O), lkj_case(4, 1.5, [[1], [0.1, 1], [0.2, -0.3, 1], [0.4, 0.1, -0.2, 0.5]], O),
         ((3, 2.0), (), (1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 0.6, 0.6), O),
         ((2, 2.0), (), (1.0, 0.5, 0.0, 1.0), O),
         lkj_case(4, 1e5, [[1], [1e-3, 1], [2e-3, -1e-3, 1], [-1e-3, 1e-3, 2e-3, 1]], E),
         lkj_case(3, 1e-2, [[1], [0.99, 0.1], [0.5, 0.5, 0.05]], E),
         lkj_case(2, 3.0, [[1], [1.0, 1e-6]], E)]),
}


def emit_case(out, name, density, scipy_logpdf, case):
    p, a, x, extreme = case
    p = [f32(v) for v in p]
    a = [f32(v) for v in a]
    x = [f32(v) for v in x]
    value = density(p, a, x)
    if not extreme and scipy_logpdf is not None:
        reference = float(scipy_logpdf(p, a, x))
        if math.isinf(reference) or mp.isinf(value):
            assert reference == float(value), (name, case, reference, value)
        else:
            assert abs(reference - float(value)) <= 1e-9 * max(1.0, abs(reference)), (name, case, reference,
                                                                                      float(value))
    fmax = float(np.finfo(np.float32).max)
    ftiny = float(np.finfo(np.float32).tiny)
    double_only = any(abs(v) > fmax or (v != 0 and abs(v) < ftiny) for v in p + a + x)
    double_only = double_only or (not mp.isinf(value) and abs(value) > fmax)
    assert len(p) <= 3 and len(a) <= MAX_ARRAY and len(x) <= MAX_VALUE, (name, case)
    log_prob = "-inf" if value == NEG_INF else ("inf" if value == mp.inf else repr(float(value)))
    fmt = lambda vs: "{" + ", ".join(repr(v) for v in vs) + "}"
    out.write("    {%s, %d, %s, %d, %s, %s, %s, %s},\n" % (fmt(p), len(a), fmt(a) if a else "{}", len(x), fmt(x), log_prob,
                                                    "true" if extreme else "false", "true" if double_only else "false"))


def main():
    check_exp_concrete()
    check_lkj()
    out = sys.stdout
    out.write("// Generated by tests/reference/more_distributions_reference.py (mpmath, 50 digits; ordinary\n"
              "// cases also checked against scipy.stats where it has the distribution). Do not edit: rerun\n"
              "// the script. Parameters and values are float32 numbers, exact in double and in float.\n"
              "#pragma once\n\n#include <cstddef>\n#include <limits>\n\n"
              "namespace vaelib::testing::more_distributions_reference {\n\n"
              "struct Case {\n"
              "  double p[3];                 // scalar parameters or sizes, in the constructor's order (unused: 0)\n"
              "  std::size_t n_array;         // how many numbers of `a` are used\n"
              f"  double a[{MAX_ARRAY}];                // array parameters, flattened, in the constructor's order\n"
              "  std::size_t n_value;         // how many numbers of `x` are used\n"
              f"  double x[{MAX_VALUE}];                // the value, flattened (row-major, of the value shape)\n"
              "  double log_prob;             // log p(x)\n"
              "  bool extreme;                // extreme parameters or values (not compared with scipy)\n"
              "  bool double_only;            // a parameter, the value or log p beyond float's range\n"
              "};\n\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n")
    for table in (SCALAR, EVENT):
        for name, (density, scipy_logpdf, cases) in table.items():
            out.write(f"inline constexpr Case k{name}[] = {{\n")
            for case in cases:
                emit_case(out, name, density, scipy_logpdf, case)
            out.write("};\n\n")
    out.write("}  // namespace vaelib::testing::more_distributions_reference\n")


if __name__ == "__main__":
    main()
