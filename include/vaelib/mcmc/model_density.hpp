#pragma once
// ModelDensity<T>: a BayesianNet model with observed data, seen by the samplers as a
// LogDensity on the unconstrained reals. Every stochastic node without an observation is a
// latent; the sampler's coordinates u are mapped onto each latent's support by the node's
// transform (BayesianNet::transform_to_support_of: exp onto a positive scale, sigmoid onto an
// interval, stick-breaking onto a simplex, ...), in the order the model adds them, so a bound
// may depend on latents added before it. The density is
//
//   log p(u) = sum over stochastic nodes of sum(cond_log_prob) + sum over latents of log|det J|
//
// with every node's log-probability summed whole (a scalar prior and N observations count once
// each, whatever their shapes; a log_joint override installed on the net is summed instead).
// As Stan does, the model is written in its natural parameters and sampled on the reals.
//
//   mcmc::ModelDensity<double> density([&](BayesianNet<double>& bn) {
//     auto mu = bn.normal("mu", bn.tape().constant(0.0), 5.0);
//     auto tau = bn.add<HalfCauchy<double>>("tau", {}, bn.tape().constant(5.0));
//     auto theta = bn.deterministic("theta", mu + tau * bn.normal("theta_trans", zeros8, 1.0));
//     bn.normal("y", theta, sigma8);
//   }, {{"y", y}}, {.quantities = {"theta"}});
//
// One density records on its own tape: a chain owns one (mcmc::sample makes one per chain).

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/bayesian_net/meta_bayesian_net.hpp"
#include "vaelib/error.hpp"
#include "vaelib/random/rng.hpp"
#include "vaelib/transforms/identity.hpp"

namespace vaelib::mcmc {

struct ModelDensityOptions {
  /// Deterministic nodes reported with the latents in each draw (Stan's transformed
  /// parameters: eight schools' theta = mu + tau * theta_trans), in this order after them.
  std::vector<std::string> quantities;
  /// Seed of the net's generator (only draws the model makes itself use it).
  std::uint64_t seed = 0;
};

template <class T>
class ModelDensity {
 public:
  using Builder = std::function<void(BayesianNet<T>&)>;

  /// One latent: where its coordinates sit in u, and the shape of its natural value.
  struct Latent {
    std::string name;
    std::size_t offset = 0;  // first coordinate of u
    std::size_t size = 0;    // number of coordinates on the reals
    Shape unconstrained_shape;
    Shape value_shape;       // the node's batch_shape + value_shape
  };

  ModelDensity(Builder model, const std::map<std::string, xt::xarray<T>, std::less<>>& data,
               ModelDensityOptions options = {})
      : m_model(std::move(model)), m_options(std::move(options)), m_rng(m_options.seed) {
    if (!m_model) throw ArgumentError("ModelDensity: no model-building function given");
    for (const auto& [name, value] : data) m_data.emplace(name, m_tape.constant(value));
    m_data_mark = m_tape.mark();
    discover_latents();
  }

  /// The bound model of a MetaBayesianNet (meta(n, k) with its arguments bound, or one that
  /// takes none).
  ModelDensity(const MetaBayesianNet<T>& model, const std::map<std::string, xt::xarray<T>, std::less<>>& data,
               ModelDensityOptions options = {})
      : ModelDensity([model](BayesianNet<T>& bn) { model.build(bn); }, data, std::move(options)) {}

  ModelDensity(const ModelDensity&) = delete;  // the data live on this object's tape
  ModelDensity& operator=(const ModelDensity&) = delete;

  std::size_t dimension() const noexcept { return m_dimension; }
  const std::vector<Latent>& latents() const noexcept { return m_latents; }

  /// log p(u) and its gradient, in double (a float model is evaluated in float). Where u
  /// leaves the model's domain (a scale underflowing to 0, a probability rounding to 1: a
  /// distribution throws DomainError) the density is -inf, which a sampler rejects, and
  /// last_rejection() keeps the message, as Stan reports and rejects such a proposal.
  double log_density_and_gradient(std::span<const double> u, std::span<double> gradient) {
    check_sizes("log_density_and_gradient", u.size(), gradient.size());
    load(u);
    std::fill(m_grad.begin(), m_grad.end(), T(0));
    double value = -std::numeric_limits<double>::infinity();
    try {
      const Var<T> lp = record(/*with_gradient=*/true);
      value = static_cast<double>(lp.item());
      if (std::isfinite(value)) m_tape.backward(lp);
    } catch (const DomainError& e) {
      m_last_rejection = e.what();
      std::fill(m_grad.begin(), m_grad.end(), T(0));
    }
    for (std::size_t i = 0; i < m_dimension; ++i) gradient[i] = static_cast<double>(m_grad[i]);
    return value;
  }

  /// log p(u) alone (no backward sweep); -inf outside the model's domain as above.
  double log_density(std::span<const double> u) {
    check_sizes("log_density", u.size(), m_dimension);
    load(u);
    try {
      return static_cast<double>(record(/*with_gradient=*/false).item());
    } catch (const DomainError& e) {
      m_last_rejection = e.what();
      return -std::numeric_limits<double>::infinity();
    }
  }

  /// The tape nodes the last evaluation recorded (the data's constants not counted; before any,
  /// those of the model's first build, which found its latents): what a gradient costs beyond
  /// its arithmetic, at roughly 0.2 us a node (docs/performance.md, "MCMC").
  std::size_t recorded_nodes() const noexcept {
    return m_tape.size() > m_data_mark.size ? m_tape.size() - m_data_mark.size : 0;
  }

  /// The message of the last DomainError that made the density -inf ("" if none).
  const std::string& last_rejection() const noexcept { return m_last_rejection; }

  /// Names of what a draw reports, Stan's way with 1-based indices: each latent's natural
  /// value ("sigma", "beta[1]", "L[2,1]"), then each of options.quantities.
  const std::vector<std::string>& quantity_names() {
    if (m_quantity_names.empty()) evaluate_quantities(std::vector<double>(m_dimension, 0.0));
    return m_quantity_names;
  }

  /// The reported quantities at u (the latents mapped onto their supports, then the
  /// deterministic nodes), in the order of quantity_names().
  std::vector<double> quantities(std::span<const double> u) {
    check_sizes("quantities", u.size(), m_dimension);
    return evaluate_quantities(u);
  }

  /// A starting point: each coordinate uniform in (-radius, radius) on the reals, as Stan
  /// initialises (about 0.14 to 7.4 for a positive scale).
  std::vector<double> initial_point(Rng& rng, double radius = 2.0) const {
    if (!(radius >= 0) || !std::isfinite(radius)) {
      throw ArgumentError("ModelDensity::initial_point: radius must be finite and non-negative, got " +
                          std::to_string(radius));
    }
    std::vector<double> u(m_dimension);
    for (double& x : u) x = rng.uniform<double>(-radius, radius);
    return u;
  }

  /// u for natural values of the latents (each latent's inverse transform), by name: what a
  /// chain started at a chosen point needs. Every latent must be given.
  std::vector<double> unconstrain(const std::map<std::string, xt::xarray<T>, std::less<>>& values) {
    std::vector<double> u(m_dimension, 0.0);
    for (const Latent& latent : m_latents) {
      if (!values.count(latent.name)) {
        throw ArgumentError("ModelDensity::unconstrain: no value given for the latent '" + latent.name + "'");
      }
    }
    // The transforms' bounds may depend on earlier latents: build the net once with the
    // given values observed-as-latents and invert each at its node.
    m_tape.rewind(m_data_mark);
    BayesianNet<T> bn = make_net();
    bn.set_latent_values([&](const std::string& name, const Distribution<T>& d) -> std::optional<Var<T>> {
      const Latent& latent = find_latent(name);
      const Var<T> y = m_tape.constant(values.at(name));
      const Var<T> x = BayesianNet<T>::transform_to_support_of(name, d)->inverse(y);
      if (x.size() != latent.size) {
        throw ShapeError("ModelDensity::unconstrain: the value of '" + name + "' has shape " + to_string(y.shape()) +
                         ", expected " + to_string(latent.value_shape));
      }
      std::copy(x.data(), x.data() + x.size(), u.begin() + static_cast<std::ptrdiff_t>(latent.offset));
      return y;
    });
    m_model(bn);
    return u;
  }

 private:
  BayesianNet<T> make_net() {
    Observations<T> observed(m_data.begin(), m_data.end());
    return BayesianNet<T>(m_tape, m_rng, std::move(observed));
  }

  // The model once with every latent at 0 on the reals: their order, shapes and sizes.
  void discover_latents() {
    m_tape.rewind(m_data_mark);
    BayesianNet<T> bn = make_net();
    bn.set_latent_values([&](const std::string& name, const Distribution<T>& d) -> std::optional<Var<T>> {
      Shape value_shape = d.batch_shape();
      value_shape.insert(value_shape.end(), d.value_shape().begin(), d.value_shape().end());
      const TransformPtr<T> t = BayesianNet<T>::transform_to_support_of(name, d);
      Latent latent{name, m_dimension, 0, t->inverse_shape(value_shape), value_shape};
      latent.size = shape_size(latent.unconstrained_shape);
      m_dimension += latent.size;
      m_latents.push_back(latent);
      return t->forward(m_tape.zeros(latent.unconstrained_shape));
    });
    m_model(bn);
    bn.check_observations_used();
    if (m_dimension == 0) {
      throw ArgumentError("ModelDensity: the model has no continuous latent to sample (stochastic nodes: " +
                          join(bn.stochastic_names()) + "; all are observed)");
    }
    m_u.assign(m_dimension, T(0));
    m_grad.assign(m_dimension, T(0));
    m_transforms.resize(m_latents.size());
    m_log_dets.reserve(m_latents.size());
  }

  // The net at m_u, its latents recorded as external leaves over m_u (gradients into
  // m_grad); returns the log density (a scalar). A latent on the reals is the leaf itself (no
  // log-Jacobian), and a rank-0 term is added without a sum node: each node the tape records
  // costs about as much as the flops of a small model (docs/performance.md, "MCMC").
  Var<T> record(bool with_gradient, BayesianNet<T>* keep = nullptr) {
    m_tape.rewind(m_data_mark);
    std::optional<BayesianNet<T>> local;
    BayesianNet<T>& bn = keep ? *keep : local.emplace(make_net());
    m_log_dets.clear();
    std::size_t next = 0;
    bn.set_latent_values([&](const std::string& name, const Distribution<T>& d) -> std::optional<Var<T>> {
      if (next >= m_latents.size() || m_latents[next].name != name) {
        throw ArgumentError("ModelDensity: the model added the latent '" + name +
                            "' where it added " + (next < m_latents.size() ? "'" + m_latents[next].name + "'" : "none") +
                            " when first built: a model must add the same latents in the same order every time");
      }
      const std::size_t index = next++;
      const Latent& latent = m_latents[index];
      const Var<T> x = m_tape.external(m_u.data() + latent.offset, with_gradient ? m_grad.data() + latent.offset : nullptr,
                                       latent.unconstrained_shape);
      const Transform<T>& transform = transform_of(index, name, d);
      if (m_transforms[index].is_identity) return x;  // log|det J| = 0
      auto [y, log_det] = transform.forward_and_log_abs_det_jacobian(x);
      m_log_dets.push_back(log_det);
      return y;
    });
    m_model(bn);
    std::optional<Var<T>> total;
    const auto add_term = [&total](const Var<T>& term) {
      const Var<T> s = term.rank() == 0 ? term : sum(term);
      total = total ? *total + s : s;
    };
    if (bn.has_log_joint_override()) {
      add_term(bn.log_joint());
    } else {
      for (const std::string& name : bn.stochastic_names()) add_term(bn.cond_log_prob(name));
    }
    for (const Var<T>& log_det : m_log_dets) add_term(log_det);
    return total ? *total : m_tape.constant(T(0));
  }

  // The transform onto the support of latent `index` following d: the one made last time
  // when the support is the same set without bounds (bounds are values on this evaluation's
  // tape, so a bounded support gets a new one).
  const Transform<T>& transform_of(std::size_t index, const std::string& name, const Distribution<T>& d) {
    CachedTransform& cached = m_transforms[index];
    const Support<T> support = d.support();
    const std::size_t event = d.value_shape().size() + d.group_ndims();
    const bool bounded = support.has_lower() || support.has_upper();
    if (bounded || !cached.reusable || cached.kind != support.kind() || cached.support_rank != support.event_rank() ||
        cached.event != event) {
      cached = {BayesianNet<T>::transform_to_support_of(name, d), !bounded, support.kind(), support.event_rank(), event};
      cached.is_identity = dynamic_cast<const IdentityTransform<T>*>(cached.transform.get()) != nullptr;
    }
    return *cached.transform;
  }

  std::vector<double> evaluate_quantities(std::span<const double> u) {
    load(u);
    m_tape.rewind(m_data_mark);
    BayesianNet<T> bn = make_net();
    record(/*with_gradient=*/false, &bn);
    std::vector<double> out;
    std::vector<std::string> names;
    auto append = [&](const std::string& name, const Var<T>& v) {
      const Shape& shape = v.shape();
      const T* data = v.data();
      for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(static_cast<double>(data[i]));
        names.push_back(stan_name(name, shape, i));
      }
    };
    for (const Latent& latent : m_latents) append(latent.name, bn[latent.name].value());
    for (const std::string& name : m_options.quantities) {
      if (!bn.contains(name)) {
        throw ArgumentError("ModelDensity: the quantity '" + name + "' names no node of the model (nodes: " +
                            join(bn.stochastic_names()) + ", and its deterministic nodes)");
      }
      append(name, bn[name].value());
    }
    if (m_quantity_names.empty()) m_quantity_names = std::move(names);
    return out;
  }

  // "beta[2]" for flat index 1 of shape [5]; "L[2,1]" for a matrix; "sigma" for a scalar.
  static std::string stan_name(const std::string& name, const Shape& shape, std::size_t flat) {
    if (shape.empty()) return name;
    std::vector<std::size_t> index(shape.size());
    for (std::size_t axis = shape.size(); axis-- > 0;) {
      index[axis] = flat % shape[axis];
      flat /= shape[axis];
    }
    std::string s = name + "[";
    for (std::size_t axis = 0; axis < index.size(); ++axis) s += (axis ? "," : "") + std::to_string(index[axis] + 1);
    return s + "]";
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
  }

  const Latent& find_latent(const std::string& name) const {
    for (const Latent& latent : m_latents)
      if (latent.name == name) return latent;
    throw ArgumentError("ModelDensity: the model added a latent '" + name + "' it did not add when first built");
  }

  void load(std::span<const double> u) {
    for (std::size_t i = 0; i < m_dimension; ++i) m_u[i] = static_cast<T>(u[i]);
  }

  void check_sizes(const char* what, std::size_t got, std::size_t gradient_size) const {
    if (got != m_dimension || gradient_size != m_dimension) {
      throw ShapeError(std::string("ModelDensity::") + what + ": the point has " + std::to_string(got) +
                       " coordinates (gradient " + std::to_string(gradient_size) + "), the model's dimension is " +
                       std::to_string(m_dimension));
    }
  }

  Builder m_model;
  ModelDensityOptions m_options;
  Tape<T> m_tape;
  Rng m_rng;
  Observations<T> m_data;
  typename Tape<T>::Mark m_data_mark{};
  std::vector<Latent> m_latents;
  std::size_t m_dimension = 0;
  std::vector<T> m_u;
  std::vector<T> m_grad;
  std::vector<std::string> m_quantity_names;
  std::string m_last_rejection;

  struct CachedTransform {
    TransformPtr<T> transform;
    bool reusable = false;
    SupportKind kind = SupportKind::real;
    std::size_t support_rank = 0;
    std::size_t event = 0;
    bool is_identity = false;
  };
  std::vector<CachedTransform> m_transforms;  // one per latent
  std::vector<Var<T>> m_log_dets;             // record()'s, kept for their capacity
};

}  // namespace vaelib::mcmc
