#pragma once
// KL between d-dimensional Gaussians given by a mean and a lower-triangular factor of the
// covariance: MultivariateNormalCholesky against MultivariateNormalCholesky, and a diagonal
// Normal (group_ndims >= 1: its last batch axis is the dimension) against a
// MultivariateNormalCholesky, both ways. With p = N(m1, A A^T), q = N(m2, B B^T),
// M = B^{-1} A (lower-triangular), z = B^{-1} (m1 - m2):
//   KL = 1/2 [ sum_i (expm1(r_i) - r_i) + sum_{i > j} M_ij^2 + |z|^2 ],
//   r_i = 2 (log A_ii - log B_ii)
// (the usual tr(S2^{-1} S1) + |z|^2 - d + log det S2 - log det S1, with the diagonal of
// tr - d - log det combined per entry, as the univariate Normal KL is: nothing cancels and no
// ratio of variances is formed). One node, in double, per batch element (event_kl); the log
// of a diagonal Normal's std enters as given.
//
// Gradients, with P = B^{-T} M (lower part) and w = B^{-T} z:
//   dKL/dm1 = w = -dKL/dm2
//   dKL/dA_ij = P_ij (i > j),   dKL/dlog A_ii = expm1(r_i) - M_ii sum_{k > i} B_ki P_ki
//   dKL/dB_ij = -(P M^T)_ij - w_i z_j (i > j),
//   dKL/dlog B_ii = -expm1(r_i) + M_ii sum_{k > i} B_ki P_ki - B_ii (sum_{j < i} P_ij M_ij + w_i z_i)
// The strict upper triangle of a factor gets no gradient (it is not read).

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/kl/event_kl.hpp"
#include "vaelib/distributions/kl/numerics.hpp"
#include "vaelib/distributions/multivariate_normal_cholesky.hpp"
#include "vaelib/distributions/normal.hpp"

namespace vaelib::detail {

/// The event_kl kernel of two Gaussian factors of dimension d; a side is either a full
/// lower-triangular factor (d * d numbers, row-major) or diagonal log-stds (d numbers).
/// Inputs: m1, factor or log-stds of p, m2, factor or log-stds of q.
struct GaussianFactorKL {
  std::size_t d;
  bool p_diagonal;
  bool q_diagonal;

  static std::size_t workspace_size(std::size_t d) { return 4 * d * d + 5 * d; }

  double operator()(const EventKLArgs<4>& a) const {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const std::size_t n = d;
    double* A = a.workspace;
    double* B = A + n * n;
    double* M = B + n * n;
    double* P = M + n * n;
    double* log_a = P + n * n;
    double* log_b = log_a + n;
    double* z = log_b + n;
    double* w = z + n;
    double* r = w + n;
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t count = (k == 1 && !p_diagonal) || (k == 3 && !q_diagonal) ? n * n : n;
      for (std::size_t j = 0; j < count; ++j)
        if (std::isnan(a.in[k][j])) return std::numeric_limits<double>::quiet_NaN();
    }
    load_factor(a.in[1], p_diagonal, A, log_a);
    load_factor(a.in[3], q_diagonal, B, log_b);
    // M = B^{-1} A and z = B^{-1} (m1 - m2) by forward substitution; a zero numerator stays 0
    // (also where B_ii underflowed to 0: A_ij = 0 contributes nothing, not 0/0)
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < n; ++i) {
        if (i < j) {
          M[i * n + j] = 0;
          continue;
        }
        double s = A[i * n + j];
        for (std::size_t k = j; k < i; ++k) s -= B[i * n + k] * M[k * n + j];
        M[i * n + j] = s == 0 ? 0.0 : s / B[i * n + i];
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      double s = a.in[0][i] - a.in[2][i];
      for (std::size_t k = 0; k < i; ++k) s -= B[i * n + k] * z[k];
      z[i] = s == 0 ? 0.0 : s / B[i * n + i];
    }
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      r[i] = 2 * (log_a[i] - log_b[i]);
      total += expm1_minus_identity(r[i]) + z[i] * z[i];
      for (std::size_t j = 0; j < i; ++j) total += M[i * n + j] * M[i * n + j];
    }
    // NaN from finite inputs can only come from an overflow (inf - inf, 0 * inf) of terms that
    // are themselves beyond double's range: the KL is +inf there
    const double kl = std::isnan(total) ? inf : total / 2;
    if (a.partial[0] == nullptr || !std::isfinite(kl)) return kl;

    for (std::size_t i = n; i-- > 0;) {
      double s = z[i];
      for (std::size_t k = i + 1; k < n; ++k) s -= B[k * n + i] * w[k];
      w[i] = s == 0 ? 0.0 : s / B[i * n + i];
    }
    for (std::size_t c = 0; c < n; ++c) {
      for (std::size_t i = n; i-- > c;) {
        double s = M[i * n + c];
        for (std::size_t k = i + 1; k < n; ++k) s -= B[k * n + i] * P[k * n + c];
        P[i * n + c] = s == 0 ? 0.0 : s / B[i * n + i];
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      a.partial[0][i] = w[i];
      a.partial[2][i] = -w[i];
    }
    for (std::size_t i = 0; i < n; ++i) {
      double below = 0;  // sum_{k > i} B_ki P_ki
      for (std::size_t k = i + 1; k < n; ++k) below += B[k * n + i] * P[k * n + i];
      double row = 0;  // sum_{j < i} P_ij M_ij
      for (std::size_t j = 0; j < i; ++j) row += P[i * n + j] * M[i * n + j];
      const double grow = std::expm1(r[i]);
      const double m_ii = M[i * n + i];
      const double d_log_a = grow - m_ii * below;
      const double d_log_b = -grow + m_ii * below - B[i * n + i] * (row + w[i] * z[i]);
      if (p_diagonal) {
        a.partial[1][i] = d_log_a;
      } else {
        a.partial[1][i * n + i] = d_log_a / A[i * n + i];
        for (std::size_t j = 0; j < i; ++j) a.partial[1][i * n + j] = P[i * n + j];
      }
      if (q_diagonal) {
        a.partial[3][i] = d_log_b;
      } else {
        a.partial[3][i * n + i] = d_log_b / B[i * n + i];
        for (std::size_t j = 0; j < i; ++j) {
          double pm = 0;  // (P M^T)_ij = sum_{k <= j} P_ik M_jk
          for (std::size_t k = 0; k <= j; ++k) pm += P[i * n + k] * M[j * n + k];
          a.partial[3][i * n + j] = -(pm + w[i] * z[j]);
        }
      }
    }
    return kl;
  }

  /// The factor as a full lower-triangular matrix and the logs of its diagonal.
  void load_factor(const double* in, bool diagonal, double* factor, double* log_diagonal) const {
    const std::size_t n = d;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        if (diagonal) {
          factor[i * n + j] = i == j ? std::exp(in[i]) : 0.0;
        } else {
          factor[i * n + j] = j <= i ? in[i * n + j] : 0.0;
        }
      }
      log_diagonal[i] = diagonal ? in[i] : std::log(in[i * n + i]);
    }
  }
};

/// `x` broadcast to `batch` + its own last `event_rank` axes.
template <class T>
Var<T> broadcast_event(const Var<T>& x, const Shape& batch, const Shape& event) {
  Shape target = batch;
  target.insert(target.end(), event.begin(), event.end());
  return x.shape() == target ? x : broadcast_to(x, target);
}

/// One side of a Gaussian KL: its mean and factor (or log-stds), broadcast later.
template <class T>
struct GaussianSide {
  Var<T> mean;
  Var<T> scale;  // cov_tril [..., d, d], or log-stds [..., d] when diagonal
  bool diagonal;
};

template <class T>
Var<T> gaussian_factor_kl(const char* name, const Shape& batch, std::size_t d, const GaussianSide<T>& p,
                          const GaussianSide<T>& q) {
  const Shape vector{d}, matrix{d, d};
  const std::array<Var<T>, 4> inputs{
      broadcast_event(p.mean, batch, vector), broadcast_event(p.scale, batch, p.diagonal ? vector : matrix),
      broadcast_event(q.mean, batch, vector), broadcast_event(q.scale, batch, q.diagonal ? vector : matrix)};
  return event_kl<T, 4>(name, batch, inputs, GaussianFactorKL{d, p.diagonal, q.diagonal},
                        GaussianFactorKL::workspace_size(d));
}

/// The dimension of a Normal used as a diagonal Gaussian (its last batch axis), checking
/// that it has group_ndims >= 1 and that the dimension matches.
template <class T>
std::size_t diagonal_normal_dimension(const char* name, const Normal<T>& normal, std::size_t expected) {
  if (normal.group_ndims() == 0 || normal.batch_shape().empty()) {
    throw ArgumentError(std::string(name) +
                        ": the Normal must have group_ndims >= 1 (its last batch axis is the dimension of the "
                        "multivariate normal), got group_ndims " +
                        std::to_string(normal.group_ndims()) + " and batch_shape " + to_string(normal.batch_shape()));
  }
  const std::size_t d = normal.batch_shape().back();
  if (d != expected) {
    throw ShapeError(std::string(name) + ": the Normal's last batch axis has " + std::to_string(d) +
                     " dimensions, the MultivariateNormalCholesky " + std::to_string(expected) + " (batch_shape " +
                     to_string(normal.batch_shape()) + ")");
  }
  return d;
}

/// KL(MVN || MVN), per batch element (the registry sums p's group_ndims).
template <class T>
Var<T> kl_mvn_mvn(const MultivariateNormalCholesky<T>& p, const MultivariateNormalCholesky<T>& q) {
  const Shape batch = broadcast_shapes("kl_divergence", p.batch_shape(), q.batch_shape());
  return gaussian_factor_kl<T>("kl_divergence(MultivariateNormalCholesky || MultivariateNormalCholesky)", batch,
                               p.dim(), {p.parameter("mean"), p.cov_tril(), false},
                               {q.parameter("mean"), q.cov_tril(), false});
}

/// KL(diagonal Normal || MVN), summed over the Normal's group_ndims: its last group axis is
/// the dimension, the others are summed as usual.
template <class T>
Var<T> kl_normal_mvn(const Normal<T>& p, const MultivariateNormalCholesky<T>& q) {
  constexpr const char* name = "kl_divergence(Normal || MultivariateNormalCholesky)";
  const std::size_t d = diagonal_normal_dimension(name, p, q.dim());
  const Shape& pb = p.batch_shape();
  const Shape batch = broadcast_shapes("kl_divergence", Shape(pb.begin(), pb.end() - 1), q.batch_shape());
  const Var<T> kl = gaussian_factor_kl<T>(name, batch, d, {p.parameter("mean"), p.logstd(), true},
                                          {q.parameter("mean"), q.cov_tril(), false});
  const std::size_t more = p.group_ndims() - 1;
  if (more == 0) return kl;
  if (more > kl.rank()) {
    throw ShapeError(std::string(name) + ": the Normal's group_ndims " + std::to_string(p.group_ndims()) +
                     " is larger than 1 + the rank of the broadcast batch shape " + to_string(kl.shape()));
  }
  std::vector<std::ptrdiff_t> axes;
  for (std::size_t i = 0; i < more; ++i) axes.push_back(-1 - static_cast<std::ptrdiff_t>(i));
  return sum(kl, axes);
}

/// KL(MVN || diagonal Normal), summed over the MVN's group_ndims.
template <class T>
Var<T> kl_mvn_normal(const MultivariateNormalCholesky<T>& p, const Normal<T>& q) {
  constexpr const char* name = "kl_divergence(MultivariateNormalCholesky || Normal)";
  const std::size_t d = diagonal_normal_dimension(name, q, p.dim());
  const Shape& qb = q.batch_shape();
  const Shape batch = broadcast_shapes("kl_divergence", p.batch_shape(), Shape(qb.begin(), qb.end() - 1));
  return p.reduce_group(gaussian_factor_kl<T>(name, batch, d, {p.parameter("mean"), p.cov_tril(), false},
                                              {q.parameter("mean"), q.logstd(), true}));
}

}  // namespace vaelib::detail
