#pragma once
// MetricsLog: training metrics as JSON lines, one object per line and flushed at once, so a
// run that is killed keeps every line it wrote and the file stays readable by pandas, jq
// or a plotting script. read_metrics reads such a file back (a resumed run plots every
// epoch from it); metrics_column picks one field.

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
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
      : m_path(path), m_out((errno = 0, path), append ? std::ios::app : std::ios::trunc) {
    if (!m_out) throw IoError("MetricsLog: cannot open " + path.string() + " for writing (" + reason() + ")");
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
    errno = 0;
    m_out << line;
    m_out.flush();
    if (!m_out) throw IoError("MetricsLog: writing " + m_path.string() + " failed (" + reason() + ")");
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
  /// Why the last open or write failed: the system's reason (errno), e.g. "No such file or
  /// directory" or "No space left on device".
  static std::string reason() {
    const int e = errno;
    return e != 0 ? std::string(std::strerror(e)) : std::string("the stream reported an error");
  }

  std::filesystem::path m_path;
  std::ofstream m_out;
};

/// One line of a metrics file: its fields in order; a JSON null (a NaN or infinity written
/// by MetricsLog) reads as NaN.
struct MetricsRecord {
  std::vector<MetricsLog::Field> fields;

  /// The field `key`, if the line has it.
  const MetricsLog::Value* find(std::string_view key) const {
    for (const auto& [name, value] : fields)
      if (name == key) return &value;
    return nullptr;
  }
  /// The number `key`, if the line has it as a number (or null).
  std::optional<double> number(std::string_view key) const {
    const MetricsLog::Value* v = find(key);
    if (!v || !std::holds_alternative<double>(*v)) return std::nullopt;
    return std::get<double>(*v);
  }
};

namespace detail {

/// Parses one line as MetricsLog writes it: a flat object of strings, numbers and nulls.
class MetricsLineParser {
 public:
  MetricsLineParser(std::string_view line, const std::string& where) : m_line(line), m_where(where) {}

  MetricsRecord parse() {
    MetricsRecord record;
    expect('{');
    skip_space();
    if (peek() == '}') return finish(record);
    for (;;) {
      skip_space();
      std::string key = string();
      skip_space();
      expect(':');
      skip_space();
      if (peek() == '"') {
        record.fields.emplace_back(std::move(key), string());
      } else if (m_line.substr(m_at, 4) == "null") {
        m_at += 4;
        record.fields.emplace_back(std::move(key), std::nan(""));
      } else {
        record.fields.emplace_back(std::move(key), number());
      }
      skip_space();
      if (peek() == ',') {
        ++m_at;
        continue;
      }
      return finish(record);
    }
  }

 private:
  MetricsRecord finish(MetricsRecord& record) {
    expect('}');
    skip_space();
    if (m_at != m_line.size()) fail("text after the closing '}'");
    return std::move(record);
  }
  char peek() const { return m_at < m_line.size() ? m_line[m_at] : '\0'; }
  void skip_space() {
    while (m_at < m_line.size() && (m_line[m_at] == ' ' || m_line[m_at] == '\t' || m_line[m_at] == '\r')) ++m_at;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++m_at;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (m_at < m_line.size() && m_line[m_at] != '"') {
      char c = m_line[m_at++];
      if (c == '\\') {
        if (m_at >= m_line.size()) break;
        c = m_line[m_at++];
        if (c == 'u') {  // MetricsLog writes control characters as \u00XX
          if (m_at + 4 > m_line.size()) fail("a cut \\u escape");
          c = static_cast<char>(std::stoi(std::string(m_line.substr(m_at, 4)), nullptr, 16));
          m_at += 4;
        } else if (c == 'n') {
          c = '\n';
        } else if (c == 't') {
          c = '\t';
        }
      }
      out += c;
    }
    expect('"');
    return out;
  }
  double number() {
    const std::string rest(m_line.substr(m_at));
    char* end = nullptr;
    const double value = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) fail("expected a number, a string or null");
    m_at += static_cast<std::size_t>(end - rest.c_str());
    return value;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError("read_metrics: " + m_where + ", column " + std::to_string(m_at + 1) + ": " + what +
                  " (not a line MetricsLog writes)");
  }

  std::string_view m_line;
  std::string m_where;
  std::size_t m_at = 0;
};

}  // namespace detail

/// Every line of a metrics file written by MetricsLog (empty lines skipped). Throws IoError
/// naming the file, line and column of anything else.
inline std::vector<MetricsRecord> read_metrics(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("read_metrics: cannot open " + path.string());
  std::vector<MetricsRecord> records;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    records.push_back(detail::MetricsLineParser(line, path.string() + " line " + std::to_string(number)).parse());
  }
  return records;
}

/// The values of number field `key`, in file order, from the lines that have it (lines with
/// a "summary" field, the end-of-run reports, are left out unless `with_summaries`).
inline std::vector<double> metrics_column(const std::vector<MetricsRecord>& records, std::string_view key,
                                          bool with_summaries = false) {
  std::vector<double> out;
  for (const MetricsRecord& r : records) {
    if (!with_summaries && r.find("summary")) continue;
    if (const auto v = r.number(key)) out.push_back(*v);
  }
  return out;
}

}  // namespace vaelib::io
