// Test builds only (see fault_injection.h): a global operator new that fails on demand. It
// replaces every form, delete included, so that new and delete stay a matching pair (malloc/free
// underneath, which AddressSanitizer still tracks for leaks).
#include "fault_injection.h"

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define MEC4J_HAVE_SANITIZER_STACK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEC4J_HAVE_SANITIZER_STACK 1
#endif
#endif
#ifdef MEC4J_HAVE_SANITIZER_STACK
extern "C" void __sanitizer_print_stack_trace(void);
#endif

namespace {
std::atomic<int64_t> g_next{0};      // index of the next allocation
std::atomic<int64_t> g_fail_at{-1};  // first allocation to fail; < 0: none
std::atomic<bool> g_persistent{false};
std::atomic<int64_t> g_failed{0};
std::atomic<bool> g_other_exception{false};

// MEC4J_FAULT_TRACE=1 prints the stack of every allocation made to fail (sanitizer builds), to
// list the sites.
[[maybe_unused]] bool trace() {
  static const bool on = [] {
    const char* e = std::getenv("MEC4J_FAULT_TRACE");
    return e && *e == '1';
  }();
  return on;
}

void* allocate(std::size_t bytes, std::size_t align) {
  if (mec4j::allocation_fails()) return nullptr;
  if (bytes == 0) bytes = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(bytes);
  void* p = nullptr;
  return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
}

// Not std::runtime_error: its message would allocate, and fail again.
struct InjectedFault : std::exception {
  const char* what() const noexcept override { return "mec4j fault injection"; }
};

void* allocate_or_throw(std::size_t bytes, std::size_t align) {
  void* p = allocate(bytes, align);
  if (!p) {
    if (g_other_exception.load(std::memory_order_relaxed)) throw InjectedFault();
    throw std::bad_alloc();
  }
  return p;
}
}  // namespace

namespace mec4j {
bool allocation_fails() {
  const int64_t index = g_next.fetch_add(1, std::memory_order_relaxed);
  const int64_t at = g_fail_at.load(std::memory_order_relaxed);
  const bool fail = at >= 0 && (index == at || (index > at && g_persistent.load(std::memory_order_relaxed)));
  if (fail) {
    g_failed.fetch_add(1, std::memory_order_relaxed);
#ifdef MEC4J_HAVE_SANITIZER_STACK
    if (trace()) {
      std::fprintf(stderr, "mec4j fault injection: allocation %lld fails at\n", (long long)index);
      __sanitizer_print_stack_trace();
    }
#endif
  }
  return fail;
}
}  // namespace mec4j

extern "C" {
void mec4j_test_fail_allocation(int64_t nth, int persistent) {
  g_fail_at.store(-1);
  g_persistent.store(persistent != 0);
  g_next.store(0);
  g_failed.store(0);
  g_fail_at.store(nth);
}
void mec4j_test_fail_with_other_exception(int on) { g_other_exception.store(on != 0); }
int64_t mec4j_test_allocations(void) { return g_next.load(); }
int64_t mec4j_test_failed_allocations(void) { return g_failed.load(); }
}

void* operator new(std::size_t n) { return allocate_or_throw(n, 0); }
void* operator new[](std::size_t n) { return allocate_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_or_throw(n, (std::size_t)a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_or_throw(n, (std::size_t)a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, (std::size_t)a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, (std::size_t)a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
