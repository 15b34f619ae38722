#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

namespace {
template <std::size_t N>
void kl_numerics_require_relative(const klref::KLCase (&cases)[N], double (*f)(const double*), double tolerance) {
  for (const klref::KLCase& c : cases) {
    INFO(klref::describe_kl_case(c));
    const double got = f(c.p);
    INFO("got " << got);
    if (std::isinf(c.kl)) {
      CHECK(got == c.kl);
    } else {
      CHECK(std::abs(got - c.kl) <= tolerance * std::abs(c.kl));
    }
  }
}
}  // namespace

TEST_CASE("kl numerics: the cancellation-free helpers match mpmath to ~1e-15 relative", "[distributions][kl]") {
  kl_numerics_require_relative(
      klref::kExpm1MinusIdentity, [](const double* p) { return detail::expm1_minus_identity(p[0]); }, 1e-14);
  kl_numerics_require_relative(
      klref::kLog1pMinusIdentity, [](const double* p) { return detail::log1p_minus_identity(p[0]); }, 1e-14);
  kl_numerics_require_relative(
      klref::kLog1pBregman, [](const double* p) { return detail::log1p_bregman(p[0]); }, 1e-14);
  kl_numerics_require_relative(
      klref::kLgammaBregman, [](const double* p) { return detail::lgamma_bregman(p[0], p[1]); }, 1e-12);
  CHECK(detail::expm1_minus_identity(0.0) == 0.0);
  CHECK(detail::expm1_minus_identity(std::numeric_limits<double>::infinity()) ==
        std::numeric_limits<double>::infinity());
  CHECK(detail::lgamma_bregman(1e6, 1e6) == 0.0);
  CHECK(detail::log_ratio(1e6 + 1, 1e6) == Approx(std::log1p(1e-6)).epsilon(1e-15));
  CHECK(detail::log_ratio(1e300, 1e-300) == Approx(600 * std::log(10.0)).epsilon(1e-15));
}
