// Data-parallel training: R processes (ranks) run the same fit, each on its own share of every
// epoch's mini-batches, and after every step the gradients are averaged over the ranks, so each
// step sees R batches (neuncut fit under mpirun; the CLI implements `sum` with MPI_Allreduce,
// docs/mpi.md). Every rank draws the same training subset, initialization and batch order from
// the seed and applies the same averaged gradient, so the networks stay identical on all ranks.
// With one rank (the default) nothing is exchanged and training is the single-process one.
#pragma once

#include <cstddef>
#include <functional>

namespace neuncut {

struct DataParallel {
  int rank = 0;   ///< this process's rank, in [0, ranks)
  int ranks = 1;  ///< processes training together
  /// Replaces values[0, n) by their sum over all ranks, on every rank (an allreduce). Every rank
  /// calls it at the same points of training, equally often; needed when ranks > 1.
  std::function<void(double* values, std::size_t n)> sum;

  bool active() const { return ranks > 1; }
};

}  // namespace neuncut
