// CPU detection and the max-ISA cap. The cap starts from MEC4J_MAX_ISA (read once, on first use)
// and mec4j_set_max_isa() replaces it; a cap above what the CPU has caps at what it has.
#include "isa.h"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <thread>

#include "env.h"

namespace mec4j {

namespace {

bool is_cap_here(int isa) {
  const std::vector<mec4j_isa>& levels = isa_levels();
  return isa == MEC4J_ISA_BEST || std::find(levels.begin(), levels.end(), isa) != levels.end();
}

// Another architecture's ISA (avx2 on aarch64) is refused as a misspelling is: it cannot run here.
int parse_cap(const char* text) {
  if (!text || !*text) return MEC4J_ISA_BEST;
  for (int isa : {MEC4J_ISA_PORTABLE, MEC4J_ISA_AVX2, MEC4J_ISA_AVX512, MEC4J_ISA_NEON, MEC4J_ISA_BEST})
    if (!strcasecmp(text, isa_name((mec4j_isa)isa))) return is_cap_here(isa) ? isa : EnvSetting::kMisspelt;
  return EnvSetting::kMisspelt;
}

EnvSetting g_cap{"MEC4J_MAX_ISA", parse_cap};

}  // namespace

const std::vector<mec4j_isa>& isa_levels() {
#if defined(__aarch64__)
  static const std::vector<mec4j_isa> levels = {MEC4J_ISA_PORTABLE, MEC4J_ISA_NEON};
#elif defined(__x86_64__)
  static const std::vector<mec4j_isa> levels = {MEC4J_ISA_PORTABLE, MEC4J_ISA_AVX2, MEC4J_ISA_AVX512};
#else
  static const std::vector<mec4j_isa> levels = {MEC4J_ISA_PORTABLE};
#endif
  return levels;
}

mec4j_isa host_isa() {
#if defined(__aarch64__)
  return MEC4J_ISA_NEON;  // Advanced SIMD is part of every AArch64 CPU (the base ABI passes floats in it)
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
  static const mec4j_isa isa = __builtin_cpu_supports("avx512f")                                 ? MEC4J_ISA_AVX512
                               : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? MEC4J_ISA_AVX2
                                                                                                 : MEC4J_ISA_PORTABLE;
  return isa;
#else
  return MEC4J_ISA_PORTABLE;
#endif
}

mec4j_status effective_isa(mec4j_isa* isa) {
  const int c = g_cap.get();
  if (c == EnvSetting::kMisspelt) return MEC4J_ERROR_BAD_ENVIRONMENT;
  const mec4j_isa host = host_isa();
  // Only this architecture's levels get here, and each architecture's are in increasing order.
  *isa = c == MEC4J_ISA_BEST || c > host ? host : (mec4j_isa)c;
  return MEC4J_OK;
}

namespace {
std::atomic<int64_t> g_l2_override{0};
}

int64_t l2_cache_bytes() {
  static const int64_t bytes = [] {
    const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return v > 0 ? (int64_t)v : (int64_t)512 << 10;
  }();
  const int64_t override = g_l2_override.load(std::memory_order_relaxed);
  return override > 0 ? override : bytes;
}

int64_t l1_data_cache_bytes() {
  static const int64_t bytes = [] {
    const long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return v > 0 ? (int64_t)v : (int64_t)32 << 10;
  }();
  return bytes;
}

void set_l2_cache_bytes_for_testing(int64_t bytes) { g_l2_override.store(bytes, std::memory_order_relaxed); }

int hardware_threads() {
  static const int n = [] {
    const unsigned v = std::thread::hardware_concurrency();
    return v > 0 ? (int)v : 1;
  }();
  return n;
}

mec4j_status set_max_isa(mec4j_isa isa) {
  if (!is_cap_here(isa)) return MEC4J_ERROR_INVALID_ARGUMENT;
  g_cap.set(isa);
  return MEC4J_OK;
}

mec4j_status max_isa(mec4j_isa* isa) {
  const int c = g_cap.get();
  if (c == EnvSetting::kMisspelt) return MEC4J_ERROR_BAD_ENVIRONMENT;
  *isa = (mec4j_isa)c;
  return MEC4J_OK;
}

const char* isa_name(mec4j_isa isa) {
  switch (isa) {
    case MEC4J_ISA_PORTABLE:
      return "portable";
    case MEC4J_ISA_AVX2:
      return "avx2";
    case MEC4J_ISA_AVX512:
      return "avx512";
    case MEC4J_ISA_BEST:
      return "best";
    case MEC4J_ISA_NEON:
      return "neon";
  }
  return "unknown";
}

}  // namespace mec4j
