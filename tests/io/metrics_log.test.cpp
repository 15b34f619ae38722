#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("MetricsLog: one JSON object per line, appended", "[io]") {
  const auto folder = scratch_folder("metrics");
  {
    io::MetricsLog log(folder / "m.jsonl", /*append=*/false);
    log.write({{"epoch", 1.0}, {"lower_bound", -98.25}, {"note", std::string("a \"quoted\"\nline")}});
  }
  {
    io::MetricsLog log(folder / "m.jsonl");
    log.write({{"epoch", 2.0}, {"lower_bound", std::nan("")}});
  }
  std::ifstream in(folder / "m.jsonl");
  std::string first, second, third;
  std::getline(in, first);
  std::getline(in, second);
  CHECK(first == R"({"epoch": 1, "lower_bound": -98.25, "note": "a \"quoted\"\u000aline"})");
  CHECK(second == R"({"epoch": 2, "lower_bound": null})");
  CHECK_FALSE(std::getline(in, third));
  CHECK_THROWS_WITH(io::MetricsLog(folder / "no" / "such" / "m.jsonl"), Contains("MetricsLog: cannot open"));
}
