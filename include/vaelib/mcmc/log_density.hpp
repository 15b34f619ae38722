#pragma once
// LogDensity: what the MCMC samplers move on. A log density (up to a constant) on the
// unconstrained reals R^d with its gradient, in double whatever the model's precision:
// HMC's energy bookkeeping over hundreds of leapfrog steps needs the headroom, and a model
// written on a float tape is evaluated in float and widened here.
//
//   struct StandardNormal {
//     std::size_t dimension() const { return 3; }
//     double log_density_and_gradient(std::span<const double> q, std::span<double> grad) {
//       double lp = 0;
//       for (std::size_t i = 0; i < q.size(); ++i) { lp -= 0.5 * q[i] * q[i]; grad[i] = -q[i]; }
//       return lp;
//     }
//   };
//
// A density may return -inf (or NaN) outside where it is defined; the samplers treat such a
// point as a divergence and stay where they were. A density is used by one thread at a time:
// several chains each get their own (mcmc::sample makes one per chain from a factory).

#include <concepts>
#include <cstddef>
#include <span>

namespace vaelib::mcmc {

template <class D>
concept LogDensity = requires(D& density, std::span<const double> position, std::span<double> gradient) {
  { density.dimension() } -> std::convertible_to<std::size_t>;
  { density.log_density_and_gradient(position, gradient) } -> std::convertible_to<double>;
};

}  // namespace vaelib::mcmc
