#include "support/gradients.hpp"

#include <vector>

using namespace vaelib;

namespace {

/// Counts live objects, to see the cache make, keep and destroy them.
struct CountedState {
  static inline int live = 0;
  std::vector<int> data;
  int value = 0;
  CountedState() { ++live; }
  ~CountedState() { --live; }
  CountedState(const CountedState&) = delete;
  CountedState& operator=(const CountedState&) = delete;
};

struct OtherState {
  double x = 0;
};

}  // namespace

TEST_CASE("op_cache: one object per type, made on first use, kept, replaced by another type", "[op_cache]") {
  REQUIRE(CountedState::live == 0);
  {
    detail::OpCache cache;
    CHECK(cache.empty());
    CHECK(cache.find<CountedState>() == nullptr);
    CountedState& s = cache.get<CountedState>();
    CHECK(CountedState::live == 1);
    CHECK(s.value == 0);  // value-initialised
    s.value = 7;
    CHECK(&cache.get<CountedState>() == &s);  // the same object again
    CHECK(cache.find<CountedState>() == &s);
    CHECK(cache.find<OtherState>() == nullptr);
    const detail::OpCache& read_only = cache;
    CHECK(read_only.find<CountedState>()->value == 7);
    OtherState& o = cache.get<OtherState>();  // another type replaces it
    CHECK(CountedState::live == 0);
    CHECK(o.x == 0);
    CHECK(cache.find<CountedState>() == nullptr);
    cache.get<CountedState>();
    CHECK(CountedState::live == 1);
    cache.reset();
    CHECK(cache.empty());
    CHECK(CountedState::live == 0);
    cache.get<CountedState>();
  }
  CHECK(CountedState::live == 0);  // destroyed with the cache
}

TEST_CASE("op_cache: a tape record keeps its op's object across clear()", "[op_cache]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{1.0, 2.0});
  const auto y = tape.make_node("user_op", x.shape(), {x});
  OtherState& first = op_cache<OtherState>(tape.node(y));
  first.x = 2.5;
  tape.clear();
  const auto x2 = tape.constant(xt::xarray<double>{3.0, 4.0});
  const auto y2 = tape.make_node("user_op", x2.shape(), {x2});
  REQUIRE(y2.index() == y.index());  // the same record, recorded again
  OtherState& again = op_cache<OtherState>(tape.node(y2));
  CHECK(&again == &first);
  CHECK(again.x == 2.5);
}
