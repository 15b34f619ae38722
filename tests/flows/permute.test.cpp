#include "vaelib/flows/permute.hpp"

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// Whether p holds each of 0..p.size()-1 once.
bool permute_is_permutation(std::vector<std::size_t> p) {
  std::sort(p.begin(), p.end());
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] != i) return false;
  return true;
}

/// y = x[..., p] by hand, for x [n, D].
xt::xarray<double> permute_by_hand(const xt::xarray<double>& x, const std::vector<std::size_t>& p) {
  xt::xarray<double> y = x;
  for (std::size_t r = 0; r < x.shape()[0]; ++r)
    for (std::size_t i = 0; i < p.size(); ++i) y(r, i) = x(r, p[i]);
  return y;
}

}  // namespace

TEST_CASE("PermuteFlow: named after <scope>/<name>, no parameters, the reversal by default", "[flows]") {
  ParameterStore<double> store(3);
  const PermuteFlow<double> f(store.scope("q"), "perm0", 4);
  CHECK(f.name() == "PermuteFlow(q/perm0)");
  CHECK(f.dim() == 4);
  CHECK(store.size() == 0);
  CHECK(f.permutation() == std::vector<std::size_t>{3, 2, 1, 0});
  CHECK(f.inverse_permutation() == std::vector<std::size_t>{3, 2, 1, 0});
  CHECK(f.domain_event_rank() == 1);
  CHECK(f.codomain_event_rank() == 1);
  CHECK(f.codomain().kind() == SupportKind::real);
  CHECK(f.codomain().event_rank() == 1);
  CHECK(f.forward_shape({2, 5, 4}) == Shape{2, 5, 4});
  CHECK(f.inverse_shape({4}) == Shape{4});

  const PermuteFlow<double> one(store.scope("q"), "perm1", 1);  // D = 1: the identity
  CHECK(one.permutation() == std::vector<std::size_t>{0});
  Tape<double> tape;
  CHECK(one.forward(tape.constant(xt::xarray<double>{2.5})).value()(0) == 2.5);

  const PermuteFlow<double> given(store.scope("q"), "perm2", 4, {.permutation = {2, 0, 3, 1}});
  CHECK(given.permutation() == std::vector<std::size_t>{2, 0, 3, 1});
  CHECK(given.inverse_permutation() == std::vector<std::size_t>{1, 3, 0, 2});
  CHECK(store.size() == 0);
}

TEST_CASE("PermuteFlow: y_i = z_{p(i)} and z_j = y_{p^{-1}(j)} exactly, log|det J| = 0", "[flows]") {
  ParameterStore<double> store;
  const std::vector<PermuteFlowOptions> choices = {{}, {.permutation = {1, 4, 0, 2, 3}}, {.seed = 7}};
  for (const PermuteFlowOptions& options : choices) {
    const PermuteFlow<double> f(store.scope("q"), "perm", 5, options);
    INFO("p = " << xt::adapt(f.permutation()));
    REQUIRE(permute_is_permutation(f.permutation()));
    for (std::size_t i = 0; i < 5; ++i) CHECK(f.inverse_permutation()[f.permutation()[i]] == i);
    const xt::xarray<double> x = random_array({6, 5}, -3.0, 3.0, 1);
    Tape<double> tape;
    const auto r = f.forward_and_log_abs_det_jacobian(tape.constant(x));
    CHECK(xt::all(xt::equal(r.y.value(), permute_by_hand(x, f.permutation()))));
    CHECK(xt::all(xt::equal(f.forward(tape.constant(x)).value(), r.y.value())));
    REQUIRE(r.log_abs_det_jacobian.shape() == Shape{6});
    CHECK(xt::all(xt::equal(r.log_abs_det_jacobian.value(), 0.0)));
    CHECK(xt::all(xt::equal(f.inverse(tape.constant(x)).value(), permute_by_hand(x, f.inverse_permutation()))));
    // Round trips are exact: only copies.
    CHECK(xt::all(xt::equal(f.inverse(r.y).value(), x)));
    CHECK(xt::all(xt::equal(f.forward(f.inverse(tape.constant(x))).value(), x)));
    transform_check_round_trip(f, random_array({2, 3, 5}, -30.0, 30.0, 2), 0.0);
  }
}

TEST_CASE("PermuteFlow: the tape's Jacobian is the permutation matrix, log|det| 0, D = 1, 2, 3, 5", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5}) {
    for (std::uint64_t seed : {1u, 2u}) {
      ParameterStore<double> store;
      const PermuteFlow<double> f(store.scope("q"), "perm", dim, {.seed = seed});
      INFO("D = " << dim << ", p = " << xt::adapt(f.permutation()));
      const xt::xarray<double> x = random_array({dim}, -2.0, 2.0, 3);
      const xt::xarray<double> jacobian = flow_jacobian(f, x);
      for (std::size_t i = 0; i < dim; ++i)
        for (std::size_t j = 0; j < dim; ++j) CHECK(jacobian(i, j) == (j == f.permutation()[i] ? 1.0 : 0.0));
      transform_check_log_det(f, x, transform_first_entries(dim), 1e-15);
    }
  }
}

TEST_CASE("PermuteFlow: a seeded permutation is reproducible and uniform over the D! orders", "[flows]") {
  ParameterStore<double> store;
  const PermuteFlow<double> a(store.scope("q"), "a", 10, {.seed = 42});
  const PermuteFlow<double> b(store.scope("q"), "b", 10, {.seed = 42});
  CHECK(a.permutation() == b.permutation());
  CHECK(permute_is_permutation(a.permutation()));
  std::size_t differ = 0;
  for (std::uint64_t seed = 43; seed < 48; ++seed)
    differ += PermuteFlow<double>(store.scope("q"), "c", 10, {.seed = seed}).permutation() != a.permutation();
  CHECK(differ == 5);  // 5 draws of 10! orders: equal only with chance 1e-6
  // D = 3 over 6000 seeds: each of the 6 orders 1000 times, give or take 29 (one standard deviation).
  std::map<std::vector<std::size_t>, int> counts;
  for (std::uint64_t seed = 0; seed < 6000; ++seed)
    ++counts[PermuteFlow<double>(store.scope("q"), "d", 3, {.seed = seed}).permutation()];
  CHECK(counts.size() == 6);
  for (const auto& [p, count] : counts) {
    INFO("p = " << xt::adapt(p) << ": " << count << " times");
    CHECK(count > 850);
    CHECK(count < 1150);
  }
}

TEST_CASE("PermuteFlow: gradients in z by finite differences; log|det J| is a constant", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5}) {
    ParameterStore<double> store;
    const PermuteFlow<double> f(store.scope("q"), "perm", dim, {.seed = 5});
    const xt::xarray<double> x = random_array({2, dim}, -2.0, 2.0, 4);
    transform_check_gradients(f, x);
    require_gradient(
        [&](Tape<double>&, const Vars& in) {
          const auto r = f.forward_and_log_abs_det_jacobian(in[0]);
          return sum(r.y * in[0]) + sum(r.log_abs_det_jacobian);
        },
        {x});
    Tape<double> tape;
    const Var<double> xv = tape.variable(x);
    const auto r = f.forward_and_log_abs_det_jacobian(xv);
    CHECK(r.y.requires_grad());
    CHECK_FALSE(r.log_abs_det_jacobian.requires_grad());
  }
}

TEST_CASE("PermuteFlow: a [3, 4, D] batch equals its events one by one; log|det J| has shape [3, 4]", "[flows]") {
  for (std::size_t dim : {1, 2, 3, 5}) {
    ParameterStore<double> store;
    const PermuteFlow<double> f(store.scope("q"), "perm", dim, {.seed = 6});
    flow_check_batching(f, dim, 9);
  }
}

TEST_CASE("PermuteFlow: float agrees with double; with_detached_parameters is the same permutation", "[flows]") {
  ParameterStore<double> store_d;
  ParameterStore<float> store_f;
  const PermuteFlow<double> fd(store_d.scope("q"), "perm", 3, {.permutation = {1, 2, 0}});
  const PermuteFlow<float> ff(store_f.scope("q"), "perm", 3, {.permutation = {1, 2, 0}});
  flow_check_float_agrees(ff, fd, random_array({5, 3}, -2.0, 2.0, 7));
  flow_check_float_inverse_gradient(ff);

  const std::shared_ptr<const VectorFlow<double>> detached = fd.with_detached_parameters();
  CHECK(detached->parameters_detached());
  CHECK_FALSE(fd.parameters_detached());
  CHECK(detached->name() == fd.name());
  Tape<double> tape;
  const Var<double> x = tape.variable(random_array({4, 3}, -2.0, 2.0, 8));
  const Var<double> y = detached->forward(x);
  CHECK(xt::all(xt::equal(y.value(), fd.forward(x).value())));
  tape.backward(sum(y * tape.constant(xt::xarray<double>{1.0, 2.0, 3.0})));
  // dL/dx_j = weight of the output that reads x_j: y_i = x_{p(i)}, p = (1, 2, 0).
  CHECK(xt::all(xt::equal(xt::view(x.grad(), 0, xt::all()), xt::xarray<double>{3.0, 1.0, 2.0})));
}

TEST_CASE("PermuteFlow: errors name the flow, the bad entry and the size expected", "[flows]") {
  ParameterStore<double> store;
  const PermuteFlow<double> f(store.scope("q"), "perm0", 3);
  flow_check_shape_errors(f, "PermuteFlow(q/perm0)");

  CHECK_THROWS_AS(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 3, 1}}), ArgumentError);
  CHECK_THROWS_WITH(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 3, 1}}),
                    "PermuteFlow(q/bad): permutation entry 3 (at position 1) is out of range for vectors of size 3 "
                    "(expected each of 0..2 once)");
  CHECK_THROWS_AS(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {2, 0, 2}}), ArgumentError);
  CHECK_THROWS_WITH(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {2, 0, 2}}),
                    "PermuteFlow(q/bad): permutation entry 2 (at position 2) repeats the entry at position 0 "
                    "(expected each of 0..2 once)");
  CHECK_THROWS_AS(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 1}}), ArgumentError);
  CHECK_THROWS_WITH(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 1}}),
                    "PermuteFlow(q/bad): the permutation has 2 entries for vectors of size 3 (expected 3: each of "
                    "0..2 once)");
  CHECK_THROWS_AS(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 1, 2}, .seed = 1}),
                  ArgumentError);
  CHECK_THROWS_WITH(PermuteFlow<double>(store.scope("q"), "bad", 3, {.permutation = {0, 1, 2}, .seed = 1}),
                    "PermuteFlow(q/bad): both a permutation and a seed were given (expected one of them, or neither "
                    "for the reversal)");
  CHECK_THROWS_WITH(PermuteFlow<double>(store.scope("q"), "bad", 0),
                    "PermuteFlow(q/bad): the dimension must be at least 1, got 0");
  CHECK(store.size() == 0);
}
