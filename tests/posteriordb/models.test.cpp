// The posteriordb models of examples/posteriordb/models.hpp against the same targets written
// independently from the Stan programs with scipy (tests/posteriordb/reference_log_density.py,
// its output reference_log_density.json): at three points per posterior, vaelib's
// unconstrained coordinates are Stan's, the log densities on the reals (Jacobians included)
// agree up to an additive constant, the reported quantities (transformed parameters included)
// agree, and the gradients agree with central differences.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../../examples/posteriordb/models.hpp"

namespace posteriordb_models = vaelib::examples::posteriordb;

namespace {

const std::string posteriordb_folder = std::string(VAELIB_SOURCE_DIR) + "/tests/posteriordb";

nlohmann::json posteriordb_reference_points() {
  return posteriordb_models::detail::read_json_file(posteriordb_folder + "/reference_log_density.json")
      .at("posteriors");
}

// The natural values of the latents, by name, as ModelDensity::unconstrain takes them.
std::map<std::string, xt::xarray<double>, std::less<>> posteriordb_values(const nlohmann::json& values) {
  std::map<std::string, xt::xarray<double>, std::less<>> out;
  for (const auto& [name, v] : values.items()) {
    if (v.is_number()) {
      out.emplace(name, xt::xarray<double>(v.get<double>()));
    } else {
      const std::vector<double> numbers = v.get<std::vector<double>>();
      out.emplace(name, xt::adapt(numbers, {numbers.size()}));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("posteriordb models: every posterior of tests/posteriordb has a model and a reference", "[posteriordb]") {
  const nlohmann::json points = posteriordb_reference_points();
  CHECK(points.size() == posteriordb_models::posteriors().size());
  for (const auto& entry : posteriordb_models::posteriors()) {
    INFO(entry.name);
    CHECK(points.contains(entry.name));
    const auto reference =
        posteriordb_models::read_reference(posteriordb_folder + "/" + entry.name + "/reference.json");
    CHECK(reference.posterior == entry.name);
  }
  CHECK_THROWS_WITH(posteriordb_models::find_posterior("eight_schools"),
                    Catch::Matchers::StartsWith("posteriordb: no posterior named 'eight_schools' (known: arK-arK, "));
}

TEST_CASE(
    "posteriordb models: log densities, quantities and gradients against the scipy versions of the Stan "
    "programs",
    "[posteriordb]") {
  const nlohmann::json all_points = posteriordb_reference_points();
  for (const auto& entry : posteriordb_models::posteriors()) {
    DYNAMIC_SECTION(entry.name) {
      const posteriordb_models::StanData data =
          posteriordb_models::read_stan_data(posteriordb_folder + "/" + entry.name + "/data.json");
      const posteriordb_models::PosteriorModel model = entry.make(data);
      auto density = posteriordb_models::make_density(model);
      const nlohmann::json& points = all_points.at(entry.name);
      const std::vector<std::string> names = density.quantity_names();

      std::vector<double> log_densities;
      for (std::size_t p = 0; p < points.size(); ++p) {
        INFO("point " << p);
        const nlohmann::json& point = points[p];
        // vaelib's transforms for these supports are Stan's (exp, the scaled logistic, the
        // ordered steps): the same coordinates.
        const std::vector<double> u = density.unconstrain(posteriordb_values(point.at("values")));
        const std::vector<double> stan_u = point.at("u").get<std::vector<double>>();
        REQUIRE(u.size() == stan_u.size());
        for (std::size_t i = 0; i < u.size(); ++i) {
          INFO("coordinate " << i);
          CHECK(u[i] == Approx(stan_u[i]).epsilon(1e-10).margin(1e-12));
        }

        std::vector<double> gradient(u.size());
        const double lp = density.log_density_and_gradient(u, gradient);
        log_densities.push_back(lp);
        if (p > 0) {
          const double expected = point.at("log_density_unconstrained").get<double>() -
                                  points[0].at("log_density_unconstrained").get<double>();
          CHECK(lp - log_densities[0] == Approx(expected).epsilon(1e-8).margin(1e-8 * std::max(1.0, std::abs(lp))));
        }

        const std::vector<double> q = density.quantities(u);
        for (const auto& [name, value] : point.at("quantities").items()) {
          INFO("quantity " << name);
          const auto at = std::find(names.begin(), names.end(), name);
          REQUIRE(at != names.end());
          CHECK(q[static_cast<std::size_t>(at - names.begin())] ==
                Approx(value.get<double>()).epsilon(1e-9).margin(1e-12));
        }

        for (std::size_t i = 0; i < u.size(); ++i) {
          const double h = 1e-5 * std::max(1.0, std::abs(u[i]));
          std::vector<double> up = u, down = u;
          up[i] += h;
          down[i] -= h;
          const double fd = (density.log_density(up) - density.log_density(down)) / (2 * h);
          INFO("gradient coordinate " << i);
          CHECK(gradient[i] == Approx(fd).epsilon(1e-5).margin(1e-6 * std::max(1.0, std::abs(lp))));
        }
      }
    }
  }
}
