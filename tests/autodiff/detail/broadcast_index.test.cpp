#include "vaelib/autodiff/detail/broadcast_index.hpp"

#include <tuple>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("broadcast_index: matches xtensor's broadcasting element by element", "[detail]") {
  const std::vector<std::pair<Shape, Shape>> cases{
      {{2, 3}, {2, 3}},    {{2, 3}, {3}},          {{2, 3}, {2, 1}},       {{2, 3}, {}},
      {{4, 2, 3}, {2, 1}}, {{4, 2, 3}, {4, 1, 3}}, {{4, 1, 3}, {1, 1, 3}}, {{5}, {1}},
  };
  for (const auto& [out, in] : cases) {
    INFO("out " << to_string(out) << ", in " << to_string(in));
    xt::xarray<double> source = xt::empty<double>(in);
    for (std::size_t i = 0; i < source.size(); ++i) source.data()[i] = static_cast<double>(i);
    const xt::xarray<double> expanded = xt::broadcast(source, out);
    for (std::size_t i = 0; i < expanded.size(); ++i) {
      CHECK(detail::broadcast_source_index(i, out, in) == static_cast<std::size_t>(expanded.data()[i]));
    }
  }
}

TEST_CASE("broadcast_index: over leading (batch) axes only", "[detail]") {
  // out [4, 2 | 3, 3] against in [2 | 3, 3] and [4, 1 | 5, 5]: only the batch axes count
  const Shape out{4, 2, 3, 3};
  const Shape in{2, 3, 3};
  const Shape other{4, 1, 5, 5};
  for (std::size_t q = 0; q < 8; ++q) {
    CHECK(detail::broadcast_source_index(q, out, 2, in, 1) == q % 2);
    CHECK(detail::broadcast_source_index(q, out, 2, other, 2) == q / 2);
  }
}

TEST_CASE("broadcast_index: repeats_along_leading_axes holds exactly when the index is i mod size(in)",
          "[detail]") {
  const std::vector<std::tuple<Shape, Shape, bool>> cases{
      {{2, 3}, {2, 3}, true},          {{2, 3}, {3}, true},          {{2, 3}, {}, true},
      {{2, 3}, {1}, true},             {{4, 2, 3}, {1, 2, 3}, true}, {{4, 2, 3}, {1, 1, 2, 3}, true},
      {{2, 3}, {2, 1}, false},         {{4, 2, 3}, {4, 1, 3}, false}, {{4, 2, 3}, {2, 1}, false},
      {{4, 1, 3}, {1, 1, 3}, true},    {{5}, {1}, true},             {{3}, {2, 3}, false},
  };
  for (const auto& [out, in, expected] : cases) {
    INFO("out " << to_string(out) << ", in " << to_string(in));
    CHECK(detail::repeats_along_leading_axes(in, out) == expected);
    if (!expected || in.size() > out.size()) continue;
    const std::size_t period = shape_size(in);
    for (std::size_t i = 0; i < shape_size(out); ++i) CHECK(detail::broadcast_source_index(i, out, in) == i % period);
  }
}
