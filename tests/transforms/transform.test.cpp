#include "transforms/transform_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {
// A minimal Transform: y = 2x, written against the interface alone.
class TransformDoubling final : public Transform<double> {
 public:
  std::string name() const override { return "Doubling"; }
  std::size_t domain_event_rank() const override { return 0; }
  std::size_t codomain_event_rank() const override { return 0; }
  Support<double> codomain() const override { return Support<double>::real(); }

 protected:
  Var<double> forward_impl(const Var<double>& x) const override { return x * 2.0; }
  Var<double> inverse_impl(const Var<double>& y) const override { return y * 0.5; }
  Var<double> log_abs_det_jacobian_impl(const Var<double>& x, const Var<double>&) const override {
    return x.tape().full(x.shape(), std::log(2.0));
  }
};
}  // namespace

TEST_CASE("Transform: a user's transform gets the shared checks and forward_and_log_abs_det_jacobian", "[transforms]") {
  const TransformDoubling t;
  transform_check_round_trip(t, xt::xarray<double>{-1.0, 0.5});
  transform_check_log_det(t, xt::xarray<double>{-1.0, 0.5}, transform_first_entries(2));
  Tape<double> tape;
  const auto [y, log_det] = t.forward_and_log_abs_det_jacobian(tape.constant(xt::xarray<double>{1.0, 2.0}));
  require_close(y.value(), xt::xarray<double>{2.0, 4.0});
  require_close(log_det.value(), xt::xarray<double>{std::log(2.0), std::log(2.0)});
}

TEST_CASE("Transform: ranks below the event rank and mismatched batch ranks are refused, naming the transform",
          "[transforms]") {
  Tape<double> tape;
  const LowerCholeskyTransform<double> t;
  CHECK_THROWS_WITH(t.inverse(tape.zeros({3})), Catch::Contains("LowerCholeskyTransform.inverse: y has shape [3]") &&
                                                    Catch::Contains("expected rank >= 2"));
  const auto x = tape.zeros({2, 3});
  CHECK_THROWS_WITH(
      t.log_abs_det_jacobian(x, tape.zeros({2, 2})),
      Catch::Contains("LowerCholeskyTransform.log_abs_det_jacobian") && Catch::Contains("different batch ranks"));
}
