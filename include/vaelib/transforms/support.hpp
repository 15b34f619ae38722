#pragma once
// Support<T>: the set a distribution's values live in (the reals, the positive reals, an
// interval, the simplex, Cholesky factors, the integers, ...), so that code working on the
// unconstrained reals (HMC, Gaussian variational families) can find the transform onto it
// (bijector_to in vaelib/transforms/bijector_to.hpp).
//
// event_rank is the number of trailing axes that form one element of the set: 0 for sets of
// numbers (positive, interval), 1 for vectors (simplex, ordered), 2 for matrices (the
// Cholesky factors). independent(k) reads k more trailing axes as one element (a vector of
// positive numbers is positive().independent(1)).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "vaelib/error.hpp"
#include "vaelib/transforms/scalar_or_var.hpp"

namespace vaelib {

enum class SupportKind {
  real,                  // every real number
  positive,              // x > 0
  greater_than,          // x > lower
  less_than,             // x < upper
  unit_interval,         // 0 < x < 1
  interval,              // lower < x < upper
  simplex,               // x_k > 0, sum_k x_k = 1 (a vector)
  ordered,               // x_0 < x_1 < ... (a vector)
  lower_cholesky,        // lower-triangular, positive diagonal (a matrix)
  correlation_cholesky,  // lower-triangular, positive diagonal, rows of unit norm (a matrix)
  boolean,               // {0, 1}
  integer,               // the whole numbers
  nonnegative_integer,   // {0, 1, 2, ...}
  integer_interval,      // {lower, ..., upper}
  one_hot,               // the unit vectors (a vector)
};

template <class T>
class Support {
 public:
  static Support real() { return Support(SupportKind::real, 0); }
  static Support positive() { return Support(SupportKind::positive, 0); }
  static Support greater_than(ScalarOrVar<T> lower) { return Support(SupportKind::greater_than, 0, lower); }
  static Support less_than(ScalarOrVar<T> upper) { return Support(SupportKind::less_than, 0, std::nullopt, upper); }
  static Support unit_interval() { return Support(SupportKind::unit_interval, 0); }
  static Support interval(ScalarOrVar<T> lower, ScalarOrVar<T> upper) {
    return Support(SupportKind::interval, 0, lower, upper);
  }
  static Support simplex() { return Support(SupportKind::simplex, 1); }
  static Support ordered() { return Support(SupportKind::ordered, 1); }
  static Support lower_cholesky() { return Support(SupportKind::lower_cholesky, 2); }
  static Support correlation_cholesky() { return Support(SupportKind::correlation_cholesky, 2); }
  static Support boolean() { return Support(SupportKind::boolean, 0); }
  static Support integer() { return Support(SupportKind::integer, 0); }
  static Support nonnegative_integer() { return Support(SupportKind::nonnegative_integer, 0); }
  static Support integer_interval(ScalarOrVar<T> lower, ScalarOrVar<T> upper) {
    return Support(SupportKind::integer_interval, 0, lower, upper);
  }
  static Support one_hot() { return Support(SupportKind::one_hot, 1); }

  /// The same set with `extra_axes` more trailing axes read as one element.
  Support independent(std::size_t extra_axes) const {
    Support s = *this;
    s.m_event_rank += extra_axes;
    return s;
  }

  SupportKind kind() const noexcept { return m_kind; }
  std::size_t event_rank() const noexcept { return m_event_rank; }
  /// Whether the set is countable (no transform from the reals reaches it).
  bool is_discrete() const noexcept {
    return m_kind == SupportKind::boolean || m_kind == SupportKind::integer ||
           m_kind == SupportKind::nonnegative_integer || m_kind == SupportKind::integer_interval ||
           m_kind == SupportKind::one_hot;
  }
  bool has_lower() const noexcept { return m_lower.has_value(); }
  bool has_upper() const noexcept { return m_upper.has_value(); }
  /// The lower bound (greater_than, interval, integer_interval); ArgumentError otherwise.
  const ScalarOrVar<T>& lower() const {
    if (!m_lower) throw ArgumentError("Support::lower: the support " + describe() + " has no lower bound parameter");
    return *m_lower;
  }
  /// The upper bound (less_than, interval, integer_interval); ArgumentError otherwise.
  const ScalarOrVar<T>& upper() const {
    if (!m_upper) throw ArgumentError("Support::upper: the support " + describe() + " has no upper bound parameter");
    return *m_upper;
  }

  /// "positive", "interval(0, 2)", "simplex", "real (2 event axes)", ...
  std::string describe() const {
    std::string s(kind_name(m_kind));
    if (m_lower && m_upper)
      s += "(" + m_lower->describe() + ", " + m_upper->describe() + ")";
    else if (m_lower)
      s += "(" + m_lower->describe() + ")";
    else if (m_upper)
      s += "(" + m_upper->describe() + ")";
    if (m_event_rank != natural_event_rank(m_kind)) s += " (" + std::to_string(m_event_rank) + " event axes)";
    return s;
  }

  static std::string_view kind_name(SupportKind kind) noexcept {
    switch (kind) {
      case SupportKind::real:
        return "real";
      case SupportKind::positive:
        return "positive";
      case SupportKind::greater_than:
        return "greater_than";
      case SupportKind::less_than:
        return "less_than";
      case SupportKind::unit_interval:
        return "unit_interval";
      case SupportKind::interval:
        return "interval";
      case SupportKind::simplex:
        return "simplex";
      case SupportKind::ordered:
        return "ordered";
      case SupportKind::lower_cholesky:
        return "lower_cholesky";
      case SupportKind::correlation_cholesky:
        return "correlation_cholesky";
      case SupportKind::boolean:
        return "boolean";
      case SupportKind::integer:
        return "integer";
      case SupportKind::nonnegative_integer:
        return "nonnegative_integer";
      case SupportKind::integer_interval:
        return "integer_interval";
      case SupportKind::one_hot:
        return "one_hot";
    }
    return "unknown";
  }

  /// The event rank of one element of the set (1 for simplex, 2 for the Cholesky factors).
  static std::size_t natural_event_rank(SupportKind kind) noexcept {
    switch (kind) {
      case SupportKind::simplex:
      case SupportKind::ordered:
      case SupportKind::one_hot:
        return 1;
      case SupportKind::lower_cholesky:
      case SupportKind::correlation_cholesky:
        return 2;
      default:
        return 0;
    }
  }

 private:
  Support(SupportKind kind, std::size_t event_rank, std::optional<ScalarOrVar<T>> lower = std::nullopt,
          std::optional<ScalarOrVar<T>> upper = std::nullopt)
      : m_kind(kind), m_event_rank(event_rank), m_lower(std::move(lower)), m_upper(std::move(upper)) {}

  SupportKind m_kind;
  std::size_t m_event_rank;
  std::optional<ScalarOrVar<T>> m_lower;
  std::optional<ScalarOrVar<T>> m_upper;
};

}  // namespace vaelib
