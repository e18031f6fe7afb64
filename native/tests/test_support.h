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

// The workspace `a` needs for c, in bytes, or -1 when refused.
inline int64_t ws_bytes(const mec4j_conv2d& c, mec4j_algorithm a) {
  int64_t b = -1;
  mec4j_status st = mec4j_workspace_size(&c, a, &b);
  return st == MEC4J_OK ? b : -1;
}

// MEC's whole lowering (no workspace cap), in bytes.
inline int64_t whole_mec_bytes(const mec4j_conv2d& c) {
  mec4j_conv2d uncapped = c;
  uncapped.mec_workspace_limit = -1;
  return ws_bytes(uncapped, MEC4J_ALGORITHM_MEC_FUSED);
}

inline const char* describe(const mec4j_conv2d& c) {
  static char text[256];
  std::snprintf(text, sizeof text,
                "n%lld ih%lld iw%lld ic%lld k%lldx%lld kc%lld s%lldx%lld pad%lld,%lld,%lld,%lld g%lld d%lldx%lld limit "
                "%lld act%d "
                "[%g,%g]",
                (long long)c.batch, (long long)c.in_height, (long long)c.in_width, (long long)c.in_channels,
                (long long)c.kernel_height, (long long)c.kernel_width, (long long)c.out_channels,
                (long long)c.stride_height, (long long)c.stride_width, (long long)c.pad_top, (long long)c.pad_bottom,
                (long long)c.pad_left, (long long)c.pad_right, (long long)c.groups, (long long)c.dilation_height,
                (long long)c.dilation_width, (long long)c.mec_workspace_limit, (int)c.activation, c.activation_min,
                c.activation_max);
  return text;
}

inline mec4j_conv2d grouped_conv(mec4j_conv2d c, int64_t groups, int64_t dilation) {
  c.groups = groups;
  c.dilation_height = c.dilation_width = dilation;
  return c;
}

// The i-th random layer of the random-shape tests, from r(lo, hi) (a uniform integer): a batch up
// to 3, kernels up to 5x5, padding up to two beyond the kernel (outputs that see only zeros);
// every fourth case grouped (depthwise among them), every fifth dilated. The input's height and
// width are left 0: the caller sizes them for the kernel's extent.
template <typename Random>
mec4j_conv2d random_conv(Random& r, int i) {
  const int64_t kh = r(1, 5), kw = r(1, 5);
  mec4j_conv2d c = conv(r(1, 3), 0, 0, r(1, 5), kh, kw, r(1, 6), r(1, 4), r(1, 4), r(0, kh + 1), r(0, kh + 1),
                        r(0, kw + 1), r(0, kw + 1));
  if (i % 4 == 3) {
    const int64_t g = r(2, 4);
    c.groups = g;
    c.in_channels = g * (i % 8 == 3 ? 1 : r(1, 3));
    c.out_channels = g * r(1, 3);
  }
  if (i % 5 == 2) {
    c.dilation_height = r(1, 3);
    c.dilation_width = r(1, 3);
  }
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
