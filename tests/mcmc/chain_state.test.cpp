#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;

namespace {

/// Exponential(1) on its natural scale: -inf below 0, and a NaN gradient at exactly 1 (a
/// stand-in for a model whose derivative breaks down somewhere).
struct ChainStateHalfLine {
  std::size_t dimension() const { return 2; }
  double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
    grad[0] = q[0] == 1.0 ? std::nan("") : -1.0;
    grad[1] = -q[1];
    if (q[0] < 0) return -std::numeric_limits<double>::infinity();
    return -q[0] - 0.5 * q[1] * q[1];
  }
};

}  // namespace

TEST_CASE("chain_state: make_chain_state evaluates the density at the initial point", "[mcmc][chain_state]") {
  ChainStateHalfLine density;
  const mcmc::ChainState state = mcmc::make_chain_state(density, {0.5, 2.0});
  CHECK(state.position == std::vector<double>{0.5, 2.0});
  CHECK(state.log_density == Approx(-0.5 - 2.0));
  CHECK(state.gradient == std::vector<double>{-1.0, -2.0});
}

TEST_CASE("chain_state: a bad initial point is refused, naming what is wrong", "[mcmc][chain_state]") {
  ChainStateHalfLine density;
  CHECK_THROWS_AS(mcmc::make_chain_state(density, {0.5}), ArgumentError);
  CHECK_THROWS_WITH(mcmc::make_chain_state(density, {0.5}),
                    "make_chain_state: the initial position has size 1 but the log density has dimension 2");
  CHECK_THROWS_WITH(mcmc::make_chain_state(density, {0.5, std::numeric_limits<double>::infinity()}),
                    "make_chain_state: the initial position[1] is +inf; it must be finite");
  CHECK_THROWS_WITH(mcmc::make_chain_state(density, {-1.0, 0.0}),
                    "make_chain_state: the log density at the initial position is -inf; choose an initial point "
                    "inside the support (on the unconstrained scale)");
  CHECK_THROWS_WITH(mcmc::make_chain_state(density, {1.0, 0.0}),
                    "make_chain_state: the gradient of the log density at the initial position is NaN at coordinate 0 "
                    "(position[0] = 1)");
}
