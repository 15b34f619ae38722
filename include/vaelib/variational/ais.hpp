#pragma once
// ais_loglikelihood: annealed importance sampling of log p(x) (Neal, 2001), ZhuSuan's
// zs.evaluation.AIS, run on a decoder as Wu, Burda, Salakhutdinov & Grosse (2017) run it:
// every image has k chains, and every chain its own accept/reject and its own step size,
// the HMC transitions of all chains of a chunk of images batched on the tape.
//
// Between f_0 = p0(z) (the prior, or an encoder's q(z | x)) and f_1 = p(x, z), the chains
// move through the annealed densities
//
//   f_b(z) = p0(z) exp(b l(z)),   l(z) = log p(x, z) - log p0(z),   0 = b_0 < b_1 < ... < b_T = 1:
//
// z_0 ~ p0; for t = 1..T the log-weight gains (b_t - b_{t-1}) l(z_{t-1}), then an HMC
// transition that leaves f_{b_t} invariant moves the chain. E[w] = p(x), so log mean_k w_k
// is a stochastic lower bound on log p(x) that tightens as T grows.
//
// ais_upper_bound runs the same chain backwards, from an exact posterior sample down to p0:
// then E[w] = 1 / p(x) and -log mean_k w_k is a stochastic upper bound. On data simulated
// from the model the exact sample is the z that generated x: bdmc() simulates, runs both and
// reports the gap (bidirectional Monte Carlo, Grosse, Ghahramani & Adams, 2015).
//
//   auto ll = vaelib::ais_loglikelihood(vae.model(), {{"x", x}}, "z", {.n_chains = 16, .n_temperatures = 1000});
//   // ll.log_likelihood[i], ll.standard_error[i] for each image

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/bayesian_net/meta_bayesian_net.hpp"

namespace vaelib {

/// How the inverse temperatures b_1..b_T rise to 1.
enum class AisSchedule {
  linear,     // b_t = t / T
  geometric,  // b_t from geometric_start to 1 in equal ratios (b_0 = 0)
  sigmoid     // b_t = (s(t) - s(0)) / (s(T) - s(0)), s(t) = sigmoid(sharpness (2t/T - 1)): slow at both ends
};

struct AisOptions {
  std::size_t n_chains = 16;           // k per image
  std::size_t n_temperatures = 1000;   // T: weight updates; T - 1 HMC transitions between them
  AisSchedule schedule = AisSchedule::sigmoid;
  double geometric_start = 1e-4;       // b_1 of the geometric schedule
  double sigmoid_sharpness = 4;        // of the sigmoid schedule (Wu et al. use 4)
  std::size_t n_leapfrog = 10;         // per HMC transition
  double step_size = 0.05;             // every chain's initial step size
  double target_acceptance = 0.65;     // the acceptance rate each chain's step size is steered to
  bool adapt_step_size = true;         // after each transition: log eps += adaptation_rate (a - target)
  double adaptation_rate = 0.05;
  /// > 0: the step sizes are adapted in a pilot run of this many chains per image, which
  /// records each image's step size (geometric mean over its pilot chains) at every
  /// transition; the estimate's chains then use those, fixed, so every transition leaves its
  /// f_b exactly invariant and E[w] = p(x) holds. 0: each chain adapts its own step size as it
  /// runs (Wu et al.), which makes its kernel depend on its own past: slightly biased (about
  /// +0.02 nats measured on a 2-D decoder, T = 3000, above the true value), no pilot cost.
  std::size_t pilot_chains = 4;
  double min_step_size = 1e-4;         // adaptation keeps eps in [min_step_size, max_step_size]
  double max_step_size = 1.0;
  std::size_t image_chunk = 100;       // images run at once (a model that takes the batch size)
  std::uint64_t seed = 0;              // of the draws from p0, the momenta and the accept tests
};

/// Per-image estimates (images on axis 0 of the observations).
struct AisLogLikelihood {
  /// Forward AIS: log mean_k w_k (E <= log p(x)); reverse AIS: -log mean_k w_k (E >= log p(x)).
  xt::xarray<double> log_likelihood;
  /// The delta-method standard error of log_likelihood: sd(w) / (sqrt(k) mean(w)).
  xt::xarray<double> standard_error;
  /// Every chain's log-weight, [k, n] (reverse AIS: estimates of -log p(x)).
  xt::xarray<double> log_weights;
  /// Every chain's step size at the end, [k, n].
  xt::xarray<double> step_size;
  /// The mean acceptance probability over all transitions and chains.
  double acceptance_rate = 0;
  std::size_t n_chains = 0, n_temperatures = 0;
  bool upper_bound = false;
};

/// What the AIS functions run: a model for a chunk of images. From a MetaBayesianNet<T>
/// bound to its batch (every image at once), from a model whose builder takes (batch size,
/// particle count) as models::VAE::model() and the examples' build_gen do (bound to (m, 1)
/// for each chunk of m images), or from any function m -> model for m images.
template <class T>
class AisModel {
 public:
  using ForImages = std::function<MetaBayesianNet<T>(std::size_t n_images)>;

  AisModel(MetaBayesianNet<T> model)  // NOLINT: a bound model is an AisModel
      : m_fixed(std::move(model)) {}
  AisModel(const MetaBayesianNet<T, std::size_t, std::size_t>& model)  // NOLINT: so is a VAE's model()
      : m_for_images([model](std::size_t n) { return model(n, 1); }) {}
  explicit AisModel(ForImages for_images) : m_for_images(std::move(for_images)) {
    if (!m_for_images) throw ArgumentError("AisModel: no model-building function given");
  }

  /// Whether the model can be built for any number of images (so images are chunked).
  bool takes_batch_size() const noexcept { return !m_fixed.has_value(); }
  MetaBayesianNet<T> for_images(std::size_t n) const { return m_fixed ? *m_fixed : m_for_images(n); }

 private:
  std::optional<MetaBayesianNet<T>> m_fixed;
  ForImages m_for_images;
};

/// q(z | x) as the chains' starting distribution: a BayesianNet holding the latent node,
/// built for the observations of a chunk of images (run the encoder on them).
template <class T>
using AisProposal = std::function<BayesianNet<T>(const Observations<T>& chunk)>;

namespace detail {

template <class Model>
struct AisValue;
template <class T, class... Args>
struct AisValue<MetaBayesianNet<T, Args...>> {
  using type = T;
};
template <class T>
struct AisValue<AisModel<T>> {
  using type = T;
};
template <class Model>
using ais_value_t = typename AisValue<std::remove_cvref_t<Model>>::type;

inline void check_ais_options(const char* operation, const AisOptions& o) {
  std::ostringstream s;
  s << operation << ": ";
  if (o.n_chains == 0) {
    s << "n_chains = 0; it must be at least 1";
  } else if (o.n_temperatures == 0) {
    s << "n_temperatures = 0; it must be at least 1";
  } else if (o.n_leapfrog == 0) {
    s << "n_leapfrog = 0; it must be at least 1";
  } else if (o.image_chunk == 0) {
    s << "image_chunk = 0; it must be at least 1";
  } else if (!(std::isfinite(o.step_size) && o.step_size > 0)) {
    s << "step_size = " << o.step_size << "; it must be finite and > 0";
  } else if (!(o.min_step_size > 0 && o.min_step_size <= o.max_step_size && std::isfinite(o.max_step_size))) {
    s << "the step-size range [" << o.min_step_size << ", " << o.max_step_size << "] must satisfy 0 < min <= max < inf";
  } else if (!(o.target_acceptance > 0 && o.target_acceptance < 1)) {
    s << "target_acceptance = " << o.target_acceptance << "; it must be in (0, 1)";
  } else if (!(std::isfinite(o.adaptation_rate) && o.adaptation_rate >= 0)) {
    s << "adaptation_rate = " << o.adaptation_rate << "; it must be finite and >= 0";
  } else if (o.schedule == AisSchedule::geometric && !(o.geometric_start > 0 && o.geometric_start < 1)) {
    s << "geometric_start = " << o.geometric_start << "; it must be in (0, 1)";
  } else if (o.schedule == AisSchedule::sigmoid && !(std::isfinite(o.sigmoid_sharpness) && o.sigmoid_sharpness > 0)) {
    s << "sigmoid_sharpness = " << o.sigmoid_sharpness << "; it must be finite and > 0";
  } else {
    return;
  }
  throw ArgumentError(s.str());
}

/// The per-image summary of k log-weights at stride m: log mean w and its delta-method error.
inline std::pair<double, double> log_mean_weight(const double* log_w, std::size_t k, std::size_t stride) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < k; ++j) m = std::max(m, log_w[j * stride]);
  if (!std::isfinite(m)) return {m, 0.0};
  double s = 0, s2 = 0;
  for (std::size_t j = 0; j < k; ++j) {
    const double w = std::exp(log_w[j * stride] - m);
    s += w;
    s2 += w * w;
  }
  const double kd = static_cast<double>(k), mean = s / kd;
  const double var = std::max(0.0, s2 / kd - mean * mean);
  return {m + std::log(mean), std::sqrt(var / kd) / mean};
}

}  // namespace detail

/// The inverse temperatures b_0 = 0 < b_1 < ... < b_T = 1 of options.schedule, T =
/// options.n_temperatures.
inline std::vector<double> ais_schedule(const AisOptions& options) {
  detail::check_ais_options("ais_schedule", options);
  const std::size_t t_max = options.n_temperatures;
  std::vector<double> b(t_max + 1);
  const double steps = static_cast<double>(t_max);
  for (std::size_t t = 0; t <= t_max; ++t) {
    const double u = static_cast<double>(t) / steps;
    switch (options.schedule) {
      case AisSchedule::linear:
        b[t] = u;
        break;
      case AisSchedule::geometric:
        b[t] = t == 0 ? 0.0 : t_max == 1 ? 1.0
                                         : std::pow(options.geometric_start, static_cast<double>(t_max - t) / (steps - 1));
        break;
      case AisSchedule::sigmoid: {
        const auto s = [&](double v) { return 1 / (1 + std::exp(-options.sigmoid_sharpness * (2 * v - 1))); };
        b[t] = (s(u) - s(0)) / (s(1) - s(0));
        break;
      }
    }
  }
  b.front() = 0;
  b.back() = 1;
  return b;
}

namespace detail {

/// The chains of one chunk of m images, k per image (chain c = j m + i: the j-th chain of
/// image i, the layout of the latent's [k, m, ...] value): positions, momenta, the two
/// gradients, per-chain step sizes and log-weights, in double. Sized once per chunk; a
/// transition allocates nothing here (the model's BayesianNet, rebuilt at each evaluation,
/// does allocate its few small nodes).
template <class T>
class AisChains {
 public:
  AisChains(const char* operation, const MetaBayesianNet<T>& model, const Observations<T>& observed,
            std::string latent, const Distribution<T>* proposal, Rng& rng, const AisOptions& options, Shape chain_shape)
      : m_operation(operation), m_model(model), m_observed(observed), m_latent(std::move(latent)),
        m_proposal(proposal), m_rng(rng), m_options(options), m_shape(std::move(chain_shape)) {
    m_k = m_shape[0];
    m_m = m_shape[1];
    m_chains = m_k * m_m;
    m_dim = shape_size(m_shape) / m_chains;
    const std::size_t n = m_chains * m_dim;
    for (auto* v : {&m_position, &m_momentum, &m_grad_p0, &m_grad_l, &m_start_position, &m_start_grad_p0, &m_start_grad_l})
      v->assign(n, 0.0);
    for (auto* v : {&m_log_p0, &m_l, &m_start_log_p0, &m_start_l, &m_h0, &m_log_w})
      v->assign(m_chains, 0.0);
    m_step.assign(m_chains, options.step_size);
    m_log_step_sum.assign(m_m, 0.0);
    m_diverged.assign(m_chains, 0);
  }

  /// Sets every chain's position ([k, m, ...] values, row-major) and evaluates it there.
  template <class U>
  void start(const U* values) {
    std::copy_n(values, m_position.size(), m_position.begin());
    evaluate();
    for (std::size_t c = 0; c < m_chains; ++c) {
      if (std::isnan(m_l[c]) || std::isnan(m_log_p0[c]) || m_log_p0[c] == std::numeric_limits<double>::infinity()) {
        std::ostringstream s;
        s << m_operation << ": the starting point of chain " << c / m_m << " of image " << c % m_m
          << " has log p0 = " << m_log_p0[c] << " and log p(x, z) - log p0 = " << m_l[c];
        throw NumericalError(s.str());
      }
    }
  }

  /// Runs the chains through the inverse temperatures b[0..T]: the weight updates and the
  /// T - 1 transitions between them.
  void run(std::span<const double> b) {
    for (std::size_t t = 1; t < b.size(); ++t) {
      const double delta = b[t] - b[t - 1];
      if (delta != 0)
        for (std::size_t c = 0; c < m_chains; ++c) m_log_w[c] += delta * m_l[c];
      if (t + 1 < b.size()) transition(b[t]);
    }
  }

  /// Pilot: write each image's step size (the geometric mean over its chains) at transition t
  /// to (*log_steps)[t m + i], as a logarithm.
  void record_step_sizes(std::vector<double>& log_steps) { m_record = &log_steps; }
  /// Use those step sizes, fixed (no adaptation): chain j of image i takes exp(log_steps[t m + i]).
  void use_step_sizes(const std::vector<double>& log_steps) { m_fixed = &log_steps; }

  const std::vector<double>& log_weights() const noexcept { return m_log_w; }
  const std::vector<double>& step_sizes() const noexcept { return m_step; }
  double acceptance_sum() const noexcept { return m_acceptance_sum; }
  std::size_t transitions() const noexcept { return m_transitions; }

 private:
  /// One HMC transition of every chain, invariant for f_b: L leapfrog steps of each chain's
  /// own size, then each chain's own Metropolis test on H = -log f_b(z) + |p|^2 / 2.
  void transition(double b) {
    const std::size_t d = m_dim;
    m_start_position = m_position;  // same sizes: copies, no allocation
    m_start_grad_p0 = m_grad_p0;
    m_start_grad_l = m_grad_l;
    m_start_log_p0 = m_log_p0;
    m_start_l = m_l;
    m_rng.fill_normal<double>(m_momentum);
    const std::size_t t = m_transitions;
    if (m_fixed)
      for (std::size_t c = 0; c < m_chains; ++c) m_step[c] = std::exp((*m_fixed)[t * m_m + c % m_m]);
    if (m_record) {
      std::fill(m_log_step_sum.begin(), m_log_step_sum.end(), 0.0);
      for (std::size_t c = 0; c < m_chains; ++c) m_log_step_sum[c % m_m] += std::log(m_step[c]);
      for (std::size_t i = 0; i < m_m; ++i) (*m_record)[t * m_m + i] = m_log_step_sum[i] / static_cast<double>(m_k);
    }
    for (std::size_t c = 0; c < m_chains; ++c) {
      m_h0[c] = hamiltonian(c, b);
      m_diverged[c] = 0;
    }
    for (std::size_t s = 0; s < m_options.n_leapfrog; ++s) {
      for (std::size_t c = 0; c < m_chains; ++c) {
        if (m_diverged[c]) continue;
        const double eps = m_step[c];
        for (std::size_t e = c * d; e < (c + 1) * d; ++e) {
          m_momentum[e] += 0.5 * eps * (m_grad_p0[e] + b * m_grad_l[e]);
          m_position[e] += eps * m_momentum[e];
        }
      }
      evaluate();
      for (std::size_t c = 0; c < m_chains; ++c) {
        if (m_diverged[c]) continue;
        const double eps = m_step[c];
        for (std::size_t e = c * d; e < (c + 1) * d; ++e) m_momentum[e] += 0.5 * eps * (m_grad_p0[e] + b * m_grad_l[e]);
        const double h = hamiltonian(c, b);
        // A blown-up trajectory does not come back: stop it at its start, where the model is
        // finite, so that no later evaluation of this batch sees it.
        if (!(h - m_h0[c] <= max_energy_error)) {
          m_diverged[c] = 1;
          std::copy_n(m_start_position.begin() + static_cast<std::ptrdiff_t>(c * d), d,
                      m_position.begin() + static_cast<std::ptrdiff_t>(c * d));
        }
      }
    }
    for (std::size_t c = 0; c < m_chains; ++c) {
      double accept = 0;
      if (!m_diverged[c]) {
        const double h = hamiltonian(c, b);
        accept = std::isfinite(m_h0[c]) ? std::min(1.0, std::exp(m_h0[c] - h)) : 1.0;
      }
      if (!(m_rng.uniform<double>() < accept)) restore(c);
      m_acceptance_sum += accept;
      if (m_options.adapt_step_size && !m_fixed) {
        const double eps = m_step[c] * std::exp(m_options.adaptation_rate * (accept - m_options.target_acceptance));
        m_step[c] = std::clamp(eps, m_options.min_step_size, m_options.max_step_size);
      }
    }
    ++m_transitions;
  }

  double hamiltonian(std::size_t c, double b) const {
    double kinetic = 0;
    for (std::size_t e = c * m_dim; e < (c + 1) * m_dim; ++e) kinetic += m_momentum[e] * m_momentum[e];
    const double h = -(m_log_p0[c] + b * m_l[c]) + 0.5 * kinetic;
    return std::isnan(h) ? std::numeric_limits<double>::infinity() : h;
  }

  void restore(std::size_t c) {
    const auto from = static_cast<std::ptrdiff_t>(c * m_dim);
    const auto to = static_cast<std::ptrdiff_t>((c + 1) * m_dim);
    std::copy(m_start_position.begin() + from, m_start_position.begin() + to, m_position.begin() + from);
    std::copy(m_start_grad_p0.begin() + from, m_start_grad_p0.begin() + to, m_grad_p0.begin() + from);
    std::copy(m_start_grad_l.begin() + from, m_start_grad_l.begin() + to, m_grad_l.begin() + from);
    m_log_p0[c] = m_start_log_p0[c];
    m_l[c] = m_start_l[c];
  }

  /// log p0, l = log p(x, z) - log p0 and both gradients at every chain's position: the model
  /// built with the latent observed at the positions, one backward sweep for l and one (over
  /// p0's few nodes) for log p0, then the tape rewound.
  void evaluate() {
    Tape<T>& tape = m_model.tape();
    const auto mark = tape.mark();
    struct Rewind {
      Tape<T>& tape;
      typename Tape<T>::Mark mark;
      ~Rewind() { tape.rewind(mark); }
    } rewind{tape, mark};
    const Var<T> z = tape.variable(xt::cast<T>(xt::adapt(m_position.data(), m_position.size(), xt::no_ownership(), m_shape)));
    Observations<T> observed = m_observed;
    observed.insert_or_assign(m_latent, z);
    BayesianNet<T> bn(tape, m_rng, std::move(observed), m_model.scope());
    m_model.build(bn);
    if (!m_checked) check_model(bn);
    const Var<T> log_joint = bn.log_joint();
    const Var<T> log_p0 = m_proposal ? m_proposal->log_prob(z) : bn.cond_log_prob(m_latent);
    const Shape per_chain{m_k, m_m};
    if (log_joint.shape() != per_chain || log_p0.shape() != per_chain) {
      throw ShapeError(std::string(m_operation) + ": with the latent '" + m_latent + "' of shape " + to_string(m_shape) +
                       " (chains, images, ...), log p(x, z) has shape " + to_string(log_joint.shape()) +
                       " and log p0(z) " + to_string(log_p0.shape()) + "; both must be " + to_string(per_chain) +
                       " (one value per chain and image: group_ndims must cover the latent's and the data's event axes)");
    }
    const Var<T> l = log_joint - log_p0;
    tape.backward(sum(l));
    copy_out(z.grad_data(), m_grad_l.data(), m_grad_l.size());
    copy_out(l.data(), m_l.data(), m_chains);
    tape.backward(sum(log_p0));
    copy_out(z.grad_data(), m_grad_p0.data(), m_grad_p0.size());
    copy_out(log_p0.data(), m_log_p0.data(), m_chains);
  }

  static void copy_out(const T* from, double* to, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) to[i] = static_cast<double>(from[i]);
  }

  void check_model(const BayesianNet<T>& bn) {
    for (const std::string& name : bn.stochastic_names()) {
      if (!bn[name].is_observed()) {
        throw ArgumentError(std::string(m_operation) + ": the model's stochastic node '" + name +
                            "' is neither observed nor the latent '" + m_latent + "' (AIS anneals one latent node)");
      }
    }
    m_checked = true;
  }

  static constexpr double max_energy_error = 1000;  // as mcmc::Hmc: beyond it, a divergence

  const char* m_operation;
  const MetaBayesianNet<T>& m_model;
  const Observations<T>& m_observed;
  std::string m_latent;
  const Distribution<T>* m_proposal;  // q(z | x), or null: p0 is the model's prior
  Rng& m_rng;
  const AisOptions& m_options;
  Shape m_shape;  // [k, m, ...]
  std::size_t m_k = 0, m_m = 0, m_chains = 0, m_dim = 0;
  std::vector<double> m_position, m_momentum, m_grad_p0, m_grad_l;
  std::vector<double> m_start_position, m_start_grad_p0, m_start_grad_l;
  std::vector<double> m_log_p0, m_l, m_start_log_p0, m_start_l, m_h0, m_log_w, m_step;
  std::vector<unsigned char> m_diverged;
  std::vector<double> m_log_step_sum;   // per image, for the pilot's record
  std::vector<double>* m_record = nullptr;
  const std::vector<double>* m_fixed = nullptr;
  double m_acceptance_sum = 0;
  std::size_t m_transitions = 0;
  bool m_checked = false;
};

/// The images of `observed` (all on axis 0, all as many): their count, checked.
template <class T>
std::size_t count_images(const char* operation, const Observations<T>& observed) {
  if (observed.empty()) throw ArgumentError(std::string(operation) + ": no observations given (AIS estimates log p(x) of observed data)");
  std::optional<std::size_t> n;
  for (const auto& [name, value] : observed) {
    if (value.rank() == 0 || (n && value.shape()[0] != *n)) {
      std::string shapes;
      for (const auto& [other, v] : observed) shapes += (shapes.empty() ? "" : ", ") + other + " " + to_string(v.shape());
      throw ShapeError(std::string(operation) + ": every observation needs the images on axis 0, as many in each (got " +
                       shapes + ")");
    }
    n = value.shape()[0];
  }
  return *n;
}

/// Images [first, first + m) of each observation: leaves over the same memory (no copy).
template <class T>
Observations<T> image_rows(Tape<T>& tape, const Observations<T>& observed, std::size_t first, std::size_t m) {
  Observations<T> out;
  for (const auto& [name, value] : observed) {
    Shape shape = value.shape();
    const std::size_t row = shape_size(shape) / shape[0];
    shape[0] = m;
    out.emplace(name, tape.external(value.data() + first * row, nullptr, shape));
  }
  return out;
}

/// The shared driver: forward AIS from p0 (exact == nullptr) or reverse AIS from the exact
/// posterior samples `exact` ([n, ...] per image), over chunks of images.
template <class T>
AisLogLikelihood run_ais(const char* operation, const AisModel<T>& model, const Observations<T>& observed,
                         const Var<T>* exact, const AisProposal<T>* proposal, std::string_view latent,
                         const AisOptions& options) {
  check_ais_options(operation, options);
  if (latent.empty()) throw ArgumentError(std::string(operation) + ": the latent's name is empty");
  if (observed.count(latent)) {
    throw ArgumentError(std::string(operation) + ": the latent '" + std::string(latent) + "' is also given as an observation");
  }
  const std::size_t n = count_images(operation, observed);
  if (exact && (exact->rank() == 0 || exact->shape()[0] != n)) {
    throw ShapeError(std::string(operation) + ": the exact posterior samples have shape " + to_string(exact->shape()) +
                     "; expected one per image, [" + std::to_string(n) + ", ...]");
  }
  const std::vector<double> betas = [&] {
    std::vector<double> b = ais_schedule(options);
    if (exact) std::reverse(b.begin(), b.end());
    return b;
  }();
  const MetaBayesianNet<T> probe = model.for_images(std::min(n, options.image_chunk));
  Tape<T>& tape = probe.tape();
  const auto frozen = tape.freeze_parameters();
  // Diverging trajectories are part of HMC (they are rejected): anomaly mode would stop them.
  const bool anomaly = tape.detecting_anomaly();
  tape.detect_anomaly(false);
  struct RestoreAnomaly {
    Tape<T>& tape;
    bool on;
    ~RestoreAnomaly() { tape.detect_anomaly(on); }
  } restore_anomaly{tape, anomaly};
  Rng rng = Rng(options.seed).stream(exact ? "ais reverse" : "ais forward");
  Rng pilot_rng = Rng(options.seed).stream(exact ? "ais reverse pilot" : "ais forward pilot");
  const bool adapt_in_pilot = options.adapt_step_size && options.pilot_chains > 0 && betas.size() > 2;
  const std::size_t k = options.n_chains;
  const std::size_t chunk = model.takes_batch_size() ? options.image_chunk : n;
  std::vector<double> log_steps(adapt_in_pilot ? (betas.size() - 2) * std::min(n, chunk) : 0);  // the pilot's record

  AisLogLikelihood result;
  result.n_chains = k;
  result.n_temperatures = options.n_temperatures;
  result.upper_bound = exact != nullptr;
  result.log_likelihood = xt::zeros<double>({n});
  result.standard_error = xt::zeros<double>({n});
  result.log_weights = xt::zeros<double>({k, n});
  result.step_size = xt::zeros<double>({k, n});
  double acceptance = 0, transitions = 0;
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t m = std::min(chunk, n - first);
    const auto mark = tape.mark();
    struct Rewind {
      Tape<T>& tape;
      typename Tape<T>::Mark mark;
      ~Rewind() { tape.rewind(mark); }
    } rewind{tape, mark};
    const MetaBayesianNet<T> net = model.takes_batch_size() ? model.for_images(m) : probe;
    const Observations<T> rows = model.takes_batch_size() ? image_rows(tape, observed, first, m) : observed;
    // p0: q's latent node, or the model's prior (a draw of the model with only x observed)
    std::optional<BayesianNet<T>> q, prior;
    const Distribution<T>* p0 = nullptr;
    try {
      if (proposal) {
        q.emplace((*proposal)(rows));
        p0 = &q->get(latent).distribution();
      } else {
        prior.emplace(tape, rng, rows, net.scope());
        net.build(*prior);
        p0 = &prior->get(latent).distribution();
      }
    } catch (const ArgumentError& e) {
      throw ArgumentError(std::string(operation) + ": reading the latent '" + std::string(latent) + "' of " +
                          (proposal ? "the proposal" : "the model") + " failed: " + e.what());
    }
    if (p0->support().kind() != SupportKind::real) {
      throw ArgumentError(std::string(operation) + ": the latent '" + std::string(latent) + "' follows a " +
                          std::string(p0->name()) + " distribution with support " + p0->support().describe() +
                          "; AIS's HMC moves latents on the reals");
    }
    Shape chain_shape{k};
    chain_shape.insert(chain_shape.end(), p0->batch_shape().begin(), p0->batch_shape().end());
    chain_shape.insert(chain_shape.end(), p0->value_shape().begin(), p0->value_shape().end());
    if (chain_shape.size() < 2 || chain_shape[1] != m) {
      throw ShapeError(std::string(operation) + ": the latent '" + std::string(latent) + "' of " +
                       (proposal ? "the proposal" : "the model") + " has batch_shape + value_shape " +
                       to_string(Shape(chain_shape.begin() + 1, chain_shape.end())) + "; expected the " +
                       std::to_string(m) + " images on its axis 0 (the chains are added in front)");
    }
    const std::size_t per_image = shape_size(chain_shape) / (k * m);
    if (exact && shape_size(exact->shape()) != n * per_image) {
      throw ShapeError(std::string(operation) + ": the exact posterior samples have shape " + to_string(exact->shape()) +
                       "; the latent '" + std::string(latent) + "' needs [" + std::to_string(n) + ", ...] with " +
                       std::to_string(per_image) + " values per image");
    }
    // k_run chains per image, started at the exact samples or drawn from p0, run through b
    const auto run_chains = [&](AisChains<T>& chains, std::size_t k_run, Rng& draws) {
      if (exact) {
        std::vector<T> start(k_run * m * per_image);
        const T* from = exact->data() + first * per_image;
        for (std::size_t j = 0; j < k_run; ++j)
          std::copy_n(from, m * per_image, start.begin() + static_cast<std::ptrdiff_t>(j * m * per_image));
        chains.start(start.data());
      } else {
        const Var<T> z0 = p0->sample(draws, k_run);
        chains.start(z0.data());
      }
      chains.run(betas);
    };
    if (adapt_in_pilot) {
      Shape pilot_shape = chain_shape;
      pilot_shape[0] = options.pilot_chains;
      AisChains<T> pilot(operation, net, rows, std::string(latent), proposal ? p0 : nullptr, pilot_rng, options, pilot_shape);
      pilot.record_step_sizes(log_steps);
      run_chains(pilot, options.pilot_chains, pilot_rng);
    }
    AisChains<T> chains(operation, net, rows, std::string(latent), proposal ? p0 : nullptr, rng, options, chain_shape);
    if (adapt_in_pilot) chains.use_step_sizes(log_steps);
    run_chains(chains, k, rng);
    const std::vector<double>& log_w = chains.log_weights();
    for (std::size_t i = 0; i < m; ++i) {
      const auto [estimate, error] = log_mean_weight(log_w.data() + i, k, m);
      result.log_likelihood(first + i) = exact ? -estimate : estimate;
      result.standard_error(first + i) = error;
      for (std::size_t j = 0; j < k; ++j) {
        result.log_weights(j, first + i) = log_w[j * m + i];
        result.step_size(j, first + i) = chains.step_sizes()[j * m + i];
      }
    }
    acceptance += chains.acceptance_sum();
    transitions += static_cast<double>(chains.transitions() * k * m);
  }
  result.acceptance_rate = transitions > 0 ? acceptance / transitions : 0.0;
  return result;
}

}  // namespace detail

/// Forward AIS from the model's prior over `latent` (a node on the reals): per-image
/// estimates of log p(x), stochastic lower bounds. Every other stochastic node of the model
/// must be observed; observations hold the images on axis 0. The model's parameters get no
/// gradient (Tape::freeze_parameters): only the latent's, for HMC. The tape is left as it
/// was found, on errors too.
template <class Model, class T = detail::ais_value_t<Model>>
AisLogLikelihood ais_loglikelihood(const Model& model, const Observations<T>& observed, std::string_view latent,
                                   AisOptions options = {}) {
  return detail::run_ais<T>("ais_loglikelihood", AisModel<T>(model), observed, nullptr, nullptr, latent, options);
}

/// Forward AIS from q(z | x): `proposal(chunk observations)` returns a BayesianNet whose node
/// `latent` is q for those images (its draws are not used: the chains draw their own).
template <class Model, class Proposal, class T = detail::ais_value_t<Model>>
  requires std::is_invocable_r_v<BayesianNet<T>, Proposal&, const Observations<T>&>
AisLogLikelihood ais_loglikelihood(const Model& model, const Observations<T>& observed, Proposal&& proposal,
                                   std::string_view latent, AisOptions options = {}) {
  const AisProposal<T> p = std::ref(proposal);
  return detail::run_ais<T>("ais_loglikelihood", AisModel<T>(model), observed, nullptr, &p, latent, options);
}

/// Reverse AIS from exact posterior samples of `latent` ([n, ...], one per image, shared by
/// its k chains) down to the prior: per-image stochastic upper bounds on log p(x).
template <class Model, class T = detail::ais_value_t<Model>>
AisLogLikelihood ais_upper_bound(const Model& model, const Observations<T>& observed, const Var<T>& exact_latent,
                                 std::string_view latent, AisOptions options = {}) {
  return detail::run_ais<T>("ais_upper_bound", AisModel<T>(model), observed, &exact_latent, nullptr, latent, options);
}

/// Reverse AIS down to q(z | x) instead of the prior.
template <class Model, class Proposal, class T = detail::ais_value_t<Model>>
  requires std::is_invocable_r_v<BayesianNet<T>, Proposal&, const Observations<T>&>
AisLogLikelihood ais_upper_bound(const Model& model, const Observations<T>& observed, const Var<T>& exact_latent,
                                 Proposal&& proposal, std::string_view latent, AisOptions options = {}) {
  const AisProposal<T> p = std::ref(proposal);
  return detail::run_ais<T>("ais_upper_bound", AisModel<T>(model), observed, &exact_latent, &p, latent, options);
}

/// bdmc()'s result: both bounds on data simulated from the model, and the data.
template <class T>
struct BidirectionalMonteCarlo {
  AisLogLikelihood lower;  // forward AIS from p0: E <= log p(x)
  AisLogLikelihood upper;  // reverse AIS from the z that generated x: E >= log p(x)
  xt::xarray<double> gap;  // upper - lower, per image: small when the chains mix (and so when both are accurate)
  std::map<std::string, xt::xarray<T>, std::less<>> simulated;  // the observations, images on axis 0
  xt::xarray<T> simulated_latent;                               // the exact posterior samples, [n, ...]
};

namespace detail {

/// A simulated value with images on axis 0: a leading axis of one draw ([1, n, ...], a model
/// bound with one particle) is dropped.
template <class T>
xt::xarray<T> simulated_images(const char* operation, const std::string& name, const Var<T>& value, std::size_t n) {
  Shape shape = value.shape();
  if (shape.size() >= 2 && shape[0] == 1 && shape[1] == n) shape.erase(shape.begin());
  if (shape.empty() || shape[0] != n) {
    throw ShapeError(std::string(operation) + ": the simulated node '" + name + "' has shape " + to_string(value.shape()) +
                     "; expected the " + std::to_string(n) + " images on axis 0");
  }
  return xt::xarray<T>(xt::adapt(value.data(), value.size(), xt::no_ownership(), shape));
}

template <class T>
BidirectionalMonteCarlo<T> run_bdmc(const AisModel<T>& model, std::size_t n_images, std::string_view latent,
                                    const AisProposal<T>* proposal, const AisOptions& options) {
  const char* operation = "bdmc";
  if (n_images == 0) throw ArgumentError("bdmc: n_images = 0; it must be at least 1");
  BidirectionalMonteCarlo<T> out;
  const MetaBayesianNet<T> net = model.for_images(n_images);
  Tape<T>& tape = net.tape();
  {
    const auto mark = tape.mark();
    struct Rewind {
      Tape<T>& tape;
      typename Tape<T>::Mark mark;
      ~Rewind() { tape.rewind(mark); }
    } rewind{tape, mark};
    const auto guard = tape.no_grad();
    Rng rng = Rng(options.seed).stream("bdmc simulation");
    BayesianNet<T> bn(tape, rng, {}, net.scope());
    net.build(bn);  // z ~ p(z), x ~ p(x | z): nothing observed
    if (!bn.contains(latent) || !bn[latent].is_stochastic()) {
      throw ArgumentError(std::string(operation) + ": the model has no stochastic node '" + std::string(latent) + "'");
    }
    for (const std::string& name : bn.stochastic_names()) {
      xt::xarray<T> v = simulated_images(operation, name, bn[name].value(), n_images);
      if (name == latent) {
        out.simulated_latent = std::move(v);
      } else {
        out.simulated.emplace(name, std::move(v));
      }
    }
  }
  if (out.simulated.empty()) throw ArgumentError("bdmc: the model has no stochastic node besides the latent to simulate");
  const auto mark = tape.mark();
  struct Rewind {
    Tape<T>& tape;
    typename Tape<T>::Mark mark;
    ~Rewind() { tape.rewind(mark); }
  } rewind{tape, mark};
  Observations<T> observed;
  for (const auto& [name, v] : out.simulated) observed.emplace(name, tape.constant(v));
  const Var<T> exact = tape.constant(out.simulated_latent);
  out.lower = run_ais<T>(operation, model, observed, nullptr, proposal, latent, options);
  out.upper = run_ais<T>(operation, model, observed, &exact, proposal, latent, options);
  out.gap = out.upper.log_likelihood - out.lower.log_likelihood;
  return out;
}

}  // namespace detail

/// Bidirectional Monte Carlo: simulates n_images from the model (z ~ p(z), x ~ p(x | z)),
/// then runs forward AIS from the prior and reverse AIS from the simulated z on them. The
/// true log p(x) of each simulated image lies (in expectation) between the two; their gap
/// bounds the error of forward AIS with these options on data like the model's own.
template <class Model, class T = detail::ais_value_t<Model>>
BidirectionalMonteCarlo<T> bdmc(const Model& model, std::size_t n_images, std::string_view latent,
                                AisOptions options = {}) {
  return detail::run_bdmc<T>(AisModel<T>(model), n_images, latent, nullptr, options);
}

/// The same with q(z | x) of the simulated images as p0 (both directions).
template <class Model, class Proposal, class T = detail::ais_value_t<Model>>
  requires std::is_invocable_r_v<BayesianNet<T>, Proposal&, const Observations<T>&>
BidirectionalMonteCarlo<T> bdmc(const Model& model, std::size_t n_images, Proposal&& proposal, std::string_view latent,
                                AisOptions options = {}) {
  const AisProposal<T> p = std::ref(proposal);
  return detail::run_bdmc<T>(AisModel<T>(model), n_images, latent, &p, options);
}

}  // namespace vaelib
