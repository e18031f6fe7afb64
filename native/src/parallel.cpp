#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "blas_symbols.h"

namespace mec4j {

namespace {

// Waits until done() holds: first by spinning for up to kSpinTime, then asleep on `cv` (under
// `mutex`, whose holders notify it). An idle virtual CPU took 10-60 us to wake (a parallel_for
// right after 200 us of serial work cost up to 60 us, 2-core KVM guest), which a layer of 0.2 ms
// on two threads paid at each of its parallel steps; the spin keeps a worker awake across them,
// and short enough not to hold a core from the BLAS's or another runtime's threads for long.
// The BLAS's threads are about to run (rest_workers): spinning workers go to sleep at once.
constexpr std::chrono::microseconds kSpinTime{100};
std::atomic<bool> rest_requested{false};

template <typename Done>
void spin_then_wait(std::mutex& mutex, std::condition_variable& cv, Done done, bool may_rest) {
  const auto until = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 1; !done(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((may_rest && rest_requested.load(std::memory_order_relaxed)) ||
        (i % 64 == 0 && std::chrono::steady_clock::now() > until)) {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, done);
      return;
    }
  }
}

// Workers spin briefly, then sleep on a condition variable between jobs.
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
      pending_.store(threads - 1);
      rest_requested.store(false, std::memory_order_relaxed);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    chunk(0);
    spin_then_wait(
        mutex_, done_, [&] { return pending_.load() == 0; }, false);
    body_ = nullptr;
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1);
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
      const uint64_t start = generation_.load();  // jobs from here on are this worker's to see
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
      spin_then_wait(
          mutex_, wake_, [&] { return generation_.load() != seen; }, true);
      // The job's fields were written under mutex_ before generation_ moved: taking it orders them.
      std::unique_lock<std::mutex> lock(mutex_);
      seen = generation_.load();
      if (stop_) return;
      if (index >= chunks_) continue;  // this job needs fewer threads
      lock.unlock();
      chunk(index);
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> done_lock(mutex_);  // not between run's check and its sleep
        done_.notify_one();
      }
    }
  }

  std::mutex call_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const RangeBody* body_ = nullptr;
  int64_t count_ = 0;
  int chunks_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void rest_workers() { rest_requested.store(true, std::memory_order_relaxed); }

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
