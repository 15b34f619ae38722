#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

// gnuplot-nox is installed by cmake/setup-debian.sh; without it these tests fail.

TEST_CASE("plot_lines: a PNG training curve", "[io]") {
  const auto folder = scratch_folder("plot");
  io::Series train{"train", {}, {}}, test{"test's", {}, {}};  // a quote in a title must survive
  for (int e = 1; e <= 10; ++e) {
    train.x.push_back(e);
    train.y.push_back(-150 + 40 * (1 - std::exp(-e / 3.0)));
    test.x.push_back(e);
    test.y.push_back(-152 + 40 * (1 - std::exp(-e / 3.0)));
  }
  io::plot_lines(folder / "curve.png", {train, test}, {.title = "Lower bound", .x_label = "epoch", .y_label = "nats"});
  const io::GrayImage png = io::load_png(folder / "curve.png");
  CHECK(png.width == 800);
  CHECK(png.height == 560);
  const auto [lo, hi] = std::minmax_element(png.pixels.begin(), png.pixels.end());
  CHECK(*hi - *lo > 100);  // something was drawn
  CHECK_THROWS_WITH(io::plot_lines(folder / "x.png", {io::Series{"bad", {1, 2}, {1}}}),
                    Contains("series 'bad' has 2 x values and 1 y values"));
  CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("plot_scatter: points coloured by class", "[io]") {
  const auto folder = scratch_folder("scatter");
  std::vector<double> x, y;
  std::vector<int> c;
  Rng rng(1);
  for (int i = 0; i < 300; ++i) {
    c.push_back(i % 3);
    x.push_back(rng.normal<double>() + 3 * (i % 3));
    y.push_back(rng.normal<double>());
  }
  io::plot_scatter(folder / "s.png", x, y, c, {.title = "latent space", .x_label = "z1", .y_label = "z2", .width = 500, .height = 500});
  CHECK(io::load_png(folder / "s.png").width == 500);
  CHECK_THROWS_WITH(io::plot_scatter(folder / "t.png", x, y, {1}), Contains("need as many x, y and classes"));
  // without the key the plot area takes its place: the same size, other pixels
  io::plot_scatter(folder / "key.png", x, y, c, {.title = "keyed", .x_label = "", .y_label = "", .width = 500, .height = 500});
  io::plot_scatter(folder / "no_key.png", x, y, c, {.title = "keyed", .x_label = "", .y_label = "", .width = 500, .height = 500, .legend = false});
  const auto keyed = io::load_png(folder / "key.png"), unkeyed = io::load_png(folder / "no_key.png");
  CHECK(unkeyed.width == 500);
  CHECK(unkeyed.pixels != keyed.pixels);
}

TEST_CASE("plot_histogram: counts in equal bins", "[io]") {
  const auto folder = scratch_folder("histogram");
  std::vector<double> v;
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) v.push_back(rng.uniform<double>());
  io::plot_histogram(folder / "h.png", v, 20, 0.0, 1.0, {.title = "latent means", .x_label = "q(z = 1 | x)", .y_label = "count"});
  CHECK(io::load_png(folder / "h.png").height == 560);
  CHECK_THROWS_WITH(io::plot_histogram(folder / "x.png", v, 0, 0.0, 1.0), Contains("need values, at least one bin"));
}

TEST_CASE("plot_histogram: a NaN value or bound is refused, infinities go to the end bins (issue 20)", "[io]") {
  const auto folder = scratch_folder("histogram_nan");
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  // a NaN once indexed the counts at static_cast<size_t>(NaN) and corrupted the heap
  CHECK_THROWS_AS(io::plot_histogram(folder / "n.png", {0.5, nan}, 4, 0.0, 1.0), ArgumentError);
  CHECK_THROWS_WITH(io::plot_histogram(folder / "n.png", {0.5, nan}, 4, 0.0, 1.0),
                    "plot_histogram: value 1 of 2 is NaN (a histogram has no bin for it)");
  CHECK_FALSE(std::filesystem::exists(folder / "n.png"));
  CHECK_THROWS_WITH(io::plot_histogram(folder / "b.png", {0.5}, 4, -inf, 1.0), Contains("finite low < high"));
  CHECK_THROWS_WITH(io::plot_histogram(folder / "b.png", {0.5}, 4, 0.0, nan), Contains("finite low < high"));
  io::plot_histogram(folder / "i.png", {-inf, 0.5, inf}, 4, 0.0, 1.0);
  CHECK(std::filesystem::exists(folder / "i.png"));
}
