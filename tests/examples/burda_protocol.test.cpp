// The schedule of Burda et al.'s protocol (examples/iwae/burda_protocol.hpp): 3^i epochs at
// 0.001 * 10^(-i/7), i = 0 .. 7, 3280 epochs in all.
#include <catch2/catch.hpp>

#include "../../examples/iwae/burda_protocol.hpp"

namespace burda = vaelib::examples::burda;

TEST_CASE("burda protocol: 3^i epochs per stage, 3280 in all, learning rate 0.001 * 10^(-i/7)", "[examples]") {
  std::size_t epochs_in_stage[burda::stages] = {};
  for (std::size_t e = 1; e <= burda::total_epochs; ++e) ++epochs_in_stage[burda::stage_of_epoch(e)];
  std::size_t expected = 1;
  for (std::size_t i = 0; i < burda::stages; ++i, expected *= 3) CHECK(epochs_in_stage[i] == expected);
  CHECK(burda::stage_of_epoch(1) == 0);
  CHECK(burda::stage_of_epoch(2) == 1);
  CHECK(burda::stage_of_epoch(4) == 1);
  CHECK(burda::stage_of_epoch(5) == 2);
  CHECK(burda::stage_of_epoch(1093) == 6);
  CHECK(burda::stage_of_epoch(1094) == 7);
  CHECK(burda::stage_of_epoch(3280) == 7);
  CHECK(burda::stage_of_epoch(5000) == 7);  // past the schedule: its last rate
  CHECK_THROWS_WITH(burda::stage_of_epoch(0), Catch::Contains("epochs count from 1"));
  CHECK(burda::learning_rate(0) == Approx(1e-3));
  CHECK(burda::learning_rate(7) == Approx(1e-4));  // 10^-1 after the last stage's step
  CHECK(burda::learning_rate(3) == Approx(1e-3 * std::pow(10.0, -3.0 / 7.0)));
  CHECK(burda::epoch_learning_rate(1) == Approx(1e-3));
  CHECK(burda::epoch_learning_rate(4) == Approx(burda::learning_rate(1)));
  CHECK(burda::epoch_learning_rate(14) == Approx(burda::learning_rate(3)));
  CHECK(burda::epoch_learning_rate(3280) == Approx(1e-4));
  CHECK(burda::describe_epoch(5) == "epoch 5: stage 2 of 0-7 (epochs 5-13), learning rate 0.000517947");
  CHECK(burda::describe_epoch(1) == "epoch 1: stage 0 of 0-7 (epochs 1-1), learning rate 0.001");
}
