#pragma once
// Plots as PNG through gnuplot (Debian's gnuplot-nox), driven through a pipe: training
// curves (lines) and 2-D latent scatters coloured by class. gnuplot rather than a C++
// plotting library: it is packaged, scriptable, and draws proper axes, legends and fonts;
// see docs/data-and-images.md. The PNG is written to a temporary name and renamed into
// place, so a plot being replaced is never half-written.

#include <array>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vaelib/io/atomic_file.hpp"

namespace vaelib::io {

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::size_t width = 800, height = 560;
  bool legend = true;  // false: no key (e.g. a scatter of 30 mixture components)
};

/// One line of a line plot.
struct Series {
  std::string name;
  std::vector<double> x, y;
};

namespace detail {

/// Ten colours told apart easily (gnuplot's own cycle repeats after eight, so digits 0 and
/// 8 would share one).
inline constexpr std::array<const char*, 10> class_colours = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                              "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/// A gnuplot single-quoted string ('' stands for ').
inline std::string gnuplot_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

/// Runs `script` (which must draw into the file named by the variable `out`) and moves the
/// result to `path`.
inline void run_gnuplot(const std::filesystem::path& path, const PlotOptions& options, const std::string& body) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    throw IoError("plot " + path.string() + ": gnuplot is not installed (apt-get install gnuplot-nox)");
  }
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string stem = "." + path.filename().string() + ".tmp-" + std::to_string(::getpid());
  const std::filesystem::path temporary = folder / (stem + ".png"), errors = folder / (stem + ".err");
  std::ostringstream script;
  script << "set terminal pngcairo size " << options.width << "," << options.height << " font 'sans,11'\n"
         << "set output " << gnuplot_quote(temporary.string()) << "\n"
         << "set title " << gnuplot_quote(options.title) << "\n"
         << "set xlabel " << gnuplot_quote(options.x_label) << "\n"
         << "set ylabel " << gnuplot_quote(options.y_label) << "\n"
         << "set grid\n" << (options.legend ? "set key outside right top\n" : "set key off\n")
         << body << "set output\n";
  const std::string command = "gnuplot 2> '" + errors.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "w");
  if (!pipe) throw IoError("plot " + path.string() + ": cannot start gnuplot");
  const std::string text = script.str();
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = ::pclose(pipe);
  std::ifstream err_in(errors);
  const std::string message((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(errors);
  if (status != 0 || !std::filesystem::exists(temporary)) {
    std::filesystem::remove(temporary);
    throw IoError("plot " + path.string() + ": gnuplot failed: " + message);
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace detail

/// A line plot of several series (each x and y of equal length).
inline void plot_lines(const std::filesystem::path& path, const std::vector<Series>& series, const PlotOptions& options = {}) {
  if (series.empty()) throw ArgumentError("plot_lines: no series to plot");
  std::ostringstream body;
  body.precision(10);
  for (std::size_t s = 0; s < series.size(); ++s) {
    if (series[s].x.size() != series[s].y.size() || series[s].x.empty()) {
      throw ArgumentError("plot_lines: series '" + series[s].name + "' has " + std::to_string(series[s].x.size()) +
                          " x values and " + std::to_string(series[s].y.size()) + " y values (need equal, non-zero)");
    }
    body << "$series" << s << " << EOD\n";
    for (std::size_t i = 0; i < series[s].x.size(); ++i) body << series[s].x[i] << " " << series[s].y[i] << "\n";
    body << "EOD\n";
  }
  body << "plot ";
  for (std::size_t s = 0; s < series.size(); ++s) {
    body << (s ? ", " : "") << "$series" << s << " using 1:2 with linespoints pointsize 0.6 lw 2 title "
         << detail::gnuplot_quote(series[s].name);
  }
  body << "\n";
  detail::run_gnuplot(path, options, body.str());
}

/// A scatter plot of 2-D points coloured by integer class (e.g. the digit), with a legend.
inline void plot_scatter(const std::filesystem::path& path, const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<int>& classes, const PlotOptions& options = {}) {
  if (x.size() != y.size() || x.size() != classes.size() || x.empty()) {
    throw ArgumentError("plot_scatter: need as many x, y and classes (non-zero), got " + std::to_string(x.size()) + ", " +
                        std::to_string(y.size()) + ", " + std::to_string(classes.size()));
  }
  std::vector<int> distinct(classes);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::ostringstream body;
  body.precision(8);
  body << "$points << EOD\n";
  for (std::size_t i = 0; i < x.size(); ++i) body << x[i] << " " << y[i] << " " << classes[i] << "\n";
  body << "EOD\nset size ratio -1\nplot ";
  for (std::size_t c = 0; c < distinct.size(); ++c) {
    body << (c ? ", " : "") << "$points using 1:($3 == " << distinct[c] << " ? $2 : 1/0) with points pt 7 ps 0.4 lc ";
    if (distinct.size() <= detail::class_colours.size()) {
      body << "rgb '" << detail::class_colours[c] << "'";
    } else {
      body << c + 1;  // more classes than distinct colours: gnuplot's cycle
    }
    body << " title '" << distinct[c] << "'";
  }
  body << "\n";
  detail::run_gnuplot(path, options, body.str());
}

/// A histogram of `values` in `bins` equal bins over [low, high] (values outside are
/// counted in the end bins, infinities included). A NaN value has no bin: it is refused with
/// an ArgumentError naming its index (it once indexed far outside the counts).
inline void plot_histogram(const std::filesystem::path& path, const std::vector<double>& values, std::size_t bins,
                           double low, double high, const PlotOptions& options = {}) {
  if (values.empty() || bins == 0 || !(high > low) || !std::isfinite(low) || !std::isfinite(high)) {
    throw ArgumentError("plot_histogram: need values, at least one bin and finite low < high (got " +
                        std::to_string(values.size()) + " values, " + std::to_string(bins) + " bins, [" +
                        std::to_string(low) + ", " + std::to_string(high) + "])");
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      throw ArgumentError("plot_histogram: value " + std::to_string(i) + " of " + std::to_string(values.size()) +
                          " is NaN (a histogram has no bin for it)");
    }
  }
  std::vector<std::size_t> counts(bins, 0);
  const double width = (high - low) / static_cast<double>(bins);
  for (double v : values) {
    const double at = std::floor((v - low) / width);
    counts[static_cast<std::size_t>(std::clamp(at, 0.0, static_cast<double>(bins - 1)))]++;
  }
  std::ostringstream body;
  body.precision(10);
  body << "$bins << EOD\n";
  for (std::size_t b = 0; b < bins; ++b) body << low + (static_cast<double>(b) + 0.5) * width << " " << counts[b] << "\n";
  body << "EOD\nset style fill solid 0.6 border -1\nset boxwidth " << width * 0.95 << "\nset key off\n"
       << "plot $bins using 1:2 with boxes\n";
  detail::run_gnuplot(path, options, body.str());
}

}  // namespace vaelib::io
