// Test support shared by the native test programs: a CHECK that counts failures and goes on, and
// a buffer with GUARD floats of a sentinel on each side, to detect writes out of bounds.
#ifndef MEC4J_TESTS_TEST_SUPPORT_H
#define MEC4J_TESTS_TEST_SUPPORT_H

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

inline int failures = 0;
#define CHECK(cond, ...)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      ++failures;                                                                    \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                             \
      std::fprintf(stderr, "\n");                                                    \
    }                                                                                \
  } while (0)

constexpr int64_t GUARD = 64;
constexpr float SENTINEL = -12345.5f;

struct Guarded {
  std::vector<float> all;
  int64_t n;
  explicit Guarded(int64_t count) : all(count + 2 * GUARD, SENTINEL), n(count) {}
  float* data() { return all.data() + GUARD; }
  bool guards_intact() const {
    for (int64_t i = 0; i < GUARD; ++i)
      if (std::memcmp(&all[i], &SENTINEL, 4) || std::memcmp(&all[GUARD + n + i], &SENTINEL, 4)) return false;
    return true;
  }
};

#endif
