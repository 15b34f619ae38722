#pragma once
// Convergence diagnostics of MCMC draws, after Vehtari, Gelman, Simpson, Carpenter & Buerkner
// (2021), "Rank-normalization, folding, and localization: an improved R-hat for assessing
// convergence of MCMC": split and rank-normalised R-hat, bulk and tail ESS, the ESS of the raw
// draws, MCSE of the mean and of quantiles, and E-BFMI from a chain's energies. Pure functions
// on the draws of one scalar quantity, in double.
//
//   std::vector<double> theta = ...;                 // 4 chains x 1000 draws, chain after chain
//   mcmc::DrawsView draws{theta, 4, 1000};
//   double r = mcmc::rhat(draws);                    // < 1.01 when the chains agree
//   double bulk = mcmc::ess_bulk(draws), tail = mcmc::ess_tail(draws);
//
// Conventions (those of Stan and of the posterior R package):
// - Every diagnostic but geyer_ess splits each chain in two halves first (of an odd-length
//   chain the middle draw is dropped), so that a trend within a chain shows as disagreement.
// - Ranks of tied values are averaged; a rank r of S draws maps to the normal quantile of
//   (r - 3/8) / (S + 1/4). The folded draws are |x - median| with the median of the split draws.
// - Undefined values are NaN, not errors: every diagnostic of draws that are all equal; an ESS
//   of fewer than 4 draws per split chain (n_draws < 8); an R-hat of fewer than 2 draws per
//   split chain (n_draws < 4). Chains each constant but at different values have R-hat +inf
//   (no within-chain variance, all of it between chains).
// - Bad input throws ArgumentError naming the diagnostic: no chain, fewer than 2 draws per
//   chain, a buffer whose size is not n_chains x n_draws (chains of unequal length), a NaN or
//   an infinity among the draws.

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <limits>
#include <numbers>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/detail/finite.hpp"
#include "vaelib/error.hpp"

namespace vaelib::mcmc {

/// The draws of one scalar quantity: n_chains chains of n_draws draws each, row-major (draw t
/// of chain c at values[c * n_draws + t]). A view: the buffer must outlive it.
struct DrawsView {
  std::span<const double> values;
  std::size_t n_chains = 0;
  std::size_t n_draws = 0;

  std::span<const double> chain(std::size_t c) const { return values.subspan(c * n_draws, n_draws); }
};

/// The draws of several quantities: n_chains x n_draws x n_quantities, row-major (quantity k of
/// draw t of chain c at values[(c * n_draws + t) * n_quantities + k]), the order a sampler
/// writes them in: one draw (a vector of quantities) after another.
struct DrawsArrayView {
  std::span<const double> values;
  std::size_t n_chains = 0;
  std::size_t n_draws = 0;
  std::size_t n_quantities = 0;
};

/// Chains of equal length laid end to end, for a DrawsView; ArgumentError if they differ in length.
inline std::vector<double> concatenate_chains(const std::vector<std::vector<double>>& chains) {
  std::vector<double> flat;
  for (std::size_t c = 0; c < chains.size(); ++c) {
    if (chains[c].size() != chains[0].size()) {
      throw ArgumentError("mcmc::concatenate_chains: chains of unequal length: chain 0 has " +
                          std::to_string(chains[0].size()) + " draws, chain " + std::to_string(c) + " has " +
                          std::to_string(chains[c].size()));
    }
    flat.insert(flat.end(), chains[c].begin(), chains[c].end());
  }
  return flat;
}

namespace detail {

inline std::string draws_shape(const DrawsView& draws) {
  return std::to_string(draws.n_chains) + " chains x " + std::to_string(draws.n_draws) + " draws";
}

/// The checks every diagnostic makes on its input; `op` names the diagnostic in the message.
inline void check_draws(const char* op, const DrawsView& draws) {
  const std::string where = std::string("mcmc::") + op + ": draws of " + draws_shape(draws);
  if (draws.n_chains == 0) throw ArgumentError(where + ": need at least one chain");
  if (draws.n_draws < 2) throw ArgumentError(where + ": need at least 2 draws per chain");
  if (draws.values.size() != draws.n_chains * draws.n_draws) {
    throw ArgumentError(where + ": the buffer holds " + std::to_string(draws.values.size()) + " values, expected " +
                        std::to_string(draws.n_chains * draws.n_draws) + " (chains of equal length)");
  }
  const std::size_t bad = vaelib::detail::first_non_finite(draws.values.data(), draws.values.size());
  if (bad != draws.values.size()) {
    throw ArgumentError(where + ": draw " + std::to_string(bad % draws.n_draws) + " of chain " +
                        std::to_string(bad / draws.n_draws) + " is " +
                        vaelib::detail::describe_non_finite(draws.values[bad]));
  }
}

/// Draws owned, in the DrawsView layout: what splitting, ranking and folding produce.
struct ChainMatrix {
  std::vector<double> values;
  std::size_t n_chains = 0;
  std::size_t n_draws = 0;

  DrawsView view() const { return {values, n_chains, n_draws}; }
};

/// Mean of values, shifted by the first one: exactly that value for a constant chain (a plain
/// sum of n copies divided by n need not be), so that a stuck chain has no variance at all.
inline double shifted_mean(std::span<const double> values) {
  double offset = 0;
  for (double v : values) offset += v - values[0];
  return values[0] + offset / static_cast<double>(values.size());
}

/// Each chain cut into its first and last floor(n/2) draws.
inline ChainMatrix split_chains(const DrawsView& draws) {
  const std::size_t half = draws.n_draws / 2;
  ChainMatrix out{{}, 2 * draws.n_chains, half};
  out.values.reserve(out.n_chains * half);
  for (std::size_t c = 0; c < draws.n_chains; ++c) {
    const auto chain = draws.chain(c);
    out.values.insert(out.values.end(), chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(half));
    out.values.insert(out.values.end(), chain.end() - static_cast<std::ptrdiff_t>(half), chain.end());
  }
  return out;
}

/// Quantile of sorted values with linear interpolation between order statistics (R's type 7,
/// numpy's default): position (n - 1) prob.
inline double sorted_quantile(std::span<const double> sorted, double prob) {
  const double position = static_cast<double>(sorted.size() - 1) * prob;
  const auto below = static_cast<std::size_t>(std::floor(position));
  if (below + 1 >= sorted.size()) return sorted.back();
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

/// Averaged 1-based ranks of the values (ties share the mean of their ranks).
inline std::vector<double> average_ranks(std::span<const double> values) {
  // (value, index) pairs sort faster than indices compared through the values
  std::vector<std::pair<double, std::size_t>> sorted(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) sorted[k] = {values[k], k};
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> ranks(values.size());
  for (std::size_t first = 0; first < sorted.size();) {
    std::size_t last = first;  // the run of ties is sorted[first..last]
    while (last + 1 < sorted.size() && sorted[last + 1].first == sorted[first].first) ++last;
    const double rank = 0.5 * static_cast<double>(first + last + 2);
    for (std::size_t k = first; k <= last; ++k) ranks[sorted[k].second] = rank;
    first = last + 1;
  }
  return ranks;
}

/// In-place radix-2 FFT (size a power of two); the inverse includes the 1/n.
inline void fft(std::vector<std::complex<double>>& a, bool inverse) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  // twiddles e^{-+2 pi i k / n}, each from sin/cos directly (a running product would drift);
  // a stage of length L uses every (n / L)-th
  std::vector<std::complex<double>> twiddles(n / 2);
  const double angle = (inverse ? 2 : -2) * std::numbers::pi / static_cast<double>(n);
  for (std::size_t k = 0; k < n / 2; ++k) twiddles[k] = std::polar(1.0, angle * static_cast<double>(k));
  for (std::size_t length = 2; length <= n; length <<= 1) {
    const std::size_t half = length / 2, stride = n / length;
    for (std::size_t start = 0; start < n; start += length) {
      for (std::size_t k = 0; k < half; ++k) {
        const std::complex<double> u = a[start + k], v = a[start + k + half] * twiddles[k * stride];
        a[start + k] = u + v;
        a[start + k + half] = u - v;
      }
    }
  }
  if (inverse) {
    for (auto& v : a) v /= static_cast<double>(n);
  }
}

/// Biased autocovariance (divisor n) at every lag of a centred sequence, by FFT: zero-padded
/// to a power of two >= 2n so that no lag wraps around.
inline std::vector<double> autocovariance_of_centred(std::span<const double> centred) {
  const std::size_t n = centred.size();
  std::size_t size = 1;
  while (size < 2 * n) size <<= 1;
  std::vector<std::complex<double>> a(size);
  for (std::size_t t = 0; t < n; ++t) a[t] = centred[t];
  fft(a, false);
  for (auto& v : a) v = std::norm(v);
  fft(a, true);
  std::vector<double> out(n);
  for (std::size_t t = 0; t < n; ++t) out[t] = a[t].real() / static_cast<double>(n);
  return out;
}

/// The mean over chains of each chain's biased autocovariance, lag by lag on demand: a chain
/// that mixes well needs only a few lags, each a direct sum of n products; once a lag beyond
/// direct_lags is asked for, all lags come from one FFT per chain (~ 100 n log n operations).
class MeanAutocovariance {
 public:
  explicit MeanAutocovariance(const DrawsView& draws) : m_n(draws.n_draws), m_n_chains(draws.n_chains) {
    m_centred.reserve(draws.values.size());
    for (std::size_t c = 0; c < m_n_chains; ++c) {
      const auto chain = draws.chain(c);
      const double mean = shifted_mean(chain);
      for (double v : chain) m_centred.push_back(v - mean);
    }
  }

  double operator()(std::size_t lag) {
    if (lag < m_lags.size()) return m_lags[lag];
    if (lag >= direct_lags) {
      m_lags.assign(m_n, 0.0);
      for (std::size_t c = 0; c < m_n_chains; ++c) {
        const auto chain = autocovariance_of_centred(std::span<const double>(m_centred).subspan(c * m_n, m_n));
        for (std::size_t t = 0; t < m_n; ++t) m_lags[t] += chain[t] / static_cast<double>(m_n_chains);
      }
      return m_lags[lag];
    }
    while (m_lags.size() <= lag) {
      const std::size_t t = m_lags.size();
      double sum = 0;
      for (std::size_t c = 0; c < m_n_chains; ++c) {
        const double* x = m_centred.data() + c * m_n;
        double products = 0;
        for (std::size_t i = 0; i + t < m_n; ++i) products += x[i] * x[i + t];
        sum += products / static_cast<double>(m_n);
      }
      m_lags.push_back(sum / static_cast<double>(m_n_chains));
    }
    return m_lags[lag];
  }

 private:
  static constexpr std::size_t direct_lags = 64;
  std::size_t m_n, m_n_chains;
  std::vector<double> m_centred;  // chain after chain, each minus its mean
  std::vector<double> m_lags;     // lags 0..size-1 known
};

/// Geyer's initial monotone sequence estimate of the ESS of m chains of n draws as given, in
/// the multi-chain form of Vehtari et al. (2021, section 3.2; Stan's estimator):
///   rho_t = 1 - (W - mean_c acov_c(t)) / var_plus,   var_plus = (n-1)/n W + var(chain means),
/// summed in pairs (rho_2k + rho_2k+1) while a pair stays positive, the pairs made
/// non-increasing, tau = -1 + 2 sum_{t < T} rho_t + rho_T (the last even term kept when
/// positive: it lowers the variance for antithetic chains), ESS = m n / max(tau, 1/log10(m n)).
inline double geyer_ess_unchecked(const DrawsView& draws) {
  const std::size_t m = draws.n_chains, n = draws.n_draws;
  if (n < 4) return std::numeric_limits<double>::quiet_NaN();
  MeanAutocovariance acov(draws);
  std::vector<double> chain_means(m);
  for (std::size_t c = 0; c < m; ++c) chain_means[c] = shifted_mean(draws.chain(c));
  const double nd = static_cast<double>(n), md = static_cast<double>(m);
  const double within = acov(0) * nd / (nd - 1);
  double var_plus = within * (nd - 1) / nd;
  if (m > 1) {
    const double grand = shifted_mean(chain_means);
    double between = 0;
    for (double mean : chain_means) between += (mean - grand) * (mean - grand);
    var_plus += between / (md - 1);
  }
  if (!(var_plus > 0)) return std::numeric_limits<double>::quiet_NaN();

  const auto autocorrelation = [&](std::size_t t) { return 1 - (within - acov(t)) / var_plus; };
  std::vector<double> rho(n + 1, 0.0);
  rho[0] = 1;
  rho[1] = autocorrelation(1);
  std::size_t last = 0;  // T: the first even lag whose pair was not summed whole
  double even = rho[0], odd = rho[1];
  while (last + 5 < n && even + odd > 0) {  // a NaN pair also stops here
    last += 2;
    even = autocorrelation(last);
    odd = autocorrelation(last + 1);
    if (even + odd >= 0) {
      rho[last] = even;
      rho[last + 1] = odd;
    }
  }
  if (even > 0) rho[last] = even;
  for (std::size_t t = 2; t + 2 <= last; t += 2) {  // initial monotone: no pair above the one before
    const double before = rho[t - 2] + rho[t - 1];
    if (rho[t] + rho[t + 1] > before) rho[t] = rho[t + 1] = before / 2;
  }
  double tau = -1 + rho[last];
  for (std::size_t t = 0; t < last; ++t) tau += 2 * rho[t];
  const double total = md * nd;
  // the floor caps the ESS at m n log10(m n) for strongly antithetic chains
  return total / std::max(tau, 1 / std::log10(total));
}

/// Gelman-Rubin potential scale reduction of chains as given: sqrt(var_plus / W).
inline double rhat_unchecked(const DrawsView& draws) {
  const std::size_t m = draws.n_chains, n = draws.n_draws;
  if (m < 2 || n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double nd = static_cast<double>(n), md = static_cast<double>(m);
  std::vector<double> means(m);
  double within = 0;
  for (std::size_t c = 0; c < m; ++c) {
    const auto chain = draws.chain(c);
    means[c] = shifted_mean(chain);
    double squares = 0;
    for (double v : chain) squares += (v - means[c]) * (v - means[c]);
    within += squares / (nd - 1) / md;
  }
  const double grand = shifted_mean(means);
  double between = 0;  // B / n: the variance of the chain means
  for (double mean : means) between += (mean - grand) * (mean - grand) / (md - 1);
  if (!(within > 0)) {
    return between > 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  }
  return std::sqrt(((nd - 1) / nd * within + between) / within);
}

inline double normal_quantile_impl(double p);

/// The draws replaced by the normal quantiles of their pooled average ranks.
inline ChainMatrix rank_normalize(const DrawsView& draws) {
  const std::vector<double> ranks = average_ranks(draws.values);
  const double total = static_cast<double>(ranks.size());
  ChainMatrix out{std::vector<double>(ranks.size()), draws.n_chains, draws.n_draws};
  for (std::size_t k = 0; k < ranks.size(); ++k)
    out.values[k] = normal_quantile_impl((ranks[k] - 0.375) / (total + 0.25));
  return out;
}

/// Median (type 7: the mean of the two middle values for an even count), by partial sorting.
inline double median(std::span<const double> values) {
  std::vector<double> copy(values.begin(), values.end());
  const std::size_t middle = (copy.size() - 1) / 2;
  std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(middle), copy.end());
  const double lower = copy[middle];
  if (copy.size() % 2 == 1) return lower;
  const double upper = *std::min_element(copy.begin() + static_cast<std::ptrdiff_t>(middle) + 1, copy.end());
  return lower + 0.5 * (upper - lower);
}

/// |x - median(x)|: its R-hat sees chains that differ in scale rather than location.
inline ChainMatrix fold(const DrawsView& draws) {
  const double centre = median(draws.values);
  ChainMatrix out{std::vector<double>(draws.values.size()), draws.n_chains, draws.n_draws};
  for (std::size_t k = 0; k < out.values.size(); ++k) out.values[k] = std::abs(draws.values[k] - centre);
  return out;
}

/// Wichura's algorithm AS241 (PPND16, Applied Statistics 37, 1988): rational approximations
/// in three ranges of p, relative error about 1e-16.
inline double normal_quantile_impl(double p) {
  if (!(p >= 0 && p <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0) return -std::numeric_limits<double>::infinity();
  if (p == 1) return std::numeric_limits<double>::infinity();
  const auto poly = [](const double(&c)[8], double x) {
    double s = c[7];
    for (int k = 6; k >= 0; --k) s = s * x + c[k];
    return s;
  };
  const double q = p - 0.5;
  if (std::abs(q) <= 0.425) {  // central range
    static constexpr double a[8] = {3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
                                    1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
                                    3.3430575583588128105e4, 2.5090809287301226727e3};
    static constexpr double b[8] = {1.0,
                                    4.2313330701600911252e1,
                                    6.8718700749205790830e2,
                                    5.3941960214247511077e3,
                                    2.1213794301586595867e4,
                                    3.9307895800092710610e4,
                                    2.8729085735721942674e4,
                                    5.2264952788528545610e3};
    const double r = 0.180625 - q * q;
    return q * poly(a, r) / poly(b, r);
  }
  // tails in r = sqrt(-log(min(p, 1 - p))); 1 - p is exact here (p > 0.925)
  double r = std::sqrt(-std::log(q < 0 ? p : 1 - p));
  double x;
  if (r <= 5) {
    static constexpr double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0, 5.76949722146069140550e0,
                                    3.64784832476320460504e0,  1.27045825245236838258e0, 2.41780725177450611770e-1,
                                    2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static constexpr double d[8] = {1.0,
                                    2.05319162663775882187e0,
                                    1.67638483018380384940e0,
                                    6.89767334985100004550e-1,
                                    1.48103976427480074590e-1,
                                    1.51986665636164571966e-2,
                                    5.47593808499534494600e-4,
                                    1.05075007164441684324e-9};
    r -= 1.6;
    x = poly(c, r) / poly(d, r);
  } else {
    static constexpr double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,  1.78482653991729133580e0,
                                    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                    2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static constexpr double f[8] = {1.0,
                                    5.99832206555887937690e-1,
                                    1.36929880922735805310e-1,
                                    1.48753612908506148525e-2,
                                    7.86869131145613259100e-4,
                                    1.84631831751005468180e-5,
                                    1.42151175831644588870e-7,
                                    2.04426310338993978564e-15};
    r -= 5;
    x = poly(e, r) / poly(f, r);
  }
  return q < 0 ? -x : x;
}

/// Regularised incomplete beta function I_x(a, b), by the continued fraction of the form
/// that converges fast (x below the mean (a + 1) / (a + b + 2), else by symmetry), evaluated
/// with Lentz's method. For the MCSE of quantiles, where a few digits are plenty.
inline double regularized_incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - regularized_incomplete_beta(b, a, 1 - x);
  // lgamma's cancellation costs ~1e-11 relative at a + b ~ 1e5 draws: harmless here
  const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  const double log_front = a * std::log(x) + b * std::log1p(-x) - log_beta;
  constexpr double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 400; ++i) {
    const int k = i / 2;
    double numerator;
    if (i == 0) {
      numerator = 1;
    } else if (i % 2 == 0) {
      numerator = k * (b - k) * x / ((a + 2 * k - 1) * (a + 2 * k));
    } else {
      numerator = -(a + k) * (a + b + k) * x / ((a + 2 * k) * (a + 2 * k + 1));
    }
    d = 1 + numerator * d;
    d = std::abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + numerator / c;
    c = std::abs(c) < tiny ? tiny : c;
    const double step = c * d;
    f *= step;
    if (std::abs(1 - step) < 1e-15) break;
  }
  return std::exp(log_front) * (f - 1) / a;
}

/// Quantile of the Beta(a, b) distribution by bisection of the incomplete beta (monotone in x).
inline double beta_quantile(double p, double a, double b) {
  double low = 0, high = 1;
  for (int i = 0; i < 200 && high - low > 1e-16; ++i) {
    const double middle = 0.5 * (low + high);
    (regularized_incomplete_beta(a, b, middle) < p ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

inline void check_probability(const char* op, double prob) {
  if (!(prob > 0 && prob < 1)) {
    throw ArgumentError(std::string("mcmc::") + op + ": prob = " + std::to_string(prob) + " must lie in (0, 1)");
  }
}

}  // namespace detail

/// The standard normal quantile (inverse CDF), accurate to about 1e-16 relative (Wichura's
/// AS241); -inf at 0, +inf at 1, NaN outside [0, 1].
inline double normal_quantile(double p) { return detail::normal_quantile_impl(p); }

/// Quantile of values with linear interpolation (R's type 7, numpy's default); prob in [0, 1].
inline double quantile(std::span<const double> values, double prob) {
  if (values.empty()) throw ArgumentError("mcmc::quantile: no values");
  if (!(prob >= 0 && prob <= 1)) {
    throw ArgumentError("mcmc::quantile: prob = " + std::to_string(prob) + " must lie in [0, 1]");
  }
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return detail::sorted_quantile(sorted, prob);
}

/// Biased autocovariance (divisor n) of a sequence at every lag 0..n-1, by FFT.
inline std::vector<double> autocovariance(std::span<const double> values) {
  if (values.empty()) return {};
  const double mean = detail::shifted_mean(values);
  std::vector<double> centred(values.size());
  for (std::size_t t = 0; t < values.size(); ++t) centred[t] = values[t] - mean;
  return detail::autocovariance_of_centred(centred);
}

/// ESS of the chains as given (no splitting, no ranks), by Geyer's initial monotone sequence
/// over all chains (Stan's estimator); NaN below 4 draws per chain or for constant draws.
inline double geyer_ess(const DrawsView& draws) {
  detail::check_draws("geyer_ess", draws);
  return detail::geyer_ess_unchecked(draws);
}

/// Classic split R-hat (Gelman et al., BDA3): the potential scale reduction of the split chains.
inline double rhat_basic(const DrawsView& draws) {
  detail::check_draws("rhat_basic", draws);
  return detail::rhat_unchecked(detail::split_chains(draws).view());
}

/// R-hat of the rank-normalised split chains: sees chains that differ in location, also for
/// heavy tails.
inline double rhat_bulk(const DrawsView& draws) {
  detail::check_draws("rhat_bulk", draws);
  return detail::rhat_unchecked(detail::rank_normalize(detail::split_chains(draws).view()).view());
}

/// R-hat of the rank-normalised folded split chains |x - median|: sees chains that differ in
/// scale.
inline double rhat_tail(const DrawsView& draws) {
  detail::check_draws("rhat_tail", draws);
  const auto split = detail::split_chains(draws);
  return detail::rhat_unchecked(detail::rank_normalize(detail::fold(split.view()).view()).view());
}

/// The rank-normalised split R-hat of Vehtari et al.: max(rhat_bulk, rhat_tail). Below 1.01
/// for chains that agree. A part that is undefined is left out (chains stuck at two values
/// fold to a constant, yet their bulk R-hat, +inf, says all there is to say); NaN when both are.
inline double rhat(const DrawsView& draws) {
  detail::check_draws("rhat", draws);
  const auto split = detail::split_chains(draws);
  const double bulk = detail::rhat_unchecked(detail::rank_normalize(split.view()).view());
  const double tail = detail::rhat_unchecked(detail::rank_normalize(detail::fold(split.view()).view()).view());
  if (std::isnan(bulk)) return tail;
  return std::isnan(tail) ? bulk : std::max(bulk, tail);
}

/// ESS of the raw draws over the split chains: the ESS of the mean when the variance is finite.
inline double ess_basic(const DrawsView& draws) {
  detail::check_draws("ess_basic", draws);
  return detail::geyer_ess_unchecked(detail::split_chains(draws).view());
}

/// Bulk ESS: the ESS of the rank-normalised split chains; well defined for heavy tails.
inline double ess_bulk(const DrawsView& draws) {
  detail::check_draws("ess_bulk", draws);
  return detail::geyer_ess_unchecked(detail::rank_normalize(detail::split_chains(draws).view()).view());
}

/// ESS of the quantile at prob in (0, 1): the ESS of the split chains' indicator x <= q_prob
/// (q_prob the type-7 quantile of the split draws).
inline double ess_quantile(const DrawsView& draws, double prob) {
  detail::check_draws("ess_quantile", draws);
  detail::check_probability("ess_quantile", prob);
  auto split = detail::split_chains(draws);
  std::vector<double> sorted = split.values;
  std::sort(sorted.begin(), sorted.end());
  const double threshold = detail::sorted_quantile(sorted, prob);
  for (double& v : split.values) v = v <= threshold ? 1.0 : 0.0;
  return detail::geyer_ess_unchecked(split.view());
}

/// Tail ESS: min of the ESS of the 5% and 95% quantiles.
inline double ess_tail(const DrawsView& draws) {
  detail::check_draws("ess_tail", draws);
  const double low = ess_quantile(draws, 0.05), high = ess_quantile(draws, 0.95);
  return std::isnan(low) || std::isnan(high) ? std::numeric_limits<double>::quiet_NaN() : std::min(low, high);
}

/// Monte Carlo standard error of the mean: sd / sqrt(ess_basic), sd over all draws.
inline double mcse_mean(const DrawsView& draws) {
  detail::check_draws("mcse_mean", draws);
  const double total = static_cast<double>(draws.values.size());
  const double mean = std::accumulate(draws.values.begin(), draws.values.end(), 0.0) / total;
  double squares = 0;
  for (double v : draws.values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (total - 1)) / std::sqrt(detail::geyer_ess_unchecked(detail::split_chains(draws).view()));
}

/// Monte Carlo standard error of the quantile at prob (Vehtari et al. 2021, section 4.3):
/// with S' = ess_quantile draws, the quantile's rank among S draws is about Beta(S' prob + 1,
/// S' (1 - prob) + 1) times S; the draws at that Beta's 15.9% and 84.1% quantiles (one sd
/// either side for a normal) bracket it, and half their distance is the MCSE.
inline double mcse_quantile(const DrawsView& draws, double prob) {
  detail::check_draws("mcse_quantile", draws);
  detail::check_probability("mcse_quantile", prob);
  const double ess = ess_quantile(draws, prob);
  if (std::isnan(ess)) return ess;
  const double one_sd_below = 0.5 * std::erfc(1 / std::numbers::sqrt2);  // Phi(-1)
  const double a = ess * prob + 1, b = ess * (1 - prob) + 1;
  const double low = detail::beta_quantile(one_sd_below, a, b), high = detail::beta_quantile(1 - one_sd_below, a, b);
  std::vector<double> sorted(draws.values.begin(), draws.values.end());
  std::sort(sorted.begin(), sorted.end());
  const double total = static_cast<double>(sorted.size());
  // 1-based order statistics floor(low S) and ceil(high S), kept within 1..S
  const auto below = static_cast<std::size_t>(std::max(std::floor(low * total), 1.0));
  const auto above = static_cast<std::size_t>(std::min(std::ceil(high * total), total));
  return (sorted[above - 1] - sorted[below - 1]) / 2;
}

/// Energy Bayesian fraction of missing information of one chain (Betancourt 2016):
/// sum_t (E_t - E_{t-1})^2 / sum_t (E_t - mean E)^2. Below 0.3 the momentum resampling
/// explores the energy poorly (heavy tails, funnels). NaN for constant energies.
inline double ebfmi(std::span<const double> energies) {
  const std::size_t n = energies.size();
  if (n < 2) throw ArgumentError("mcmc::ebfmi: " + std::to_string(n) + " energies; need at least 2");
  const std::size_t bad = vaelib::detail::first_non_finite(energies.data(), n);
  if (bad != n) {
    throw ArgumentError("mcmc::ebfmi: energy " + std::to_string(bad) + " of " + std::to_string(n) + " is " +
                        vaelib::detail::describe_non_finite(energies[bad]));
  }
  const double mean = std::accumulate(energies.begin(), energies.end(), 0.0) / static_cast<double>(n);
  double jumps = 0, spread = 0;
  for (std::size_t t = 0; t < n; ++t) {
    spread += (energies[t] - mean) * (energies[t] - mean);
    if (t > 0) jumps += (energies[t] - energies[t - 1]) * (energies[t] - energies[t - 1]);
  }
  return spread > 0 ? jumps / spread : std::numeric_limits<double>::quiet_NaN();
}

/// Quantity k's draws out of a DrawsArrayView, as a contiguous chains x draws buffer.
inline std::vector<double> quantity_draws(const DrawsArrayView& draws, std::size_t k) {
  const std::size_t expected = draws.n_chains * draws.n_draws * draws.n_quantities;
  if (draws.values.size() != expected) {
    throw ArgumentError("mcmc::quantity_draws: the buffer holds " + std::to_string(draws.values.size()) +
                        " values, expected " + std::to_string(draws.n_chains) + " chains x " +
                        std::to_string(draws.n_draws) + " draws x " + std::to_string(draws.n_quantities) +
                        " quantities = " + std::to_string(expected));
  }
  if (k >= draws.n_quantities) {
    throw ArgumentError("mcmc::quantity_draws: quantity " + std::to_string(k) + " of " +
                        std::to_string(draws.n_quantities));
  }
  std::vector<double> out(draws.n_chains * draws.n_draws);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = draws.values[i * draws.n_quantities + k];
  return out;
}

/// A diagnostic of every quantity of a DrawsArrayView: per_quantity(draws, mcmc::rhat).
template <class Diagnostic>
std::vector<double> per_quantity(const DrawsArrayView& draws, Diagnostic&& diagnostic) {
  std::vector<double> out(draws.n_quantities);
  for (std::size_t k = 0; k < draws.n_quantities; ++k) {
    const std::vector<double> values = quantity_draws(draws, k);
    out[k] = diagnostic(DrawsView{values, draws.n_chains, draws.n_draws});
  }
  return out;
}

}  // namespace vaelib::mcmc
