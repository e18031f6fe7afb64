// Internal: the vector type of the micro-kernel templates (GCC vector extensions): VL floats, as
// one register of the ISA the including file is compiled for, with aligned and unaligned access.
#ifndef MEC4J_F32_VEC_H
#define MEC4J_F32_VEC_H

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
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
};

}  // namespace ukernel
}  // namespace mec4j
#endif
