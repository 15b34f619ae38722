#pragma once
// A console reporter that also remembers each benchmark's time, so a program can print
// ratios of benchmarks measured in the same run (the only comparison these noisy, shared
// machines support). With repetitions it uses the median.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vaelib::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.str();
      const double seconds = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") m_median[name] = seconds;
      } else {
        m_last[name] = seconds;
      }
      for (const auto& [counter, value] : run.counters) m_counters[name + ":" + counter] = value;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  /// Seconds per iteration of a benchmark (median if repeated); negative if it did not run.
  double seconds(const std::string& name) const {
    if (auto it = m_median.find(name); it != m_median.end()) return it->second;
    if (auto it = m_last.find(name); it != m_last.end()) return it->second;
    return -1;
  }

  double counter(const std::string& name, const std::string& counter) const {
    auto it = m_counters.find(name + ":" + counter);
    return it == m_counters.end() ? -1 : it->second;
  }

 private:
  std::map<std::string, double> m_median, m_last, m_counters;
};

inline void print_ratio(const RatioReporter& r, const std::string& label, const std::string& numerator,
                        const std::string& denominator) {
  const double a = r.seconds(numerator);
  const double b = r.seconds(denominator);
  if (a > 0 && b > 0) std::printf("RATIO %-40s %.3f   (%s / %s)\n", label.c_str(), a / b, numerator.c_str(), denominator.c_str());
}

/// Rounds of `steps` calls of `baseline` then `steps` calls of `measured`; the median of the
/// per-round time ratios measured / baseline is robust to the machine's load drifting during
/// the run (both sides of a round see the same load).
template <class Baseline, class Measured>
double alternating_ratio(int rounds, int steps, Baseline&& baseline, Measured&& measured) {
  std::vector<double> ratios;
  for (int round = 0; round < rounds; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) baseline();
    const auto t1 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) measured();
    const auto t2 = std::chrono::steady_clock::now();
    ratios.push_back(std::chrono::duration<double>(t2 - t1).count() / std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(ratios.begin(), ratios.end());
  return ratios[ratios.size() / 2];
}

/// Takes --alternating-rounds=N out of argv (before Google Benchmark sees it): N, or `fallback`
/// when absent; nothing (after a message naming `program`) when N is not a whole number >= 0.
inline std::optional<int> take_alternating_rounds(int& argc, char** argv, const char* program, int fallback = 21) {
  const std::string_view flag = "--alternating-rounds=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(flag)) continue;
    const std::string_view value = arg.substr(flag.size());
    int rounds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), rounds);
    if (error != std::errc() || end != value.data() + value.size() || rounds < 0) {
      std::fprintf(stderr, "%s: --alternating-rounds takes a whole number >= 0, not '%s'\n", program,
                   std::string(value).c_str());
      return std::nullopt;
    }
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    return rounds;
  }
  return fallback;
}

}  // namespace vaelib::bench
