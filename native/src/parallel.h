// Internal: a small persistent thread pool for splitting lowering and independent GEMMs, and
// control of the BLAS's own threads so that the two never oversubscribe the cores.
#ifndef MEC4J_PARALLEL_H
#define MEC4J_PARALLEL_H

#include <cstdint>
#include <type_traits>
#include <utility>

namespace mec4j {

// Threads mec4j may use: the loaded BLAS's thread count (it follows Blas.setThreads /
// OPENBLAS_NUM_THREADS / MKL_NUM_THREADS), at least 1.
int available_threads();

// A reference to a callable body(begin, end), valid while the callable lives. Not std::function:
// that allocates for most lambdas, and an allocation that fails halfway through a convolution
// would leave its output partly written (every allocation happens before the first output write).
class RangeBody {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeBody>>>
  RangeBody(F&& f)  // NOLINT: implicit, as std::function's
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, int64_t begin, int64_t end) { (*static_cast<std::remove_reference_t<F>*>(o))(begin, end); }) {
  }
  void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, int64_t, int64_t);
};

// Runs body(begin, end) over [0, count) split into at most `threads` contiguous chunks, one per
// thread, the caller's thread included: chunk i of `threads` runs on the same thread at every call
// (chunk 0 on the caller's), so that a later call finds the data an earlier one wrote with the
// same split in that core's caches. Returns when all are done. Allocates nothing that can
// fail: if the pool cannot grow to `threads`, fewer run. Exceptions are not allowed in body (the
// core does not throw once running).
void parallel_for(int64_t count, int threads, RangeBody body);

// Makes the pool's idle workers, which spin for a moment after each job, sleep at once: called
// before the BLAS's own threads run, so that the two never compete for the cores.
void rest_workers();

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
