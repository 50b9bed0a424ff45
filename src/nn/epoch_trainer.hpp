// PRIVATE header: the epoch loop shared by the network trainers (NeuNcut, SpectralNet).
//
// What every trainer does the same way lives here: each epoch draws a permutation of the
// training rows from the fit's seeded generator (one rng.permutation call per epoch, nothing
// else: the call sequence is part of what makes a seed reproducible), gathers consecutive
// mini-batches of it (the incomplete last batch is dropped; it is drawn in other epochs),
// times the epochs, estimates the time left, records the epoch and lets the caller stop.
// What differs is the method: how an epoch starts (learning rate, gamma), the step on one
// batch, and how an epoch ends (averages, collapse guard, divergence check). The method is a
// template parameter, so the step is called directly (inlined), with no indirection per batch.
#pragma once

#include <vector>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/timing.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// The training rows and how they are cut into batches.
struct EpochPlan {
  Index batch_rows = 0;  ///< rows per mini-batch (<= the training rows)
  Index batches = 0;     ///< mini-batches per epoch
  int epochs = 0;        ///< epochs to run
  int threads = 1;       ///< threads of the batch gather
  int rank = 0;          ///< data-parallel training: this rank takes batches rank, rank + ranks, ...
  int ranks = 1;         ///< of batches / ranks rounds (the remainder is dropped); 1: every batch
};

/// Runs plan.epochs epochs over the rows of `train`. Method provides:
///   using Stats = ...;                       // epoch record with epoch, epochs, elapsed_seconds, eta_seconds
///   Stats begin_epoch(int epoch);            // 0-based; sets the record's rates
///   void step(const MatrixF& batch, const Index* rows, Stats&);  // one mini-batch and the rows of
///                                            // `train` it holds (batch.rows() of them)
///   void end_epoch(Stats&);                  // averages; throws on divergence
/// Each finished epoch is appended to `history` and passed to `progress` (if set); progress
/// returning false throws Interrupted. Returns the wall time of the epochs in seconds.
template <class Method, class Progress>
double run_epochs(Method& method, const MatrixF& train, const EpochPlan& plan, Rng& rng,
                  std::vector<typename Method::Stats>& history, const Progress& progress) {
  const Index m = plan.batch_rows;
  MatrixF batch(m, train.cols());
  std::vector<Index> order;
  const auto start = Clock::now();
  auto elapsed = [&] { return seconds_since(start); };
  for (int epoch = 0; epoch < plan.epochs; ++epoch) {
    typename Method::Stats st = method.begin_epoch(epoch);
    st.epoch = epoch + 1;
    st.epochs = plan.epochs;
    order = rng.permutation(train.rows());
    for (Index round = 0; round < plan.batches / plan.ranks; ++round) {
      const Index s = round * plan.ranks + plan.rank;
      // Split over the threads: the gather copies m rows from all over the training set, a
      // visible share of a NeuNcut step. A copy is exact, so the split changes no value.
      parallel_blocks(m, plan.threads, [&](Index lo, Index hi) {
        for (Index i = lo; i < hi; ++i) batch.row(i) = train.row(order[std::size_t(s * m + i)]);
      });
      method.step(batch, order.data() + s * m, st);
    }
    method.end_epoch(st);
    st.elapsed_seconds = elapsed();
    st.eta_seconds = st.elapsed_seconds / double(epoch + 1) * double(plan.epochs - epoch - 1);
    history.push_back(st);
    if (progress && !progress(history.back()))
      throw Interrupted(concat("training stopped by the caller at epoch ", epoch + 1));
  }
  return elapsed();
}

}  // namespace neuncut::detail
