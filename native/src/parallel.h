// Internal: a small persistent thread pool for splitting lowering and independent GEMMs, and
// control of the BLAS's own threads so that the two never oversubscribe the cores.
#ifndef MEC4J_PARALLEL_H
#define MEC4J_PARALLEL_H

#include <cstdint>
#include <functional>

namespace mec4j {

// Threads mec4j may use: the loaded BLAS's thread count (it follows Blas.setThreads /
// OPENBLAS_NUM_THREADS / MKL_NUM_THREADS), at least 1.
int available_threads();

// Runs body(begin, end) over [0, count) split into at most `threads` contiguous chunks, one per
// thread, the caller's thread included. Returns when all are done. Exceptions are not allowed in
// body (the core does not throw once running).
void parallel_for(int64_t count, int threads, const std::function<void(int64_t, int64_t)>& body);

// While alive, BLAS calls made from this thread run single-threaded (thread-local setting in
// MKL; for OpenBLAS a process-wide count, see parallel.cpp); restores it afterwards.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

}  // namespace mec4j
#endif
