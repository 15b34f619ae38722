#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Every parameter of the store drawn uniformly from [-scale, scale] (seeded): the last
/// layer starts at zero, which would hide most of the flow.
void iaf_randomise(ParameterStore<double>& store, std::uint32_t seed, double scale = 0.8) {
  for (const auto& p : store) flow_set(*p, random_array(p->shape, -scale, scale, seed++));
}

/// An IAF with a context bound to a fixed value, on whatever tape each call records on (the
/// shared checks make tapes of their own).
class IafWithFixedContext final : public Transform<double> {
 public:
  IafWithFixedContext(const InverseAutoregressiveFlow<double>& flow, xt::xarray<double> context)
      : m_flow(&flow), m_context(std::move(context)) {}
  std::string name() const override { return m_flow->name(); }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 1; }
  Support<double> codomain() const override { return m_flow->codomain(); }
  ForwardResult forward_and_log_abs_det_jacobian(const Var<double>& x) const override {
    return bound(x)->forward_and_log_abs_det_jacobian(x);
  }

 protected:
  Var<double> forward_impl(const Var<double>& x) const override { return bound(x)->forward(x); }
  Var<double> inverse_impl(const Var<double>& y) const override { return bound(y)->inverse(y); }
  Var<double> log_abs_det_jacobian_impl(const Var<double>& x, const Var<double>& y) const override {
    return bound(x)->log_abs_det_jacobian(x, y);
  }

 private:
  std::shared_ptr<const InverseAutoregressiveFlow<double>> bound(const Var<double>& on) const {
    return m_flow->with_context(on.tape().constant(m_context));
  }
  const InverseAutoregressiveFlow<double>* m_flow;
  xt::xarray<double> m_context;
};

/// The position of each element in the flow's order (0-based).
std::size_t iaf_rank(std::size_t i, std::size_t dim, bool reversed) { return reversed ? dim - 1 - i : i; }

}  // namespace

TEST_CASE("InverseAutoregressiveFlow: MADE layers, the output layer and the context under <scope>/<name>", "[flows]") {
  ParameterStore<double> store(3);
  const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf0", 3, {.hidden = {5, 4}, .context_dim = 6});
  CHECK(f.name() == "InverseAutoregressiveFlow(q/iaf0)");
  CHECK(f.dim() == 3);
  CHECK(store.at("q/iaf0/made0/weight").shape == Shape{3, 5});
  CHECK(store.at("q/iaf0/made0/bias").shape == Shape{5});
  CHECK(store.at("q/iaf0/made1/weight").shape == Shape{5, 4});
  CHECK(store.at("q/iaf0/made_out/weight").shape == Shape{4, 6});
  CHECK(store.at("q/iaf0/made_out/bias").shape == Shape{6});
  CHECK(store.at("q/iaf0/context").shape == Shape{6, 5});
  CHECK(store.size() == 7);
  const InverseAutoregressiveFlow<double> plain(store.scope("q"), "iaf1", 4);
  CHECK(store.at("q/iaf1/made0/weight").shape == Shape{4, 8});  // one hidden layer of 2D by default
  CHECK(store.find("q/iaf1/context") == nullptr);
}

TEST_CASE("InverseAutoregressiveFlow: MADE's masks follow the degrees, and outputs read only earlier inputs",
          "[flows]") {
  // D = 3, hidden {4}: inputs 1 2 3, hidden 1 2 1 2; hidden k reads input i when deg(k) >= deg(i),
  // output j (and its copy) reads hidden k when deg(j) > deg(k).
  const auto masks = vaelib::detail::made_masks<double>(3, {4}, 2, false);
  REQUIRE(masks.size() == 2);
  const xt::xarray<double> first = {{1, 1, 1, 1}, {0, 1, 0, 1}, {0, 0, 0, 0}};
  const xt::xarray<double> out = {{0, 1, 1, 0, 1, 1}, {0, 0, 1, 0, 0, 1}, {0, 1, 1, 0, 1, 1}, {0, 0, 1, 0, 0, 1}};
  CHECK(masks[0] == first);
  CHECK(masks[1] == out);
  // reversed: inputs 3 2 1
  const auto rev = vaelib::detail::made_masks<double>(3, {4}, 2, true);
  const xt::xarray<double> rev_first = {{0, 0, 0, 0}, {0, 1, 0, 1}, {1, 1, 1, 1}};
  CHECK(rev[0] == rev_first);
  // no hidden layer: output j reads input i when deg(j) > deg(i)
  const auto direct = vaelib::detail::made_masks<double>(3, {}, 1, false);
  const xt::xarray<double> strictly_upper = {{0, 1, 1}, {0, 0, 1}, {0, 0, 0}};
  CHECK(direct[0] == strictly_upper);

  // The product of the masks: output j is connected to input i exactly when i comes first.
  for (bool reversed : {false, true}) {
    for (std::size_t dim : {1, 2, 3, 5}) {
      const auto m = vaelib::detail::made_masks<double>(dim, {dim + 2, 2 * dim}, 2, reversed);
      xt::xarray<double> path = m[0];  // path(i, k): the number of paths from input i to unit k
      for (std::size_t l = 1; l < m.size(); ++l) {
        xt::xarray<double> next = xt::zeros<double>({path.shape(0), m[l].shape(1)});
        for (std::size_t i = 0; i < path.shape(0); ++i)
          for (std::size_t k = 0; k < path.shape(1); ++k)
            for (std::size_t o = 0; o < m[l].shape(1); ++o) next(i, o) += path(i, k) * m[l](k, o);
        path = next;
      }
      for (std::size_t i = 0; i < dim; ++i)
        for (std::size_t c = 0; c < 2; ++c)
          for (std::size_t j = 0; j < dim; ++j) {
            INFO("D = " << dim << ", reversed " << reversed << ", input " << i << ", output " << c * dim + j);
            CHECK((path(i, c * dim + j) > 0) == (iaf_rank(i, dim, reversed) < iaf_rank(j, dim, reversed)));
          }
    }
  }
}

TEST_CASE("InverseAutoregressiveFlow: the Jacobian is triangular in the order, with diagonal sigma", "[flows]") {
  for (bool reversed : {false, true}) {
    for (std::size_t dim : {2, 3, 5}) {
      INFO("D = " << dim << ", reversed " << reversed);
      ParameterStore<double> store;
      const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", dim,
                                                {.hidden = {dim + 1}, .activation = Activation::tanh,
                                                 .reversed = reversed});  // tanh: no dead unit hides a path
      iaf_randomise(store, 7);
      const xt::xarray<double> x = random_array({dim}, -2.0, 2.0, 3);
      const xt::xarray<double> jac = flow_jacobian(f, x);
      Tape<double> tape;
      const double log_det = f.log_abs_det_jacobian(tape.constant(x), f.forward(tape.constant(x))).item();
      double log_diag = 0;
      bool some_off_diagonal = false;
      for (std::size_t j = 0; j < dim; ++j)
        for (std::size_t i = 0; i < dim; ++i) {
          const std::size_t ri = iaf_rank(i, dim, reversed), rj = iaf_rank(j, dim, reversed);
          if (ri > rj) CHECK(jac(j, i) == 0.0);
          if (ri < rj && jac(j, i) != 0.0) some_off_diagonal = true;
          if (i == j) {
            CHECK(jac(j, i) > 0.0);
            CHECK(jac(j, i) < 1.0);  // sigma in (0, 1)
            log_diag += std::log(jac(j, i));
          }
        }
      CHECK(some_off_diagonal);  // the flow is not elementwise
      CHECK(log_det == Approx(log_diag).epsilon(1e-12));
    }
  }
}

TEST_CASE("InverseAutoregressiveFlow: log|det J| against the tape's Jacobian, D = 1, 2, 3, 5, with a context",
          "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", dim, {.hidden = {dim + 3, dim + 1}});
    const InverseAutoregressiveFlow<double> g(store.scope("q"), "iaf_ctx", dim,
                                              {.hidden = {dim + 2}, .context_dim = 2, .reversed = true});
    for (std::uint32_t seed : {1u, 2u}) {
      iaf_randomise(store, seed * 10);
      const IafWithFixedContext bound(g, random_array({2}, -1.0, 1.0, seed));
      for (std::uint32_t point : {1u, 2u}) {
        const xt::xarray<double> x = random_array({dim}, -2.5, 2.5, 10 * seed + point);
        transform_check_log_det(f, x, transform_first_entries(dim), 1e-10);
        transform_check_log_det(bound, x, transform_first_entries(dim), 1e-10);
      }
    }
  }
}

TEST_CASE("InverseAutoregressiveFlow: the D-pass inverse is exact both ways, D = 1, 2, 3, 5", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", dim, {.hidden = {dim + 2, 2 * dim}});
    const InverseAutoregressiveFlow<double> g(store.scope("q"), "iaf_ctx", dim,
                                              {.hidden = {2 * dim}, .context_dim = 3, .reversed = true});
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      iaf_randomise(store, seed * 7, 1.2);
      transform_check_round_trip(f, random_array({6, dim}, -3.0, 3.0, seed + 50), 1e-10);
      const IafWithFixedContext bound(g, random_array({6, 3}, -1.0, 1.0, seed));
      transform_check_round_trip(bound, random_array({6, dim}, -3.0, 3.0, seed + 60), 1e-10);
    }
  }
}

TEST_CASE("InverseAutoregressiveFlow: gradients in z, every parameter and the context by finite differences",
          "[flows]") {
  for (std::size_t dim : {1, 2, 3}) {
    INFO("D = " << dim);
    ParameterStore<double> store;
    const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", dim,
                                              {.hidden = {dim + 1}, .activation = Activation::tanh, .context_dim = 2});
    iaf_randomise(store, 5);
    const xt::xarray<double> context = random_array({2, 2}, -1.0, 1.0, 4);
    const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, 21);
    transform_check_gradients(IafWithFixedContext(f, context), x);
    // in the context, through forward and log|det J| and through the inverse
    require_gradient(
        [&](Tape<double>&, const Vars& in) {
          const auto r = f.with_context(in[1])->forward_and_log_abs_det_jacobian(in[0]);
          return sum(r.y * r.y) + sum(r.log_abs_det_jacobian);
        },
        {x, context});
    require_gradient([&](Tape<double>&, const Vars& in) { return f.with_context(in[1])->inverse(in[0]); },
                     {x, context});
    const auto loss_forward = [&](Tape<double>& tape) {
      return flow_forward_loss(*f.with_context(tape.constant(context)), tape, x);
    };
    const auto loss_inverse = [&](Tape<double>& tape) {
      return flow_inverse_loss(*f.with_context(tape.constant(context)), tape, x);
    };
    flow_check_parameter_gradients(store, loss_forward);
    flow_check_parameter_gradients(store, loss_inverse);
  }
}

TEST_CASE("InverseAutoregressiveFlow: batches equal their events; a [batch, C] context broadcasts over particles",
          "[flows]") {
  for (std::size_t dim : {1, 3}) {
    ParameterStore<double> store;
    const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", dim);
    iaf_randomise(store, 9);
    flow_check_batching(f, dim, 31);

    const InverseAutoregressiveFlow<double> g(store.scope("q"), "iaf_ctx", dim, {.context_dim = 2});
    iaf_randomise(store, 19);
    const xt::xarray<double> context = random_array({4, 2}, -1.0, 1.0, 5);
    const xt::xarray<double> z = random_array({3, 4, dim}, -2.0, 2.0, 6);  // [particles, batch, D]
    Tape<double> tape;
    const auto r = g.with_context(tape.constant(context))->forward_and_log_abs_det_jacobian(tape.constant(z));
    REQUIRE(r.y.shape() == Shape{3, 4, dim});
    REQUIRE(r.log_abs_det_jacobian.shape() == Shape{3, 4});
    for (std::size_t p = 0; p < 3; ++p)
      for (std::size_t b = 0; b < 4; ++b) {
        const xt::xarray<double> ctx_b = xt::view(context, b, xt::all());
        const xt::xarray<double> z_pb = xt::view(z, p, b, xt::all());
        const auto one = g.with_context(tape.constant(ctx_b))->forward_and_log_abs_det_jacobian(tape.constant(z_pb));
        require_close(xt::xarray<double>(xt::view(r.y.value(), p, b, xt::all())), xt::xarray<double>(one.y.value()),
                      1e-14);
        CHECK(r.log_abs_det_jacobian.value()(p, b) == Approx(one.log_abs_det_jacobian.item()).epsilon(1e-13));
      }
  }
}

TEST_CASE("InverseAutoregressiveFlow: at its initial parameters every element is scaled by sigmoid(gate_bias)",
          "[flows]") {
  ParameterStore<float> store(11);
  const InverseAutoregressiveFlow<float> f(store.scope("q"), "iaf", 4, {.gate_bias = 2.5f});
  Tape<float> tape;
  const xt::xarray<float> z = {{0.5f, -1.0f, 2.0f, 3.0f}, {0.0f, 1.0f, -2.0f, 0.25f}};
  const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(z));
  const float sigma = 1.0f / (1.0f + std::exp(-2.5f));
  require_close(xt::xarray<double>(xt::cast<double>(r.y.value())), xt::xarray<double>(xt::cast<double>(z * sigma)),
                1e-6);
  CHECK(r.log_abs_det_jacobian.value()(0) == Approx(4 * std::log(sigma)).epsilon(1e-6));
}

TEST_CASE("InverseAutoregressiveFlow: float agrees with double; the float inverse has finite gradients", "[flows]") {
  ParameterStore<double> store_d;
  ParameterStore<float> store_f;
  const InverseAutoregressiveFlow<double> fd(store_d.scope("q"), "iaf", 3, {.hidden = {4, 4}});
  const InverseAutoregressiveFlow<float> ff(store_f.scope("q"), "iaf", 3, {.hidden = {4, 4}});
  iaf_randomise(store_d, 12);
  flow_copy_parameters(store_d, store_f);
  flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, 8));
  flow_check_float_inverse_gradient(ff);
}

TEST_CASE("InverseAutoregressiveFlow: the detached copy gives the same values and no gradient to the parameters",
          "[flows]") {
  ParameterStore<double> store;
  const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", 3, {.context_dim = 2});
  iaf_randomise(store, 13);
  Tape<double> tape;
  const Var<double> context = tape.variable(random_array({2, 2}, -1.0, 1.0, 1));
  const Var<double> x = tape.variable(random_array({2, 3}, -1.0, 1.0, 2));
  const auto live = f.with_context(context);
  const auto detached = live->with_detached_parameters();
  CHECK_FALSE(live->parameters_detached());
  CHECK(detached->parameters_detached());
  const auto a = live->forward_and_log_abs_det_jacobian(x);
  const auto b = detached->forward_and_log_abs_det_jacobian(x);
  require_close(b.y.value(), a.y.value(), 0.0);
  require_close(b.log_abs_det_jacobian.value(), a.log_abs_det_jacobian.value(), 0.0);
  store.zero_grad();
  tape.backward(sum(b.y) + sum(b.log_abs_det_jacobian) + sum(detached->inverse(x)));
  for (const auto& p : store)
    for (std::size_t i = 0; i < p->size; ++i) CHECK(p->grad[i] == 0.0);
  CHECK(xt::all(xt::equal(context.grad(), 0.0)));  // the context is read detached too
  CHECK(xt::any(xt::not_equal(x.grad(), 0.0)));    // but z keeps its gradient
}

TEST_CASE("InverseAutoregressiveFlow: errors name the flow and what was wrong", "[flows]") {
  ParameterStore<double> store;
  const InverseAutoregressiveFlow<double> f(store.scope("q"), "iaf", 3);
  flow_check_shape_errors(f, "InverseAutoregressiveFlow(q/iaf)");
  CHECK_THROWS_AS(InverseAutoregressiveFlow<double>(store.scope("q"), "narrow", 4, {.hidden = {2}}), ArgumentError);
  CHECK_THROWS_WITH(InverseAutoregressiveFlow<double>(store.scope("q"), "narrow", 4, {.hidden = {5, 2}}),
                    "InverseAutoregressiveFlow(q/narrow): a hidden layer of width 2 cannot carry all D - 1 = 3 orders "
                    "of a D = 4 MADE (expected widths >= D - 1)");
  CHECK_THROWS_WITH(InverseAutoregressiveFlow<double>(store.scope("q"), "zero", 1, {.hidden = {0}}),
                    "InverseAutoregressiveFlow(q/zero): a hidden layer of width 0 cannot carry all D - 1 = 0 orders "
                    "of a D = 1 MADE (expected widths >= D - 1)");
  CHECK_THROWS_WITH(InverseAutoregressiveFlow<double>(store.scope("q"), "none", 0),
                    "InverseAutoregressiveFlow(q/none): the dimension must be at least 1, got 0");
  Tape<double> tape;
  CHECK_THROWS_WITH(f.with_context(tape.zeros({2, 2})),
                    "InverseAutoregressiveFlow(q/iaf).with_context: the flow was built without a context "
                    "(context_dim = 0)");
  const InverseAutoregressiveFlow<double> g(store.scope("q"), "ctx", 3, {.context_dim = 4});
  CHECK_THROWS_AS(g.forward(tape.zeros({2, 3})), ArgumentError);
  CHECK_THROWS_WITH(g.forward(tape.zeros({2, 3})),
                    "InverseAutoregressiveFlow(q/ctx): the flow reads a context of width 4; bind one first with "
                    "with_context(h)");
  CHECK_THROWS_AS(g.with_context(tape.zeros({2, 3})), ShapeError);
  CHECK_THROWS_WITH(g.with_context(tape.zeros({2, 3})),
                    "InverseAutoregressiveFlow(q/ctx).with_context: the context has shape [2, 3], expected [..., 4] "
                    "(context_dim)");
}
