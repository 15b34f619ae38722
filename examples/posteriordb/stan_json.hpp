#pragma once
// Reading a posteriordb folder: Stan's JSON data (data.json: numbers, arrays and matrices as
// nested lists, row-major) into arrays of doubles, and reference.json's summaries. JSON is
// read with nlohmann::json (Debian's nlohmann-json3-dev) here in the example only: the library
// itself does not depend on it.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vaelib/autodiff.hpp>
#include <vaelib/error.hpp>
#include <vector>

namespace vaelib::examples::posteriordb {

/// A Stan data set: each variable as an array of doubles of its shape ([] for a number, [N] for
/// an array or vector, [N, K] for a matrix); integers are exact in double.
using StanData = std::map<std::string, xt::xarray<double>, std::less<>>;

/// One quantity of reference.json.
struct ReferenceQuantity {
  std::string name;  // Stan's name: "theta[1]", "sigma"
  double mean = 0, sd = 0, mcse_mean = 0, q05 = 0, q50 = 0, q95 = 0;
};

/// reference.json: the posterior's name and its quantities' summaries.
struct Reference {
  std::string posterior;
  std::string source;
  std::vector<ReferenceQuantity> quantities;
};

namespace detail {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ArgumentError("posteriordb: cannot open " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ArgumentError("posteriordb: " + path.string() + " is not valid JSON: " + e.what());
  }
}

// The shape of a nested list (from its first elements) and its numbers in row-major order;
// ArgumentError for a ragged list or a value that is not a number.
inline void flatten_stan_value(const nlohmann::json& value, std::size_t depth, Shape& shape, std::vector<double>& out,
                               const std::string& where) {
  if (value.is_number()) {
    if (depth != shape.size()) throw ArgumentError(where + ": a ragged array (a number where a list was expected)");
    out.push_back(value.get<double>());
    return;
  }
  if (!value.is_array()) throw ArgumentError(where + ": expected a number or a list, got " + value.dump());
  if (depth == shape.size()) {
    if (!out.empty()) throw ArgumentError(where + ": a ragged array (a list where a number was expected)");
    shape.push_back(value.size());
  } else if (shape[depth] != value.size()) {
    throw ArgumentError(where + ": a ragged array (lists of lengths " + std::to_string(shape[depth]) + " and " +
                        std::to_string(value.size()) + " on axis " + std::to_string(depth) + ")");
  }
  for (const auto& element : value) flatten_stan_value(element, depth + 1, shape, out, where);
}

}  // namespace detail

/// Every variable of a Stan JSON data file.
inline StanData read_stan_data(const std::filesystem::path& path) {
  const nlohmann::json json = detail::read_json_file(path);
  if (!json.is_object()) throw ArgumentError("posteriordb: " + path.string() + ": expected a JSON object of variables");
  StanData data;
  for (const auto& [name, value] : json.items()) {
    Shape shape;
    std::vector<double> numbers;
    detail::flatten_stan_value(value, 0, shape, numbers, path.string() + ", variable '" + name + "'");
    // An empty list has no element to show further axes: it is [0].
    xt::xarray<double> array = xt::zeros<double>(shape);
    std::copy(numbers.begin(), numbers.end(), array.begin());
    data.emplace(name, std::move(array));
  }
  return data;
}

/// reference.json of a posterior folder.
inline Reference read_reference(const std::filesystem::path& path) {
  const nlohmann::json json = detail::read_json_file(path);
  Reference reference;
  try {
    reference.posterior = json.value("posterior", "");
    reference.source = json.value("source", "");
    for (const auto& q : json.at("parameters")) {
      reference.quantities.push_back({q.at("name").get<std::string>(), q.at("mean").get<double>(),
                                      q.at("sd").get<double>(), q.at("mcse_mean").get<double>(), q.value("q05", 0.0),
                                      q.value("q50", 0.0), q.value("q95", 0.0)});
    }
  } catch (const nlohmann::json::exception& e) {
    throw ArgumentError("posteriordb: " + path.string() + " is not a reference.json (" + e.what() + ")");
  }
  return reference;
}

}  // namespace vaelib::examples::posteriordb
