#pragma once
// LocScaleDistribution: the common part of the location-scale distributions (Cauchy, Gumbel,
// Laplace, Logistic, LogNormal): the two parameters, their checks (scale positive and finite;
// loc finite where the distribution asks it), batch_shape their broadcast, the accessors and
// parameter("loc") / parameter("scale"), and reparameterised draws (loc + scale noise, or its
// exp). Each distribution keeps its own density, sampler, moments and entropy.

#include <cmath>
#include <limits>
#include <string_view>

#include "vaelib/distributions/distribution.hpp"

namespace vaelib::detail {

template <class T>
class LocScaleDistribution : public Distribution<T> {
 public:
  /// Whether the constructor refuses an infinite or NaN loc.
  enum class Loc { any, finite };

  std::string_view name() const final { return m_name; }
  bool is_reparameterized() const final { return true; }

  Var<T> loc() const { return m_loc; }
  Var<T> scale() const { return m_scale; }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "loc") return m_loc;
    if (parameter_name == "scale") return m_scale;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// `name` a string literal (kept as a view). The checks name the distribution through
  /// name(), which is this class's own (final) while the derived part is not yet built.
  LocScaleDistribution(const char* name, const Var<T>& loc, const Var<T>& scale, DistributionOptions options,
                       Loc loc_check)
      : Distribution<T>(loc.tape(), broadcast_parameter_shapes(name, {loc.shape(), scale.shape()}), Shape{}, options),
        m_loc(loc),
        m_scale(scale),
        m_name(name) {
    loc.tape().check_handle(name, scale);
    if (loc_check == Loc::finite) this->check_values(loc, "loc", "finite", [](T v) { return std::isfinite(v); });
    this->check_values(scale, "scale", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  Var<T> m_loc;
  Var<T> m_scale;

 private:
  std::string_view m_name;
};

}  // namespace vaelib::detail
