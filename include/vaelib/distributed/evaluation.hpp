#pragma once
// Evaluation split over ranks: an importance-sampled or AIS log-likelihood with k = 5000 over
// a test set is one independent estimate per image, so each rank takes its share of the images
// (Communicator::share) and the ranks' sums meet in one reduction at the end.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "vaelib/distributed/communicator.hpp"

namespace vaelib::distributed {

/// A per-item metric summed over items: its mean and the standard error of that mean.
struct ItemSums {
  double sum = 0, sum_of_squares = 0;
  double count = 0;
  double mean() const { return sum / count; }
  /// sqrt(sample variance / count); 0 for fewer than two items.
  double standard_error() const {
    if (count < 2) return 0;
    const double m = mean();
    const double variance = std::max(0.0, (sum_of_squares - count * m * m) / (count - 1));
    return std::sqrt(variance / count);
  }
  void add(double value) {
    sum += value;
    sum_of_squares += value * value;
    count += 1;
  }
};

/// Items [0, n) split over the ranks: `evaluate(share, sums)` adds the metric of each item of
/// this rank's share to `sums` (ItemSums::add); the ranks' sums are added in one allreduce and
/// every rank returns the whole.
template <class Evaluate>
ItemSums evaluate_split(const Communicator& comm, std::size_t n, Evaluate&& evaluate) {
  ItemSums sums;
  evaluate(comm.share(n), sums);
  double all[3] = {sums.sum, sums.sum_of_squares, sums.count};
  comm.sum_in_place(all, 3, "evaluate_split: adding the ranks' sums");
  return {all[0], all[1], all[2]};
}

}  // namespace vaelib::distributed
