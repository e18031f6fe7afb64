// Test support shared by the native test programs: a CHECK that counts failures and goes on, and
// a buffer with GUARD floats of a sentinel on each side, to detect writes out of bounds.
#ifndef MEC4J_TESTS_TEST_SUPPORT_H
#define MEC4J_TESTS_TEST_SUPPORT_H

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "mec4j.h"

inline int failures = 0;
#define CHECK(cond, ...)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      ++failures;                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                            \
      std::fprintf(stderr, "\n");                                                   \
    }                                                                               \
  } while (0)

// A run under an ISA cap at or above the host's best ISA is the uncapped run again (the test
// named _best): it is skipped, with this exit code (ctest's SKIP_RETURN_CODE), saying why.
constexpr int SKIPPED = 77;
inline bool repeats_the_uncapped_run(mec4j_isa cap, const char* program) {
  const mec4j_isa host = mec4j_get_host_isa();
  if (cap == MEC4J_ISA_BEST || cap < host) return false;
  std::printf("%s: skipped: the cap %s is at or above this host's best ISA (%s), which the uncapped run tests\n",
              program, mec4j_isa_name(cap), mec4j_isa_name(host));
  return true;
}
// The same for the cap that MEC4J_MAX_ISA sets (none if unset or misspelt).
inline bool repeats_the_uncapped_run(const char* program) {
  mec4j_isa cap;
  return mec4j_get_max_isa(&cap) == MEC4J_OK && repeats_the_uncapped_run(cap, program);
}

// A layer with the given sizes, strides and padding; every other field 0 (the defaults).
inline mec4j_conv2d conv(int64_t n, int64_t ih, int64_t iw, int64_t ic, int64_t kh, int64_t kw, int64_t kc, int64_t sh,
                         int64_t sw, int64_t pt = 0, int64_t pb = 0, int64_t pl = 0, int64_t pr = 0) {
  mec4j_conv2d c{};
  c.batch = n;
  c.in_height = ih;
  c.in_width = iw;
  c.in_channels = ic;
  c.kernel_height = kh;
  c.kernel_width = kw;
  c.out_channels = kc;
  c.stride_height = sh;
  c.stride_width = sw;
  c.pad_top = pt;
  c.pad_bottom = pb;
  c.pad_left = pl;
  c.pad_right = pr;
  return c;
}

constexpr int64_t GUARD = 64;
constexpr float SENTINEL = -12345.5f;

struct Guarded {
  std::vector<float> all;
  int64_t n, start;
  // data() is 64-byte aligned, as native buffers usually are (the GEMM's non-temporal stores need it).
  explicit Guarded(int64_t count) : all(count + 2 * GUARD + 16, SENTINEL), n(count), start(GUARD) {
    while (reinterpret_cast<uintptr_t>(all.data() + start) % 64 != 0) ++start;
  }
  float* data() { return all.data() + start; }
  bool guards_intact() const {
    for (int64_t i = 0; i < GUARD; ++i)
      if (std::memcmp(&all[start - GUARD + i], &SENTINEL, 4) || std::memcmp(&all[start + n + i], &SENTINEL, 4))
        return false;
    return true;
  }
};

#endif
