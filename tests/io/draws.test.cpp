#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/mcmc.hpp"
#include "vaelib/io/draws.hpp"

using namespace vaelib;

namespace {

mcmc::Samples draws_test_samples() {
  mcmc::SampleOptions o;
  o.chains = 2;
  o.warmup = 100;
  o.draws = 50;
  o.seed = 5;
  return mcmc::sample([] { return testing::McmcIndependentGaussian::standard(3); }, mcmc::Nuts(), o);
}

std::vector<std::string> draws_test_split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
  return cells;
}

}  // namespace

TEST_CASE("io::write_draws_csv: CmdStan's columns, a chain column, every double read back exactly") {
  const mcmc::Samples samples = draws_test_samples();
  const auto folder = testing::scratch_folder("draws_csv");
  io::write_draws_csv(folder / "draws.csv", samples);
  std::ifstream in(folder / "draws.csv");
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line ==
        "chain,draw,lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,q[1],q[2],q[3]");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = draws_test_split(line);
    REQUIRE(cells.size() == 12);
    const std::size_t c = std::stoul(cells[0]) - 1, i = std::stoul(cells[1]) - 1;
    REQUIRE(c == rows / 50);
    REQUIRE(i == rows % 50);
    CHECK(std::stod(cells[2]) == samples.log_density[c * 50 + i]);
    CHECK(std::stod(cells[4]) == samples.info[c][i].step_size);
    CHECK(std::stoi(cells[6]) == samples.info[c][i].n_leapfrog);
    for (std::size_t q = 0; q < 3; ++q) CHECK(std::stod(cells[9 + q]) == samples(c, i, q));
    ++rows;
  }
  CHECK(rows == 100);
  CHECK_THROWS_AS(io::write_draws_csv(folder / "no_such_folder" / "draws.csv", samples), io::IoError);
}

TEST_CASE("io::save_draws_npz: draws [chains, draws, quantities], the sampler's columns and the names") {
  const mcmc::Samples samples = draws_test_samples();
  const auto folder = testing::scratch_folder("draws_npz");
  io::save_draws_npz(folder / "draws.npz", samples);
  const io::NpzArchive archive = io::load_npz(folder / "draws.npz", /*require_integrity=*/true);
  const io::NpyArray* draws = archive.find("draws");
  REQUIRE(draws != nullptr);
  CHECK(draws->dtype == "<f8");
  CHECK(draws->shape == Shape{2, 50, 3});
  std::vector<double> values(draws->data.size() / sizeof(double));
  std::memcpy(values.data(), draws->data.data(), draws->data.size());
  CHECK(values == samples.values);
  for (const char* name : {"lp", "accept_stat", "step_size", "tree_depth", "n_leapfrog", "divergent", "energy"}) {
    INFO(name);
    REQUIRE(archive.find(name) != nullptr);
    CHECK(archive.find(name)->shape == Shape{2, 50});
  }
  const io::NpyArray* names = archive.find("names");
  REQUIRE(names != nullptr);
  CHECK(std::string(reinterpret_cast<const char*>(names->data.data()), names->data.size()) == "q[1]\nq[2]\nq[3]");
}
