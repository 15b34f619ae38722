#pragma once
// Metric: the Euclidean metric of HMC, given by its inverse mass matrix M^{-1} (diagonal or
// dense). Momenta are drawn p ~ N(0, M), the kinetic energy is 0.5 p^T M^{-1} p and the
// velocity dq/dt = M^{-1} p. Adaptation estimates M^{-1} as the posterior covariance, so M^{-1}
// is what is stored and set; M itself is never formed.
//
// A default-constructed Metric is the unit diagonal of a dimension still unknown: the kernels
// size it at first use (ensure_dimension). Nothing here allocates after construction or
// set_*(): the kernels call sample_momentum and velocity at every leapfrog step.

#include <cmath>
#include <cstddef>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "vaelib/error.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::mcmc {

class Metric {
 public:
  enum class Kind { diagonal, dense };

  /// The unit diagonal, its dimension taken from the first state it meets.
  Metric() = default;

  /// The unit diagonal metric on R^dimension.
  static Metric unit(std::size_t dimension) { return diagonal(std::vector<double>(dimension, 1.0)); }

  /// A diagonal metric: M^{-1} = diag(inverse_mass), every entry finite and > 0.
  static Metric diagonal(std::vector<double> inverse_mass) {
    Metric m;
    m.set_diagonal(std::move(inverse_mass));
    return m;
  }

  /// A dense metric: M^{-1} given row-major, dimension x dimension, symmetric positive definite.
  static Metric dense(std::vector<double> inverse_mass, std::size_t dimension) {
    Metric m;
    m.set_dense(std::move(inverse_mass), dimension);
    return m;
  }

  /// The unit dense metric on R^dimension (adaptation then estimates a full covariance).
  static Metric dense_unit(std::size_t dimension) {
    std::vector<double> identity(dimension * dimension, 0.0);
    for (std::size_t i = 0; i < dimension; ++i) identity[i * dimension + i] = 1.0;
    return dense(std::move(identity), dimension);
  }

  void set_diagonal(std::vector<double> inverse_mass) {
    for (std::size_t i = 0; i < inverse_mass.size(); ++i) {
      if (!(std::isfinite(inverse_mass[i]) && inverse_mass[i] > 0)) {
        std::ostringstream s;
        s << "Metric::set_diagonal: inverse_mass[" << i << "] = " << inverse_mass[i]
          << "; every entry of a diagonal inverse mass matrix must be finite and > 0";
        throw ArgumentError(s.str());
      }
    }
    m_kind = Kind::diagonal;
    m_dimension = inverse_mass.size();
    m_inverse_mass = std::move(inverse_mass);
    m_momentum_scale.resize(m_dimension);
    for (std::size_t i = 0; i < m_dimension; ++i) m_momentum_scale[i] = 1.0 / std::sqrt(m_inverse_mass[i]);
    m_cholesky.clear();
    m_sized = true;
  }

  void set_dense(std::vector<double> inverse_mass, std::size_t dimension) {
    if (inverse_mass.size() != dimension * dimension) {
      std::ostringstream s;
      s << "Metric::set_dense: inverse_mass has " << inverse_mass.size() << " entries; a " << dimension << " x "
        << dimension << " matrix (row-major) has " << dimension * dimension;
      throw ArgumentError(s.str());
    }
    for (std::size_t i = 0; i < dimension; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        const double a = inverse_mass[i * dimension + j], b = inverse_mass[j * dimension + i];
        if (!std::isfinite(a) || std::abs(a - b) > 1e-12 * (std::abs(a) + std::abs(b))) {
          std::ostringstream s;
          s << "Metric::set_dense: inverse_mass[" << i << ", " << j << "] = " << a << " and [" << j << ", " << i
            << "] = " << b << "; the inverse mass matrix must be finite and symmetric";
          throw ArgumentError(s.str());
        }
      }
    }
    std::vector<double> lower = inverse_mass;
    if (const std::size_t failed = cholesky_in_place(lower, dimension); failed < dimension) {
      std::ostringstream s;
      s << "Metric::set_dense: the " << dimension << " x " << dimension
        << " inverse mass matrix is not positive definite (Cholesky pivot " << failed << " is not > 0)";
      throw ArgumentError(s.str());
    }
    m_kind = Kind::dense;
    m_dimension = dimension;
    m_inverse_mass = std::move(inverse_mass);
    m_cholesky = std::move(lower);
    m_momentum_scale.clear();
    m_sized = true;
  }

  Kind kind() const noexcept { return m_kind; }
  bool is_dense() const noexcept { return m_kind == Kind::dense; }
  /// 0 for a default-constructed metric not yet used.
  std::size_t dimension() const noexcept { return m_dimension; }

  /// M^{-1}: its diagonal (d entries) or the whole matrix row-major (d * d entries).
  std::span<const double> inverse_mass() const noexcept { return m_inverse_mass; }

  /// Sizes a default-constructed metric to the unit diagonal on R^dimension; a metric already
  /// sized must have this dimension.
  void ensure_dimension(std::size_t dimension, const char* operation) {
    if (!m_sized) {
      set_diagonal(std::vector<double>(dimension, 1.0));
      return;
    }
    if (m_dimension != dimension) {
      std::ostringstream s;
      s << operation << ": the metric has dimension " << m_dimension << " but the log density has dimension "
        << dimension;
      throw ArgumentError(s.str());
    }
  }

  /// p ~ N(0, M). Dense: with L L^T = M^{-1}, p = L^{-T} z has covariance (L L^T)^{-1} = M.
  void sample_momentum(Rng& rng, std::span<double> momentum) const {
    rng.fill_normal<double>(momentum);
    if (m_kind == Kind::diagonal) {
      for (std::size_t i = 0; i < m_dimension; ++i) momentum[i] *= m_momentum_scale[i];
      return;
    }
    // Back substitution L^T p = z in place: row i needs only the p_j with j > i, already solved.
    const std::size_t d = m_dimension;
    for (std::size_t i = d; i-- > 0;) {
      double sum = momentum[i];
      for (std::size_t j = i + 1; j < d; ++j) sum -= m_cholesky[j * d + i] * momentum[j];
      momentum[i] = sum / m_cholesky[i * d + i];
    }
  }

  /// velocity = M^{-1} momentum.
  void velocity(std::span<const double> momentum, std::span<double> velocity) const {
    const std::size_t d = m_dimension;
    if (m_kind == Kind::diagonal) {
      for (std::size_t i = 0; i < d; ++i) velocity[i] = m_inverse_mass[i] * momentum[i];
      return;
    }
    for (std::size_t i = 0; i < d; ++i) {
      const double* row = m_inverse_mass.data() + i * d;
      double sum = 0;
      for (std::size_t j = 0; j < d; ++j) sum += row[j] * momentum[j];
      velocity[i] = sum;
    }
  }

  /// 0.5 p^T M^{-1} p, without a velocity at hand.
  double kinetic_energy(std::span<const double> momentum) const {
    const std::size_t d = m_dimension;
    double sum = 0;
    if (m_kind == Kind::diagonal) {
      for (std::size_t i = 0; i < d; ++i) sum += m_inverse_mass[i] * momentum[i] * momentum[i];
      return 0.5 * sum;
    }
    for (std::size_t i = 0; i < d; ++i) {
      const double* row = m_inverse_mass.data() + i * d;
      double row_sum = 0;
      for (std::size_t j = 0; j < d; ++j) row_sum += row[j] * momentum[j];
      sum += momentum[i] * row_sum;
    }
    return 0.5 * sum;
  }

 private:
  /// Overwrites the lower triangle of the row-major d x d matrix `a` with its Cholesky factor L
  /// (and zeroes the upper triangle); returns d, or the first pivot that is not > 0.
  static std::size_t cholesky_in_place(std::vector<double>& a, std::size_t d) {
    for (std::size_t j = 0; j < d; ++j) {
      double pivot = a[j * d + j];
      for (std::size_t k = 0; k < j; ++k) pivot -= a[j * d + k] * a[j * d + k];
      if (!(pivot > 0)) return j;
      const double diagonal = std::sqrt(pivot);
      a[j * d + j] = diagonal;
      for (std::size_t i = j + 1; i < d; ++i) {
        double sum = a[i * d + j];
        for (std::size_t k = 0; k < j; ++k) sum -= a[i * d + k] * a[j * d + k];
        a[i * d + j] = sum / diagonal;
      }
      for (std::size_t i = 0; i < j; ++i) a[i * d + j] = 0.0;
    }
    return d;
  }

  Kind m_kind = Kind::diagonal;
  std::size_t m_dimension = 0;
  bool m_sized = false;
  std::vector<double> m_inverse_mass;    // d (diagonal) or d * d (dense, row-major)
  std::vector<double> m_momentum_scale;  // diagonal: 1 / sqrt(M^{-1}_ii)
  std::vector<double> m_cholesky;        // dense: L with L L^T = M^{-1}, row-major
};

}  // namespace vaelib::mcmc
