#pragma once
// MetricsLog: training metrics as JSON lines, one object per line and flushed at once, so a
// run that is killed keeps every line it wrote and the file stays readable by pandas, jq
// or a plotting script.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "vaelib/io/atomic_file.hpp"

namespace vaelib::io {

class MetricsLog {
 public:
  using Value = std::variant<double, std::string>;
  using Field = std::pair<std::string, Value>;

  /// Opens `path` for appending (a resumed run continues the same file), or truncates it.
  explicit MetricsLog(const std::filesystem::path& path, bool append = true)
      : m_path(path), m_out(path, append ? std::ios::app : std::ios::trunc) {
    if (!m_out) throw IoError("MetricsLog: cannot open " + path.string() + " for writing");
  }

  /// Writes {"name": value, ...} as one line.
  void write(const std::vector<Field>& fields) {
    std::string line = "{";
    for (std::size_t i = 0; i < fields.size(); ++i) {
      line += (i ? ", " : "") + quote(fields[i].first) + ": ";
      if (const double* d = std::get_if<double>(&fields[i].second)) {
        if (!std::isfinite(*d)) {
          line += "null";  // JSON has no NaN or infinity
        } else {
          char buffer[32];
          std::snprintf(buffer, sizeof buffer, "%.10g", *d);
          line += buffer;
        }
      } else {
        line += quote(std::get<std::string>(fields[i].second));
      }
    }
    line += "}\n";
    m_out << line;
    m_out.flush();
    if (!m_out) throw IoError("MetricsLog: writing " + m_path.string() + " failed");
  }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
        out += buffer;
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

 private:
  std::filesystem::path m_path;
  std::ofstream m_out;
};

}  // namespace vaelib::io
