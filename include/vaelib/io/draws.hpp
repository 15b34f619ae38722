#pragma once
// MCMC draws to files, both written atomically (a reader never sees half a file):
//
//   write_draws_csv: one row per draw, all chains one after the other, columns
//     chain,draw,lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,
//     then one per quantity with Stan's names (theta[1], L[2,1]); chain and draw count from 1.
//     What CmdStan's output holds, so Stan's tools and posteriordb's checker read it.
//   save_draws_npz: NumPy arrays "draws" [chains, draws, quantities], "lp", "accept_stat",
//     "step_size", "tree_depth", "n_leapfrog", "divergent", "energy" [chains, draws], and the
//     quantity names as one '\n'-joined byte string "names".
//
// Numbers are printed with 17 significant digits: a double read back is the same double.

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/npz.hpp"
#include "vaelib/mcmc/sample.hpp"

namespace vaelib::io {

inline void write_draws_csv(const std::filesystem::path& path, const mcmc::Samples& samples) {
  std::string text = "chain,draw,lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__";
  for (const std::string& name : samples.names) text += "," + name;
  text += "\n";
  char number[32];
  auto put = [&](double v) {
    std::snprintf(number, sizeof number, "%.17g", v);
    text += ',';
    text += number;
  };
  for (std::size_t c = 0; c < samples.n_chains; ++c) {
    for (std::size_t i = 0; i < samples.n_draws; ++i) {
      const mcmc::TransitionInfo& t = samples.info[c][i];
      text += std::to_string(c + 1) + "," + std::to_string(i + 1);
      put(samples.log_density[c * samples.n_draws + i]);
      put(t.accept_stat);
      put(t.step_size);
      text += "," + std::to_string(t.tree_depth) + "," + std::to_string(t.n_leapfrog) + "," + (t.divergent ? "1" : "0");
      put(t.energy);
      for (std::size_t q = 0; q < samples.n_quantities(); ++q) put(samples(c, i, q));
      text += "\n";
    }
  }
  write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

inline void save_draws_npz(const std::filesystem::path& path, const mcmc::Samples& samples) {
  const Shape per_draw{samples.n_chains, samples.n_draws};
  NpzArchive archive;
  archive.add("draws", make_npy<double>({samples.n_chains, samples.n_draws, samples.n_quantities()}, samples.values));
  archive.add("lp", make_npy<double>(per_draw, samples.log_density));
  auto column = [&](const char* name, auto field) {
    std::vector<double> v;
    v.reserve(samples.n_chains * samples.n_draws);
    for (const auto& chain : samples.info)
      for (const mcmc::TransitionInfo& t : chain) v.push_back(static_cast<double>(field(t)));
    archive.add(name, make_npy<double>(per_draw, v));
  };
  column("accept_stat", [](const mcmc::TransitionInfo& t) { return t.accept_stat; });
  column("step_size", [](const mcmc::TransitionInfo& t) { return t.step_size; });
  column("tree_depth", [](const mcmc::TransitionInfo& t) { return t.tree_depth; });
  column("n_leapfrog", [](const mcmc::TransitionInfo& t) { return t.n_leapfrog; });
  column("divergent", [](const mcmc::TransitionInfo& t) { return t.divergent ? 1 : 0; });
  column("energy", [](const mcmc::TransitionInfo& t) { return t.energy; });
  std::string names;
  for (const std::string& n : samples.names) names += (names.empty() ? "" : "\n") + n;
  NpyArray names_array;
  names_array.dtype = "|S" + std::to_string(names.size());
  names_array.shape = {};
  names_array.data.resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) names_array.data[i] = static_cast<std::byte>(names[i]);
  archive.add("names", std::move(names_array));
  save_npz(path, archive);
}

}  // namespace vaelib::io
