#pragma once
// bijector_to(support): the transform from the unconstrained reals onto a support, so that a
// sampler or a Gaussian variational family can work on the reals while the model is written
// in its natural parameters:
//
//   auto t = bijector_to(Support<double>::simplex());     // R^{K-1} onto the K-simplex
//   auto [theta, log_det] = t->forward_and_log_abs_det_jacobian(u);
//   // log p(u) = log p(theta) + log_det
//
//   real                  IdentityTransform
//   positive              ExpTransform
//   greater_than(a)       exp, then a + y         less_than(b)   exp, then b - y
//   unit_interval         SigmoidTransform        interval(a, b) SigmoidTransform(a, b)
//   simplex               StickBreakingTransform  ordered        OrderedTransform
//   lower_cholesky        LowerCholeskyTransform  correlation_cholesky  CorrelationCholeskyTransform
//
// A support with more event axes than its set's own (positive().independent(1)) gets the
// transform wrapped in IndependentTransform. A discrete support has no such transform:
// ArgumentError.

#include <memory>
#include <string>

#include "vaelib/transforms/affine.hpp"
#include "vaelib/transforms/compose.hpp"
#include "vaelib/transforms/correlation_cholesky.hpp"
#include "vaelib/transforms/exp.hpp"
#include "vaelib/transforms/identity.hpp"
#include "vaelib/transforms/independent.hpp"
#include "vaelib/transforms/lower_cholesky.hpp"
#include "vaelib/transforms/ordered.hpp"
#include "vaelib/transforms/sigmoid.hpp"
#include "vaelib/transforms/stick_breaking.hpp"
#include "vaelib/transforms/support.hpp"

namespace vaelib {

template <class T>
TransformPtr<T> bijector_to(const Support<T>& support) {
  const auto transform_onto_set = [&]() -> TransformPtr<T> {
    switch (support.kind()) {
      case SupportKind::real:
        return std::make_shared<IdentityTransform<T>>();
      case SupportKind::positive:
        return std::make_shared<ExpTransform<T>>();
      case SupportKind::greater_than:
        return compose<T>(
            {std::make_shared<ExpTransform<T>>(), std::make_shared<AffineTransform<T>>(support.lower(), T(1))},
            Support<T>::greater_than(support.lower()));
      case SupportKind::less_than:
        return compose<T>(
            {std::make_shared<ExpTransform<T>>(), std::make_shared<AffineTransform<T>>(support.upper(), T(-1))},
            Support<T>::less_than(support.upper()));
      case SupportKind::unit_interval:
        return std::make_shared<SigmoidTransform<T>>();
      case SupportKind::interval:
        return std::make_shared<SigmoidTransform<T>>(support.lower(), support.upper());
      case SupportKind::simplex:
        return std::make_shared<StickBreakingTransform<T>>();
      case SupportKind::ordered:
        return std::make_shared<OrderedTransform<T>>();
      case SupportKind::lower_cholesky:
        return std::make_shared<LowerCholeskyTransform<T>>();
      case SupportKind::correlation_cholesky:
        return std::make_shared<CorrelationCholeskyTransform<T>>();
      default:
        throw ArgumentError("bijector_to: the support " + support.describe() +
                            " is discrete: no transform from the reals reaches it (sum or enumerate it out, or use a "
                            "continuous relaxation such as Concrete)");
    }
  };
  TransformPtr<T> t = transform_onto_set();
  const std::size_t own = Support<T>::natural_event_rank(support.kind());
  if (support.event_rank() < own) {
    throw ArgumentError("bijector_to: the support " + support.describe() + " has event rank " +
                        std::to_string(support.event_rank()) + ", below its set's own " + std::to_string(own));
  }
  if (support.event_rank() == own) return t;
  if (support.kind() == SupportKind::real) return std::make_shared<IdentityTransform<T>>(support.event_rank());
  return std::make_shared<IndependentTransform<T>>(std::move(t), support.event_rank() - own);
}

}  // namespace vaelib
