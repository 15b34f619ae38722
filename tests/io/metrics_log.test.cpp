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

TEST_CASE("read_metrics: reads back what MetricsLog wrote, and names the line of anything else", "[io]") {
  const auto folder = scratch_folder("metrics_read");
  {
    io::MetricsLog log(folder / "m.jsonl", /*append=*/false);
    log.write({{"epoch", 1.0}, {"train_lower_bound", -120.5}, {"note", std::string("a \"quoted\"\nline\\")}});
    log.write({{"epoch", 2.0}, {"train_lower_bound", std::nan("")}, {"validation_lower_bound", -110.25}});
    log.write({{"summary", std::string("vae")}, {"epoch", 2.0}, {"test_lower_bound", -101.75}});
  }
  const auto records = io::read_metrics(folder / "m.jsonl");
  REQUIRE(records.size() == 3);
  CHECK(records[0].number("train_lower_bound") == -120.5);
  CHECK(std::get<std::string>(*records[0].find("note")) == "a \"quoted\"\nline\\");
  CHECK(std::isnan(*records[1].number("train_lower_bound")));  // written as null
  CHECK_FALSE(records[0].number("note"));                       // a string is not a number
  CHECK_FALSE(records[0].find("absent"));
  CHECK(io::metrics_column(records, "epoch") == std::vector<double>{1, 2});  // the summary line left out
  CHECK(io::metrics_column(records, "epoch", /*with_summaries=*/true) == std::vector<double>{1, 2, 2});
  CHECK(io::metrics_column(records, "validation_lower_bound") == std::vector<double>{-110.25});

  write_bytes(folder / "bad.jsonl", bytes_of({'{', '"', 'a', '"', ':', ' ', '1', '}', '\n', '\n', '{', '"', 'b', '"', ':', ' ', 'x', '}'}));
  CHECK_THROWS_WITH(io::read_metrics(folder / "bad.jsonl"),
                    Contains("bad.jsonl line 3, column 7: expected a number, a string or null"));
  write_bytes(folder / "cut.jsonl", bytes_of({'{', '"', 'a', '"', ':', ' ', '1'}));
  CHECK_THROWS_WITH(io::read_metrics(folder / "cut.jsonl"), Contains("cut.jsonl line 1, column 8: expected '}'"));
  CHECK_THROWS_WITH(io::read_metrics(folder / "none.jsonl"), Contains("read_metrics: cannot open"));
}

TEST_CASE("MetricsLog: errors say why (issue 20)", "[io]") {
  const auto folder = scratch_folder("metrics_errors");
  CHECK_THROWS_AS(io::MetricsLog(folder / "no" / "such" / "m.jsonl"), io::IoError);
  CHECK_THROWS_WITH(io::MetricsLog(folder / "no" / "such" / "m.jsonl"),
                    "MetricsLog: cannot open " + (folder / "no" / "such" / "m.jsonl").string() +
                        " for writing (No such file or directory)");
  CHECK_THROWS_WITH(io::MetricsLog(folder), Contains("for writing (Is a directory)"));
  if (std::filesystem::exists("/dev/full")) {  // a device that is always full
    io::MetricsLog full("/dev/full");
    CHECK_THROWS_WITH(full.write({{"epoch", 1.0}}), "MetricsLog: writing /dev/full failed (No space left on device)");
  }
}
