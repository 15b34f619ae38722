// The extension path of the design card: a user-written Distribution (a Student-t
// likelihood here) used in a BayesianNet exactly as the built-ins are, through log_joint
// and gradients.

#include <cmath>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Student-t with nu degrees of freedom (fixed), location loc and log-scale log_scale: a user's
/// own class (named apart from the built-in vaelib::StudentT, which `using namespace vaelib` sees).
/// log p(x) = lgamma((nu+1)/2) - lgamma(nu/2) - 0.5 log(nu pi) - log s - (nu+1)/2 log(1 + z^2 / nu)
template <class T>
class UserStudentT final : public Distribution<T> {
 public:
  UserStudentT(T nu, const Var<T>& loc, const Var<T>& log_scale, DistributionOptions options = {})
      : Distribution<T>(loc.tape(), broadcast_parameter_shapes("StudentT", {loc.shape(), log_scale.shape()}), Shape{},
                        options),
        m_nu(nu),
        m_loc(loc),
        m_log_scale(log_scale) {
    if (!(nu > 0)) throw ArgumentError("StudentT: nu must be positive");
  }
  std::string_view name() const override { return "StudentT"; }
  bool is_reparameterized() const override { return true; }
  Var<T> parameter(std::string_view p) const override {
    if (p == "loc") return m_loc;
    return Distribution<T>::parameter(p);
  }

 protected:
  Var<T> log_prob_impl(const Var<T>& given, bool detach) const override {
    const Var<T> loc = this->maybe_detached(m_loc, detach);
    const Var<T> ls = this->maybe_detached(m_log_scale, detach);
    const T c = static_cast<T>(std::lgamma((m_nu + 1) / 2) - std::lgamma(m_nu / 2) - 0.5 * std::log(m_nu * M_PI));
    const Var<T> z = (given - loc) * exp(-ls);
    return (c - ls) - T((m_nu + 1) / 2) * log1p(square(z) / m_nu);
  }
  // x = loc + s * eps * sqrt(nu / chi2), chi2 from nu standard normals (nu integral here)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> t = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        T chi2 = 0;
        for (int k = 0; k < static_cast<int>(m_nu); ++k) chi2 += square_of(rng.template normal<T>());
        data[i] = rng.template normal<T>() * std::sqrt(m_nu / chi2);
      }
    });
    return m_loc + exp(m_log_scale) * t;
  }

 private:
  static T square_of(T v) { return v * v; }
  T m_nu;
  Var<T> m_loc, m_log_scale;
};

}  // namespace

TEST_CASE("custom likelihood: a user Distribution works in BayesianNet, log_joint and gradients", "[distributions]") {
  const auto y_data = random_array({4, 3}, -2, 2, 1);
  const auto w_data = random_array({3}, -1, 1, 2);
  // log_joint of z ~ N(0, 1), y ~ StudentT(3, z * w, log_scale) and its gradient w.r.t. w,
  // log_scale, and the observed y, by finite differences.
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        Rng rng(4);
        BayesianNet<double> bn(t, rng, {{"y", v[0]}});
        const auto z = bn.normal("z", t.constant(xt::xarray<double>(xt::zeros<double>({4, 1}))), 1.0, {.group_ndims = 1});
        bn.stochastic("y", std::make_unique<UserStudentT<double>>(3.0, z * v[1], v[2], DistributionOptions{.group_ndims = 1}));
        return bn.log_joint();
      },
      {y_data, w_data, random_array({3}, -0.5, 0.5, 3)});

  Tape<double> tape;
  Rng rng(4);
  const auto y = tape.constant(y_data);
  BayesianNet<double> bn(tape, rng, {{"y", y}});
  const auto z = bn.normal("z", tape.constant(xt::xarray<double>(xt::zeros<double>({4, 1}))), 1.0, {.group_ndims = 1});
  const auto w = tape.constant(w_data);
  const auto log_scale = tape.constant(xt::xarray<double>{0.1, 0.2, 0.3});
  bn.stochastic("y", std::make_unique<UserStudentT<double>>(3.0, z * w, log_scale, DistributionOptions{.group_ndims = 1}));
  CHECK(bn["y"].is_observed());
  CHECK(std::string(bn["y"].distribution().name()) == "StudentT");
  CHECK(bn.log_joint().shape() == Shape{4});
  // the Student-t log-density by hand, for one element
  const double nu = 3, s = std::exp(0.1), loc = z.value()(0, 0) * w_data(0), x = y_data(0, 0);
  const double by_hand = std::lgamma(2.0) - std::lgamma(1.5) - 0.5 * std::log(3 * M_PI) - std::log(s) -
                         2.0 * std::log1p(((x - loc) / s) * ((x - loc) / s) / nu);
  const auto elementwise = UserStudentT<double>(3.0, z * w, log_scale).log_prob(y);
  CHECK(elementwise.value()(0, 0) == Approx(by_hand).epsilon(1e-12));
  // and its sampler has the right shape, as a built-in's would
  const UserStudentT<double> prior(3.0, tape.constant(xt::xarray<double>{0.0}), tape.constant(0.0));
  CHECK(prior.sample(rng, 7).shape() == Shape{7, 1});
}
