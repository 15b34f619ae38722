#!/usr/bin/python3
"""Reference values of the analytic KL divergences of include/vaelib/distributions/kl/, for
tests/distributions/kl/*.test.cpp: every pair at ordinary and extreme parameters.

Each value is the pair's textbook closed form evaluated with mpmath at 50 significant
digits (so the cancellations the library avoids do not matter here). The ordinary cases
(flag `extreme` false) are also checked against an independent evaluation of the
definition, E_p[log p(x) - log q(x)]: numerical integration (mpmath.quad) for the continuous
pairs, the direct sum over the support for Poisson and Categorical, and for the Gaussians
of dimension 2 a Monte Carlo-free check by two-dimensional quadrature. A disagreement above
1e-10 (relative) stops the script.

Parameters are rounded to float32 first, so that one case is the same problem in double and
in float. A KL whose true value lies beyond float's range is written as its double value: in
float it must come out as +inf. +inf where p puts mass outside q's support (Uniform).

Layout of a case: p[6] and q[6] hold the parameters in the order the comment above each
table gives (unused: 0).

Run from the repository root with Debian's python3 (python3-mpmath):
    /usr/bin/python3 tests/reference/kl_reference.py > tests/reference/kl_reference.inc
"""

import math
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 50
INF = mp.inf


def f32(v):
    """v rounded to float32, as a Python float (exact in double)."""
    return float(np.float32(v))


def mpf(v):
    return mp.mpf(v)


# ---- closed forms ------------------------------------------------------------------------

def kl_normal(m1, ls1, m2, ls2):
    s1, s2 = mp.exp(mpf(ls1)), mp.exp(mpf(ls2))
    return mp.log(s2 / s1) + (s1 ** 2 + (mpf(m1) - m2) ** 2) / (2 * s2 ** 2) - mpf(1) / 2


def kl_normal_laplace(m, ls, loc, b):
    s = mp.exp(mpf(ls))
    m, loc, b = mpf(m), mpf(loc), mpf(b)
    z = (m - loc) / s
    expected_abs = s * mp.sqrt(2 / mp.pi) * mp.exp(-z * z / 2) + (m - loc) * mp.erf(z / mp.sqrt(2))
    return mp.log(2 * b / s) - mp.log(2 * mp.pi * mp.e) / 2 + expected_abs / b


def gaussian_kl(m1, c1, m2, c2):
    """KL(N(m1, c1) || N(m2, c2)) for mpmath vectors and covariance matrices."""
    d = len(m1)
    c2_inv = c2 ** -1
    diff = m2 - m1
    trace = sum((c2_inv * c1)[i, i] for i in range(d))
    quad = (diff.T * c2_inv * diff)[0, 0]
    return (trace + quad - d + mp.log(mp.det(c2)) - mp.log(mp.det(c1))) / 2


def mvn_parts(p):
    """p = [m0, m1, L00, L10, L11] -> (mean, covariance)."""
    m = mp.matrix([[mpf(p[0])], [mpf(p[1])]])
    chol = mp.matrix([[mpf(p[2]), 0], [mpf(p[3]), mpf(p[4])]])
    return m, chol * chol.T


def diagonal_parts(p):
    """p = [m0, m1, logstd0, logstd1] -> (mean, covariance)."""
    m = mp.matrix([[mpf(p[0])], [mpf(p[1])]])
    return m, mp.diag([mp.exp(2 * mpf(p[2])), mp.exp(2 * mpf(p[3]))])


def kl_mvn_mvn(p, q):
    return gaussian_kl(*mvn_parts(p), *mvn_parts(q))


def kl_normal_mvn(p, q):
    return gaussian_kl(*diagonal_parts(p), *mvn_parts(q))


def kl_mvn_normal(p, q):
    return gaussian_kl(*mvn_parts(p), *diagonal_parts(q))


def log_softmax(logits):
    logits = [mpf(v) for v in logits]
    top = max(logits)
    lse = top + mp.log(mp.fsum(mp.exp(v - top) for v in logits))
    return [v - lse for v in logits]


def kl_categorical(lp, lq):
    with mp.workdps(200):  # logits 100 apart leave a KL of ~1e-49 from terms of size 1
        a, b = log_softmax(lp), log_softmax(lq)
        return +mp.fsum(mp.exp(x) * (x - y) for x, y in zip(a, b))


def kl_gamma(a1, b1, a2, b2):
    a1, b1, a2, b2 = (mpf(v) for v in (a1, b1, a2, b2))
    return ((a1 - a2) * mp.digamma(a1) - mp.loggamma(a1) + mp.loggamma(a2) + a2 * (mp.log(b1) - mp.log(b2))
            + a1 * (b2 - b1) / b1)


def kl_beta(a1, b1, a2, b2):
    a1, b1, a2, b2 = (mpf(v) for v in (a1, b1, a2, b2))
    log_b = lambda a, b: mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    return (log_b(a2, b2) - log_b(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
            + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1))


def kl_dirichlet(a, b):
    a, b = [mpf(v) for v in a], [mpf(v) for v in b]
    a0, b0 = mp.fsum(a), mp.fsum(b)
    return (mp.loggamma(a0) - mp.fsum(mp.loggamma(v) for v in a) - mp.loggamma(b0) + mp.fsum(mp.loggamma(v) for v in b)
            + mp.fsum((x - y) * (mp.digamma(x) - mp.digamma(a0)) for x, y in zip(a, b)))


def kl_laplace(m1, b1, m2, b2):
    m1, b1, m2, b2 = (mpf(v) for v in (m1, b1, m2, b2))
    dist = abs(m1 - m2)
    return mp.log(b2 / b1) + dist / b2 + (b1 / b2) * mp.exp(-dist / b1) - 1


def kl_poisson(l1, l2):
    l1, l2 = mpf(l1), mpf(l2)
    return l1 * mp.log(l1 / l2) - l1 + l2


def kl_uniform(l1, h1, l2, h2):
    l1, h1, l2, h2 = (mpf(v) for v in (l1, h1, l2, h2))
    if not (l2 <= l1 and h1 <= h2):
        return INF
    return mp.log((h2 - l2) / (h1 - l1))


# ---- independent checks of the ordinary cases (the definition, not the closed form) -------

def by_quadrature(log_p, log_q, bounds):
    """E_p[log p - log q] by integrating p (log p - log q) over `bounds` (split points)."""
    def integrand(x):
        lp = log_p(x)
        if lp == -INF:
            return mpf(0)
        return mp.exp(lp) * (lp - log_q(x))
    with mp.workdps(30):
        return mp.quad(integrand, sorted(set(bounds)))


def normal_logpdf(m, s):
    return lambda x: -mp.log(2 * mp.pi) / 2 - mp.log(s) - ((x - m) / s) ** 2 / 2


def laplace_logpdf(m, b):
    return lambda x: -mp.log(2 * b) - abs(x - m) / b


def gamma_logpdf(a, b):
    return lambda x: a * mp.log(b) - mp.loggamma(a) + (a - 1) * mp.log(x) - b * x if x > 0 else -INF


def beta_logpdf(a, b):
    return lambda x: ((a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - mp.loggamma(a) - mp.loggamma(b)
                      + mp.loggamma(a + b)) if 0 < x < 1 else -INF


def check_normal_laplace(m, ls, loc, b):
    s = mp.exp(mpf(ls))
    return by_quadrature(normal_logpdf(mpf(m), s), laplace_logpdf(mpf(loc), mpf(b)),
                         [-mp.inf, mpf(m) - 10 * s, mpf(loc), mpf(m), mpf(m) + 10 * s, mp.inf])


def check_gamma(a1, b1, a2, b2):
    mean = mpf(a1) / b1
    return by_quadrature(gamma_logpdf(mpf(a1), mpf(b1)), gamma_logpdf(mpf(a2), mpf(b2)),
                         [0, mean / 100, mean, 10 * mean, mp.inf])


def check_beta(a1, b1, a2, b2):
    return by_quadrature(beta_logpdf(mpf(a1), mpf(b1)), beta_logpdf(mpf(a2), mpf(b2)), [0, mpf(1) / 2, 1])


def check_dirichlet(a, b):
    """E_p[log p - log q] over the 2-simplex: x1 in (0, 1), x2 = (1 - x1) t, t in (0, 1)."""
    a, b = [mpf(v) for v in a], [mpf(v) for v in b]
    log_norm = lambda c: mp.loggamma(mp.fsum(c)) - mp.fsum(mp.loggamma(v) for v in c)

    def log_density(c, x):
        return log_norm(c) + mp.fsum((ci - 1) * mp.log(xi) for ci, xi in zip(c, x))

    def integrand(x1, t):
        x = [x1, (1 - x1) * t, (1 - x1) * (1 - t)]
        lp = log_density(a, x)
        return (1 - x1) * mp.exp(lp) * (lp - log_density(b, x))

    with mp.workdps(20):
        return mp.quad(integrand, [0, 1], [0, 1])


def check_laplace(m1, b1, m2, b2):
    m1, b1 = mpf(m1), mpf(b1)
    return by_quadrature(laplace_logpdf(m1, b1), laplace_logpdf(mpf(m2), mpf(b2)),
                         [-mp.inf, m1 - 20 * b1, min(m1, mpf(m2)), max(m1, mpf(m2)), m1 + 20 * b1, mp.inf])


def check_uniform(l1, h1, l2, h2):
    l1, h1 = mpf(l1), mpf(h1)
    width_q = mpf(h2) - mpf(l2)
    return mp.quad(lambda x: (mp.log(width_q) - mp.log(h1 - l1)) / (h1 - l1), [l1, h1])


def check_poisson(l1, l2):
    l1, l2 = mpf(l1), mpf(l2)
    terms = []
    for k in range(0, int(10 * l1 + 100)):
        log_p = k * mp.log(l1) - l1 - mp.loggamma(k + 1)
        log_q = k * mp.log(l2) - l2 - mp.loggamma(k + 1)
        terms.append(mp.exp(log_p) * (log_p - log_q))
    return mp.fsum(terms)


def check_gaussian_2d(m1, c1, m2, c2):
    """E_p[log p - log q] in two dimensions: p's coordinates made independent by its Cholesky
    factor, integrated over standard normal (u, v) with Gauss-Hermite-free quad."""
    chol = mp.cholesky(c1)
    c1_inv, c2_inv = c1 ** -1, c2 ** -1
    log_norm1 = -mp.log(2 * mp.pi) - mp.log(mp.det(c1)) / 2
    log_norm2 = -mp.log(2 * mp.pi) - mp.log(mp.det(c2)) / 2

    def integrand(u, v):
        e = mp.matrix([[u], [v]])
        x = m1 + chol * e
        d1, d2 = x - m1, x - m2
        lp = log_norm1 - (d1.T * c1_inv * d1)[0, 0] / 2
        lq = log_norm2 - (d2.T * c2_inv * d2)[0, 0] / 2
        return mp.exp(-(u * u + v * v) / 2) / (2 * mp.pi) * (lp - lq)

    with mp.workdps(20):
        return mp.quad(integrand, [-12, 0, 12], [-12, 0, 12])


# ---- the cases ----------------------------------------------------------------------------
O, E = False, True

# name: (closed form, independent check or None, comment, [(p params, q params, extreme)])
TABLES = {
    "NormalNormal": (lambda p, q: kl_normal(*p, *q),
                     lambda p, q: by_quadrature(normal_logpdf(mpf(p[0]), mp.exp(mpf(p[1]))),
                                                normal_logpdf(mpf(q[0]), mp.exp(mpf(q[1]))),
                                                [-mp.inf, mpf(p[0]), mp.inf]),
                     "p = (mean, logstd), q = (mean, logstd)", [
        ([0.0, 0.0], [0.0, 0.0], O), ([1.0, 0.5], [-1.0, 0.2], O), ([0.0, -1.0], [2.0, 1.0], O),
        ([0.0, -50.0], [0.0, 50.0], E), ([0.0, 60.0], [0.0, -60.0], E), ([1.0, -100.0], [1.0, -100.0], E),
        ([0.0, 1e-6], [0.0, 0.0], E), ([1e30, 0.0], [-1e30, 0.0], E)]),
    "NormalLaplace": (lambda p, q: kl_normal_laplace(*p, *q), lambda p, q: check_normal_laplace(*p, *q),
                      "p = Normal(mean, logstd), q = Laplace(loc, scale)", [
        ([0.0, 0.0], [0.0, 1.0], O), ([1.0, -0.5], [-0.5, 2.0], O), ([-2.0, 0.7], [1.0, 0.3], O),
        ([0.0, -80.0], [0.0, 1.0], E), ([0.0, -80.0], [1e-30, 1e-30], E), ([1e10, 0.0], [0.0, 1.0], E),
        ([0.0, 40.0], [0.0, 1e-10], E), ([0.0, 0.0], [0.0, 1e30], E)]),
    "MvnMvn": (lambda p, q: kl_mvn_mvn(p, q), lambda p, q: check_gaussian_2d(*mvn_parts(p), *mvn_parts(q)),
               "p = MultivariateNormalCholesky(mean [m0, m1], cov_tril [[L00, 0], [L10, L11]]) as "
               "(m0, m1, L00, L10, L11); q likewise", [
        ([0.0, 0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0, 1.0], O),
        ([1.0, -1.0, 2.0, 0.5, 0.3], [0.0, 0.5, 1.0, -0.2, 1.5], O),
        ([0.5, 0.5, 0.1, -0.2, 1.5], [-1.0, 2.0, 0.8, 0.6, 0.4], O),
        ([0.0, 0.0, 1e-20, 0.0, 1e-20], [0.0, 0.0, 1.0, 0.0, 1.0], E),
        ([0.0, 0.0, 1e20, 1e19, 1e20], [0.0, 0.0, 1e-20, 0.0, 1e-20], E),
        ([0.0, 0.0, 1.0, 1e6, 1.0], [0.0, 0.0, 1.0, 1e6, 1.0], E),
        ([1.0, 2.0, 1.0, 0.5, 1.0], [1.0, 2.0, 1.0000001, 0.5, 1.0], E),
        ([1e10, 0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1e-10, 0.0, 1.0], E),
        ([0.0, 0.0, 1e-30, 1e-30, 1e-30], [0.0, 0.0, 1e30, -1e30, 1e30], E)]),
    "NormalMvn": (lambda p, q: kl_normal_mvn(p, q), lambda p, q: check_gaussian_2d(*diagonal_parts(p), *mvn_parts(q)),
                  "p = diagonal Normal (m0, m1, logstd0, logstd1), q = MultivariateNormalCholesky "
                  "(m0, m1, L00, L10, L11)", [
        ([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 1.0], O),
        ([1.0, -1.0, 0.5, -0.3], [0.0, 0.5, 1.0, -0.2, 1.5], O),
        ([0.5, 2.0, -1.0, 0.2], [-1.0, 2.0, 0.8, 0.6, 0.4], O),
        ([0.0, 0.0, -80.0, -80.0], [0.0, 0.0, 1.0, 0.5, 1.0], E),
        ([0.0, 0.0, 80.0, 80.0], [0.0, 0.0, 1e-30, 0.0, 1e-30], E),
        ([0.0, 0.0, -60.0, -60.0], [0.0, 0.0, 1e-26, 1e-20, 1e-26], E),
        ([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1e-7, 1.0], E)]),
    "MvnNormal": (lambda p, q: kl_mvn_normal(p, q), lambda p, q: check_gaussian_2d(*mvn_parts(p), *diagonal_parts(q)),
                  "p = MultivariateNormalCholesky (m0, m1, L00, L10, L11), q = diagonal Normal "
                  "(m0, m1, logstd0, logstd1)", [
        ([0.0, 0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], O),
        ([1.0, -1.0, 2.0, 0.5, 0.3], [0.0, 0.5, 0.5, -0.3], O),
        ([0.5, 0.5, 0.1, -0.2, 1.5], [-1.0, 2.0, -1.0, 0.2], O),
        ([0.0, 0.0, 1e-30, 1e-30, 1e-30], [0.0, 0.0, 60.0, 60.0], E),
        ([0.0, 0.0, 1e30, 0.0, 1e30], [0.0, 0.0, -60.0, -60.0], E),
        ([0.0, 0.0, 1.0, 1e-7, 1.0], [0.0, 0.0, 0.0, 0.0], E),
        ([1e20, 0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 40.0, 0.0], E)]),
    "Categorical": (lambda p, q: kl_categorical(p, q), None, "p = logits (3 classes), q = logits", [
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], O), ([1.0, -0.5, 0.3], [0.2, 0.1, -1.0], O),
        ([2.0, 0.0, -2.0], [-2.0, 0.0, 2.0], O), ([0.0, 0.0, -1e30], [0.0, 0.0, 0.0], E),
        ([0.0, 0.0, 0.0], [0.0, 0.0, -1e30], E), ([1e30, 0.0, 0.0], [0.0, 1e30, 0.0], E),
        ([3e38, -3e38, 0.0], [-3e38, 3e38, 0.0], E), ([100.0, 0.0, -100.0], [100.0, 1e-5, -100.0], E),
        ([20.0, 20.0000019, 0.0], [20.0, 20.0, 0.0], E)]),
    "Gamma": (lambda p, q: kl_gamma(*p, *q), lambda p, q: check_gamma(*p, *q),
              "p = (alpha, beta) (shape, rate), q = (alpha, beta)", [
        ([1.0, 1.0], [1.0, 1.0], O), ([2.0, 3.0], [1.5, 1.0], O), ([0.5, 2.0], [3.0, 0.7], O),
        ([10.0, 1.0], [12.0, 1.3], O),
        ([1e6, 1e6], [1000001.0, 1e6], E), ([1e6, 1e6], [1e6, 1001000.0], E), ([1e6, 1.0], [2e6, 2.0], E),
        ([1e-3, 1.0], [1e3, 1.0], E), ([1.0, 1e-30], [1.0, 1e30], E), ([1.0, 1e30], [1.0, 1e-30], E),
        ([1e-30, 1.0], [1.0, 1.0], E), ([25.0, 1.0], [25.000002, 1.0], E), ([30.0, 2.0], [20.0, 1.0], E)]),
    "Exponential": (lambda p, q: kl_gamma(1, p[0], 1, q[0]), lambda p, q: check_gamma(1, p[0], 1, q[0]),
                    "p = (rate), q = (rate)", [
        ([1.0], [1.0], O), ([2.0], [0.5], O), ([0.3], [4.0], O),
        ([1e-30], [1e30], E), ([1e30], [1e-30], E), ([1.0], [1.0000001], E), ([1e6], [1e-6], E)]),
    "ExponentialGamma": (lambda p, q: kl_gamma(1, p[0], *q), lambda p, q: check_gamma(1, p[0], *q),
                         "p = Exponential(rate), q = Gamma(alpha, beta)", [
        ([1.0], [1.0, 1.0], O), ([2.0], [3.0, 0.5], O), ([0.5], [0.4, 2.0], O),
        ([1.0], [1e6, 1e6], E), ([1e-20], [1e-3, 1e20], E), ([1.0], [1.0000001, 1.0], E)]),
    "GammaExponential": (lambda p, q: kl_gamma(*p, 1, q[0]), lambda p, q: check_gamma(*p, 1, q[0]),
                         "p = Gamma(alpha, beta), q = Exponential(rate)", [
        ([1.0, 1.0], [1.0], O), ([3.0, 0.5], [2.0], O), ([0.4, 2.0], [0.5], O),
        ([1e6, 1e6], [1.0], E), ([1e-3, 1e20], [1e-20], E), ([1.0000001, 1.0], [1.0], E)]),
    "Beta": (lambda p, q: kl_beta(*p, *q), lambda p, q: check_beta(*p, *q), "p = (alpha, beta), q = (alpha, beta)", [
        ([1.0, 1.0], [1.0, 1.0], O), ([2.0, 3.0], [1.5, 1.0], O), ([0.5, 2.0], [3.0, 0.7], O),
        ([4.0, 4.0], [2.0, 6.0], O),
        ([1e6, 1e6], [1000001.0, 1e6], E), ([1e6, 2e6], [2e6, 4e6], E), ([1e-3, 1e-3], [1.0, 1.0], E),
        ([0.5, 0.5], [1e6, 1e6], E), ([1e6, 1e6], [0.5, 0.5], E), ([25.0, 30.0], [25.000002, 30.0], E),
        ([1e-30, 1.0], [1.0, 1.0], E), ([1e5, 3.0], [2e5, 5.0], E)]),
    "Dirichlet": (lambda p, q: kl_dirichlet(p, q), lambda p, q: check_dirichlet(p, q),
                  "p = concentration (3 categories), q = concentration", [
        ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], O), ([2.0, 3.0, 4.0], [1.0, 1.0, 1.0], O),
        ([2.5, 1.5, 3.0], [1.2, 4.0, 2.0], O),
        ([1e6, 1e6, 1e6], [1000001.0, 1e6, 1e6], E), ([1e6, 2e6, 3e6], [2e6, 4e6, 6e6], E),
        ([1e-3, 1e-3, 1e-3], [1.0, 1.0, 1.0], E), ([0.5, 0.5, 0.5], [1e6, 1e6, 1e6], E),
        ([25.0, 30.0, 35.0], [25.000002, 30.0, 35.0], E), ([1e-30, 1.0, 1.0], [1.0, 1.0, 1.0], E)]),
    "Laplace": (lambda p, q: kl_laplace(*p, *q), lambda p, q: check_laplace(*p, *q),
                "p = (loc, scale), q = (loc, scale)", [
        ([0.0, 1.0], [0.0, 1.0], O), ([1.0, 0.5], [-1.0, 2.0], O), ([0.0, 3.0], [0.5, 0.2], O),
        ([0.0, 1e-30], [0.0, 1e30], E), ([0.0, 1e30], [0.0, 1e-30], E), ([1e30, 1.0], [-1e30, 1.0], E),
        ([0.0, 1.0], [0.0, 1.0000001], E), ([0.0, 1.0], [1e-7, 1.0], E), ([100.0, 1.0], [0.0, 1e-2], E),
        ([0.0, 1e-2], [100.0, 1.0], E)]),
    "Poisson": (lambda p, q: kl_poisson(p[0], q[0]), lambda p, q: check_poisson(p[0], q[0]),
                "p = (rate), q = (rate)", [
        ([1.0], [1.0], O), ([2.5], [0.5], O), ([0.3], [4.0], O), ([20.0], [25.0], O),
        ([1e6], [1000001.0], E), ([1e-30], [1e30], E), ([1e30], [1e-30], E), ([1e6], [1e-6], E),
        ([1.0], [1.0000001], E)]),
    "PoissonLogRate": (lambda p, q: kl_poisson(mp.exp(mpf(p[0])), mp.exp(mpf(q[0]))),
                       lambda p, q: check_poisson(mp.exp(mpf(p[0])), mp.exp(mpf(q[0]))),
                       "p = (log_rate), q = (log_rate)", [
        ([0.0], [0.0], O), ([1.0], [-1.0], O), ([-0.5], [1.5], O),
        ([-80.0], [80.0], E), ([80.0], [-80.0], E), ([13.815511], [13.815512], E), ([0.0], [1e-7], E),
        ([-300.0], [300.0], E)]),
    "Uniform": (lambda p, q: kl_uniform(*p, *q), lambda p, q: check_uniform(*p, *q),
                "p = (low, high), q = (low, high)", [
        ([0.0, 1.0], [0.0, 1.0], O), ([0.2, 0.5], [0.0, 1.0], O), ([-1.0, 3.0], [-2.0, 10.0], O),
        ([0.0, 1.0], [0.5, 2.0], E), ([-1.0, 1.0], [-1.0, 0.5], E), ([-3e38, 3e38], [-3e38, 3e38], E),
        ([0.0, 1e-30], [-3e38, 3e38], E), ([0.0, 1.0], [0.0, 1.0000001], E), ([1e-30, 2e-30], [0.0, 3e-30], E)]),
}


# The scalar helpers of include/vaelib/distributions/kl/numerics.hpp: p = (x) or (x2, x1), q unused.
HELPERS = {
    "Expm1MinusIdentity": (lambda x: mp.expm1(mpf(x)) - mpf(x), [
        1e-10, -1e-10, 1e-4, -0.3, 0.49, 0.5, -0.51, 2.0, -20.0, 80.0, -1e30]),
    "Log1pMinusIdentity": (lambda t: mpf(t) - mp.log1p(mpf(t)), [
        1e-10, -1e-10, 1e-3, -0.2, 0.24, 0.26, -0.9, 5.0, 1e30]),
    "Log1pBregman": (lambda t: mpf(1) if t == -1 else (1 + mpf(t)) * mp.log1p(mpf(t)) - mpf(t), [
        1e-10, -1e-10, 1e-3, -0.2, 0.24, 0.26, -0.9, -1.0, 5.0, 1e30]),
}
# lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1): (x2, x1)
LGAMMA_BREGMAN = [(2.0, 1.0), (0.5, 3.0), (19.0, 21.0), (21.0, 19.0), (1000001.0, 1e6), (1e6, 2e6), (30.0, 20.0),
                  (25.000002, 25.0), (1e-30, 1.0), (1.0, 1e-30), (1e6, 0.5), (0.5, 1e6)]


def literal(v):
    if v == INF:
        return "inf"
    return repr(float(v))


def main():
    out = sys.stdout
    out.write("// Generated by tests/reference/kl_reference.py (mpmath, 50 digits; ordinary cases also\n"
              "// checked against E_p[log p - log q] by quadrature or summation). Do not edit: rerun the script.\n"
              "// Parameters are float32 numbers, exact in double and in float.\n"
              "#pragma once\n\n#include <limits>\n\nnamespace vaelib::testing::kl_reference {\n\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n"
              "struct KLCase {\n  double p[6];  // p's parameters (see each table; unused: 0)\n"
              "  double q[6];  // q's parameters\n  double kl;    // KL(p || q)\n"
              "  bool extreme;  // extreme parameters\n};\n\n")
    for name, (closed_form, check, comment, cases) in TABLES.items():
        out.write(f"// {comment}\ninline constexpr KLCase k{name}[] = {{\n")
        for p, q, extreme in cases:
            p = [f32(v) for v in p]
            q = [f32(v) for v in q]
            value = closed_form(p, q)
            if not extreme and check is not None:
                independent = check(p, q)
                assert abs(value - independent) <= 1e-10 * max(1, abs(value)), (name, p, q, value, independent)
            if not extreme and name == "Categorical":
                # the definition summed in double by another route (probabilities, not logs)
                a = np.exp(np.array(p) - np.logaddexp.reduce(p))
                b = np.exp(np.array(q) - np.logaddexp.reduce(q))
                assert abs(float(value) - float(np.sum(a * np.log(a / b)))) < 1e-12, (name, p, q)
            assert value >= 0 or mp.almosteq(value, 0, 1e-40), (name, p, q, value)
            pad = lambda v: ", ".join(repr(x) for x in v + [0.0] * (6 - len(v)))
            out.write("    {{%s}, {%s}, %s, %s},\n" % (pad(p), pad(q), literal(value), str(extreme).lower()))
        out.write("};\n\n")
    for name, (function, xs) in HELPERS.items():
        out.write(f"// p = (x): {name}(x) in kl\ninline constexpr KLCase k{name}[] = {{\n")
        for x in xs:
            x = f32(x)
            out.write("    {{%s, 0.0, 0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, %s, true},\n" % (
                repr(x), literal(function(x))))
        out.write("};\n\n")
    out.write("// p = (x2, x1): lgamma(x2) - lgamma(x1) - (x2 - x1) digamma(x1) in kl\n"
              "inline constexpr KLCase kLgammaBregman[] = {\n")
    for x2, x1 in LGAMMA_BREGMAN:
        x2, x1 = f32(x2), f32(x1)
        value = mp.loggamma(mpf(x2)) - mp.loggamma(mpf(x1)) - (mpf(x2) - x1) * mp.digamma(mpf(x1))
        out.write("    {{%s, %s, 0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, %s, true},\n" % (
            repr(x2), repr(x1), literal(value)))
    out.write("};\n\n")
    out.write("}  // namespace vaelib::testing::kl_reference\n")


if __name__ == "__main__":
    main()
