#!/usr/bin/python3
"""Reference values of the MCMC diagnostics of include/vaelib/mcmc/diagnostics.hpp, for
tests/mcmc/diagnostics.test.cpp and tests/mcmc/summary.test.cpp.

Fixed test draws from a seeded numpy RNG (AR(1) chains with known rho, independent draws, an
antithetic chain, Cauchy draws, chains with shifted means, chains with different scales, a
trend, ties, odd and tiny chain lengths, a single chain), each written into the .inc with the
diagnostics computed by implementations that are not vaelib's:

- bulk ESS, ESS of the raw draws, rank-normalised split R-hat (and its bulk and folded parts,
  the classic split R-hat, the unsplit Geyer ESS): the functions of check_draws.py, the given
  posteriordb checker (Python standard library, Stan's estimators), imported from
  /work/shared/posteriordb (or $POSTERIORDB_DIR); it is not part of vaelib;
- tail ESS and the ESS of the 5% and 95% quantiles: check_draws.py's ESS of the split chains'
  indicator x <= q, with q from numpy.quantile;
- MCSE of quantiles: scipy.stats.beta.ppf on that ESS and the sorted draws (Vehtari et al.
  2021, section 4.3); MCSE of the mean: numpy's sd over check_draws.py's raw-draw ESS;
- mean, sd, quantiles: numpy (quantiles with linear interpolation, numpy's default);
- E-BFMI: numpy, from its definition;
- the normal quantile: mpmath at 50 digits (Newton's method on ncdf), cross-checked with
  scipy.special.ndtri.

The draws are rounded to 12 significant digits so that both sides read the same doubles.

Run from the repository root with Debian's python3 (numpy, scipy, mpmath):
    /usr/bin/python3 tests/reference/mcmc_diagnostics.py > tests/reference/mcmc_diagnostics.inc
"""

import math
import os
import sys

import mpmath as mp
import numpy as np
import scipy.special
import scipy.stats

POSTERIORDB = os.environ.get("POSTERIORDB_DIR", "/work/shared/posteriordb")
if not os.path.isfile(os.path.join(POSTERIORDB, "check_draws.py")):
    sys.exit(f"mcmc_diagnostics.py: needs check_draws.py in {POSTERIORDB} (set POSTERIORDB_DIR)")
sys.path.insert(0, POSTERIORDB)
import check_draws as cd  # noqa: E402

mp.mp.dps = 50


def ar1(rng, n_chains, n_draws, rho, scale=1.0):
    """Stationary AR(1) chains x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t (unit marginal sd)."""
    out = np.empty((n_chains, n_draws))
    for c in range(n_chains):
        x = rng.standard_normal()
        for t in range(n_draws):
            x = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal()
            out[c, t] = x
    return scale * out


def make_cases():
    rng = np.random.default_rng(20240522)
    cases = []
    cases.append(("ar1_rho_0.5", ar1(rng, 4, 500, 0.5)))
    cases.append(("ar1_rho_0.9", ar1(rng, 4, 500, 0.9)))
    cases.append(("ar1_rho_minus_0.5", ar1(rng, 4, 300, -0.5)))  # antithetic: ESS above S
    cases.append(("independent", rng.standard_normal((4, 300))))
    cases.append(("cauchy", rng.standard_cauchy((4, 300))))
    shifted = rng.standard_normal((4, 200))
    shifted[3] += 1.0
    cases.append(("shifted_means", shifted))
    scaled = rng.standard_normal((4, 300))
    scaled[0] *= 3.0  # same location, different scale: the folded R-hat sees it
    cases.append(("different_scales", scaled))
    trend = rng.standard_normal((2, 200)) + np.linspace(0, 2, 200)
    cases.append(("trend", trend))
    cases.append(("ties_poisson", rng.poisson(2.0, (4, 100)).astype(float)))
    cases.append(("odd_length", ar1(rng, 3, 101, 0.3)))
    cases.append(("single_chain", ar1(rng, 1, 400, 0.3)))
    cases.append(("small_2x9", rng.standard_normal((2, 9))))
    cases.append(("tiny_3x5", rng.standard_normal((3, 5))))
    cases.append(("lognormal", np.exp(2 * ar1(rng, 4, 250, 0.6))))
    cases.append(("ar1_rho_0.98", ar1(rng, 2, 1000, 0.98)))  # Geyer's sum runs past lag 64: the FFT route
    return [(name, np.array([[float("%.12g" % v) for v in row] for row in draws])) for name, draws in cases]


def ess_quantile(split, prob):
    threshold = np.quantile(np.concatenate(split), prob)
    return cd.ess_of_chains([[1.0 if v <= threshold else 0.0 for v in c] for c in split])


def mcse_quantile(draws, ess, prob):
    if math.isnan(ess):
        return math.nan
    p = scipy.stats.norm.cdf([-1.0, 1.0])
    a = scipy.stats.beta.ppf(p, ess * prob + 1, ess * (1 - prob) + 1)
    s = np.sort(draws.ravel())
    size = len(s)
    below = max(math.floor(a[0] * size), 1)
    above = min(math.ceil(a[1] * size), size)
    return (s[above - 1] - s[below - 1]) / 2


def longest_lag(chains):
    """The longest autocovariance lag check_draws.py's ESS estimator reads for these chains."""
    lags = []

    class Recording(cd._Acov):
        def __call__(self, t):
            lags.append(t)
            return super().__call__(t)

    plain = cd._Acov
    cd._Acov = Recording
    try:
        cd.ess_of_chains(chains)
    finally:
        cd._Acov = plain
    return max(lags, default=0)


def diagnostics(draws):
    chains = [list(map(float, row)) for row in draws]
    split = cd.split_chains(chains)
    zs = cd.z_scale(split)
    median = float(np.median(np.concatenate(split)))
    folded = cd.z_scale([[abs(v - median) for v in c] for c in split])
    ess_bulk, ess_raw, rhat = cd.diagnostics(chains)
    rhat_bulk, rhat_tail = cd.rhat_basic(zs), cd.rhat_basic(folded)
    assert math.isnan(rhat) or rhat == max(rhat_bulk, rhat_tail)
    assert math.isnan(ess_bulk) or abs(ess_bulk - cd.ess_of_chains(zs)) <= 1e-12 * ess_bulk
    ess_q05, ess_q95 = ess_quantile(split, 0.05), ess_quantile(split, 0.95)
    flat = draws.ravel()
    sd = float(np.std(flat, ddof=1))
    return dict(
        geyer_ess=cd.ess_of_chains(chains),
        ess_basic=ess_raw,
        ess_bulk=ess_bulk,
        ess_tail=min(ess_q05, ess_q95) if not (math.isnan(ess_q05) or math.isnan(ess_q95)) else math.nan,
        ess_q05=ess_q05,
        ess_q95=ess_q95,
        rhat_basic=cd.rhat_basic(split),
        rhat_bulk=rhat_bulk,
        rhat_tail=rhat_tail,
        rhat=rhat,
        mean=float(np.mean(flat)),
        sd=sd,
        q05=float(np.quantile(flat, 0.05)),
        q50=float(np.quantile(flat, 0.5)),
        q95=float(np.quantile(flat, 0.95)),
        mcse_mean=sd / math.sqrt(ess_raw) if ess_raw > 0 else math.nan,
        mcse_q05=mcse_quantile(draws, ess_q05, 0.05),
        mcse_q50=mcse_quantile(draws, ess_quantile(split, 0.5), 0.5),
        mcse_q95=mcse_quantile(draws, ess_q95, 0.95),
    )


FIELDS = ["geyer_ess", "ess_basic", "ess_bulk", "ess_tail", "ess_q05", "ess_q95", "rhat_basic", "rhat_bulk",
          "rhat_tail", "rhat", "mean", "sd", "q05", "q50", "q95", "mcse_mean", "mcse_q05", "mcse_q50", "mcse_q95"]


def normal_quantile_mp(p):
    """Phi^{-1}(p) at 50 digits: Newton on Phi(x) = erfc(-x / sqrt 2) / 2 (accurate in both tails)."""
    p = mp.mpf(p)
    x = mp.mpf(scipy.special.ndtri(float(p)))
    for _ in range(8):
        x -= (mp.erfc(-x / mp.sqrt(2)) / 2 - p) / mp.npdf(x)
    return x


QUANTILE_PROBS = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.02425, 0.05, 0.074, 0.075, 0.0751, 0.1, 0.2,
                  0.3, 0.4, 0.45, 0.49, 0.499999, 0.5, 0.500001, 0.51, 0.6, 0.7, 0.8, 0.9, 0.924, 0.925, 0.95,
                  0.975, 0.99, 0.999, 0.99999, 1 - 1e-10, 1 - 2 ** -53, 5e-324, 2.2250738585072014e-308,
                  1.3887943864964021e-11, 1.4e-11]  # r = 5 near exp(-25)


def literal(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def main():
    out = sys.stdout
    out.write("// Generated by tests/reference/mcmc_diagnostics.py (reference diagnostics from the given\n"
              "// posteriordb checker check_draws.py, numpy, scipy and mpmath). Do not edit: rerun the script.\n"
              "#pragma once\n\n#include <cstddef>\n#include <limits>\n\n"
              "namespace vaelib::testing::mcmc_diagnostics_reference {\n\n"
              "constexpr double nan = std::numeric_limits<double>::quiet_NaN();\n"
              "constexpr double inf = std::numeric_limits<double>::infinity();\n\n")
    cases = make_cases()
    for k, (name, draws) in enumerate(cases):
        lag = longest_lag(cd.split_chains([list(map(float, row)) for row in draws]))
        assert name != "ar1_rho_0.98" or lag > 64, lag
        out.write(f"// {name}: {draws.shape[0]} chains x {draws.shape[1]} draws, chain after chain; "
                  f"the raw-draw ESS reads lags up to {lag}\n")
        out.write(f"inline constexpr double kDraws{k}[] = {{\n")
        flat = draws.ravel()
        for start in range(0, len(flat), 8):
            out.write("    " + ", ".join(literal(v) for v in flat[start:start + 8]) + ",\n")
        out.write("};\n\n")
    out.write("struct DiagnosticsCase {\n  const char* name;\n  const double* draws;  // n_chains x n_draws\n"
              "  std::size_t n_chains;\n  std::size_t n_draws;\n")
    for f in FIELDS:
        out.write(f"  double {f};\n")
    out.write("};\n\ninline constexpr DiagnosticsCase kDiagnosticsCases[] = {\n")
    for k, (name, draws) in enumerate(cases):
        d = diagnostics(draws)
        values = ", ".join(literal(d[f]) for f in FIELDS)
        out.write(f"    {{\"{name}\", kDraws{k}, {draws.shape[0]}, {draws.shape[1]}, {values}}},\n")
    out.write("};\n\n")

    out.write("struct NormalQuantileCase {\n  double p;\n  double x;  // Phi^{-1}(p)\n};\n\n"
              "inline constexpr NormalQuantileCase kNormalQuantile[] = {\n")
    for p in QUANTILE_PROBS:
        x = normal_quantile_mp(p)
        scipy_x = scipy.special.ndtri(p)
        assert abs(float(x) - scipy_x) <= 1e-14 * abs(float(x)) + 1e-300, (p, x, scipy_x)
        out.write(f"    {{{literal(p)}, {literal(x)}}},\n")
    out.write("};\n\n")

    # E-BFMI: energies of one chain (an AR(1) chain: high E-BFMI when rho < 0, low when rho near 1)
    rng = np.random.default_rng(7)
    out.write("struct EbfmiCase {\n  const double* energies;\n  std::size_t size;\n  double ebfmi;\n};\n\n")
    ebfmi_cases = []
    for k, rho in enumerate([0.0, 0.95, -0.5]):
        e = np.array([float("%.12g" % v) for v in 10 + 3 * ar1(rng, 1, 200, rho)[0]])
        value = float(np.sum(np.diff(e) ** 2) / np.sum((e - e.mean()) ** 2))
        ebfmi_cases.append((k, len(e), value))
        out.write(f"inline constexpr double kEnergies{k}[] = {{\n")
        for start in range(0, len(e), 8):
            out.write("    " + ", ".join(literal(v) for v in e[start:start + 8]) + ",\n")
        out.write("};\n\n")
    out.write("inline constexpr EbfmiCase kEbfmi[] = {\n")
    for k, size, value in ebfmi_cases:
        out.write(f"    {{kEnergies{k}, {size}, {literal(value)}}},\n")
    out.write("};\n\n}  // namespace vaelib::testing::mcmc_diagnostics_reference\n")


if __name__ == "__main__":
    main()
