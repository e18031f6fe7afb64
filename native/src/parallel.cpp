#include "parallel.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "blas_symbols.h"

namespace mec4j {

namespace {

// Workers sleep on a condition variable between jobs (no spinning that would steal a core from
// the BLAS's threads).
class Pool {
 public:
  void run(int threads, int64_t count, const RangeBody& body) {
    std::unique_lock<std::mutex> call(call_mutex_);  // one parallel job at a time
    threads = ensure(threads - 1) + 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      count_ = count;
      chunks_ = threads;
      pending_ = threads - 1;
      ++generation_;
    }
    wake_.notify_all();
    chunk(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    body_ = nullptr;
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void chunk(int index) {
    int64_t begin = count_ * index / chunks_, end = count_ * (index + 1) / chunks_;
    if (begin < end) (*body_)(begin, end);
  }

  // Grows the pool to `workers` threads if it can; returns how many it has, at most `workers`.
  // A thread that cannot be created (no memory, or a system limit) is not an error: the job
  // runs on fewer threads, with the same result.
  int ensure(int workers) {
    while ((int)workers_.size() < workers) {
      int index = (int)workers_.size() + 1;
      uint64_t start;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        start = generation_;  // jobs from here on are this worker's to see
      }
      try {
        workers_.emplace_back([this, index, start] { loop(index, start); });
      } catch (...) {
        break;
      }
    }
    return std::min(workers, (int)workers_.size());
  }

  void loop(int index, uint64_t seen) {
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
      if (index >= chunks_) continue;  // this job needs fewer threads
      lock.unlock();
      chunk(index);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex call_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const RangeBody* body_ = nullptr;
  int64_t count_ = 0;
  int chunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

int available_threads() {
  const auto& a = blas_symbols();
  int n = a.mkl_get_max ? a.mkl_get_max() : a.ob_get ? a.ob_get() : 1;
  return n < 1 ? 1 : n;
}

void parallel_for(int64_t count, int threads, RangeBody body) {
  if (count <= 0) return;
  if (threads > count) threads = (int)count;
  if (threads <= 1) {
    body(0, count);
    return;
  }
  pool().run(threads, count, body);
}

// MKL's setting is truly per thread. OpenBLAS's openblas_set_num_threads_local changes the global
// count (seen here: concurrent save/restore pairs left it at 1, halving later GEMMs), so for
// OpenBLAS the global count is set to 1 while any SingleThreadedBlas is alive and restored by
// the last one to go. Other calls running meanwhile also get one thread: slower, never wrong.
namespace {
std::mutex openblas_mutex;
int openblas_users = 0, openblas_saved = 0;
}  // namespace

SingleThreadedBlas::SingleThreadedBlas() : previous_(-1) {
  const auto& a = blas_symbols();
  if (a.mkl_set_local) {
    previous_ = a.mkl_set_local(1);
  } else if (a.ob_get && a.ob_set) {
    std::lock_guard<std::mutex> lock(openblas_mutex);
    if (openblas_users++ == 0) {
      openblas_saved = a.ob_get();
      a.ob_set(1);
    }
  }
}

SingleThreadedBlas::~SingleThreadedBlas() {
  const auto& a = blas_symbols();
  if (a.mkl_set_local) {
    a.mkl_set_local(previous_ < 0 ? 0 : previous_);  // 0: back to the global setting
  } else if (a.ob_get && a.ob_set) {
    std::lock_guard<std::mutex> lock(openblas_mutex);
    if (--openblas_users == 0) a.ob_set(openblas_saved);
  }
}

}  // namespace mec4j
