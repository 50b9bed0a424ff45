// The CLI's MPI session: `mpirun -np R neuncut predict ...` shards the rows over R ranks
// (cmd_predict.cpp), `mpirun -np R neuncut fit ...` trains data-parallel (cmd_fit.cpp). MPI is optional at build time
// (NEUNCUT_WITH_MPI, Debian's libopenmpi-dev); the library itself never uses it. Without MPI, or in a process not
// started by an MPI launcher, every function here behaves as a single rank.
#pragma once

#include <cstddef>
#include <cstdint>

namespace neuncut::cli::mpi {

/// True when this binary was built with MPI.
bool built_with_mpi();

/// Starts MPI when the process was started by an MPI launcher (mpirun / mpiexec set
/// OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); otherwise does nothing, so a plain run never
/// touches MPI. Ended by the Session's destructor.
class Session {
 public:
  Session(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int rank();  ///< This process's rank (0 without MPI).
int size();  ///< Number of ranks (1 without MPI).

void barrier();
/// The largest `value` over all ranks (every rank gets it).
int max_over_ranks(int value);
double max_over_ranks(double value);
/// values[0, n) summed over all ranks, on every rank (in place).
void sum_over_ranks(double* values, std::size_t n);
/// Rank 0's `value`, on every rank.
std::uint64_t broadcast(std::uint64_t value);

}  // namespace neuncut::cli::mpi
