// Internal: the vector type of the micro-kernel templates (GCC vector extensions): VL floats, as
// one register of the ISA the including file is compiled for, with aligned and unaligned access.
#ifndef MEC4J_F32_VEC_H
#define MEC4J_F32_VEC_H

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// clang's AddressSanitizer checks masked loads and stores lane by lane, which made the fuzzer's
// build of the unrolled depthwise windows take twice as long to compile: its builds take the
// lane-by-lane path (the same values; GCC's sanitizer build keeps the masked one).
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEC4J_NO_MASKED_ACCESS 1
#endif
#endif

namespace mec4j {
namespace ukernel {

template <int VL>
struct F32Vec {
  typedef float Vec __attribute__((vector_size(VL * sizeof(float))));
  typedef float UnalignedVec __attribute__((vector_size(VL * sizeof(float)), aligned(sizeof(float))));

  static Vec load(const float* p) { return *reinterpret_cast<const UnalignedVec*>(p); }
  static Vec load_aligned(const float* p) { return *reinterpret_cast<const Vec*>(p); }
  static void store(float* p, Vec v) { *reinterpret_cast<UnalignedVec*>(p) = v; }
  static Vec broadcast(float x) { return Vec{} + x; }
  // Lanes [0, n) of p (0 < n <= VL), the others zero; lanes past n are not read. Masked loads
  // and stores where the ISA has them (they do not fault on the masked lanes), lane by lane
  // through memory elsewhere.
  static Vec load_partial(const float* p, int n) {
#if defined(__AVX512F__) && !defined(MEC4J_NO_MASKED_ACCESS)
    if constexpr (VL == 16) return (Vec)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#endif
#if defined(__AVX2__) && !defined(MEC4J_NO_MASKED_ACCESS)
    if constexpr (VL == 8) return (Vec)_mm256_maskload_ps(p, lanes_below(n));
#endif
    alignas(64) float t[VL] = {};
    for (int l = 0; l < n; ++l) t[l] = p[l];
    return load_aligned(t);
  }
  static void store_partial(float* p, Vec v, int n) {
#if defined(__AVX512F__) && !defined(MEC4J_NO_MASKED_ACCESS)
    if constexpr (VL == 16) {
      _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
      return;
    }
#endif
#if defined(__AVX2__) && !defined(MEC4J_NO_MASKED_ACCESS)
    if constexpr (VL == 8) {
      _mm256_maskstore_ps(p, lanes_below(n), (__m256)v);
      return;
    }
#endif
    alignas(64) float t[VL];
    *reinterpret_cast<Vec*>(t) = v;
    for (int l = 0; l < n; ++l) p[l] = t[l];
  }
  // min(max(v, lo), hi) as std::min/std::max compute it lane by lane (a NaN stays NaN): one
  // vmaxps and one vminps on x86.
  static Vec clamp(Vec v, Vec lo, Vec hi) {
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
  }
  // A non-temporal store (p aligned to the vector, or to 64 bytes): the line is written without
  // being read first, and not kept in the caches. Weakly ordered: the writer fences (igemm.cpp).
  static void stream(float* p, Vec v) {
#if defined(__AVX512F__)
    if constexpr (VL == 16) {
      _mm512_stream_ps(p, (__m512)v);
      return;
    }
#endif
#if defined(__AVX__)
    if constexpr (VL % 8 == 0) {
      for (int h = 0; h < VL / 8; ++h)
        _mm256_stream_ps(p + 8 * h, _mm256_loadu_ps(reinterpret_cast<const float*>(&v) + 8 * h));
      return;
    }
#endif
    store(p, v);  // narrower tiles never stream (igemm.cpp: nr a multiple of 16)
  }

 private:
#if defined(__AVX2__) && !defined(MEC4J_NO_MASKED_ACCESS)
  static __m256i lanes_below(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
#endif
};

}  // namespace ukernel
}  // namespace mec4j
#endif
