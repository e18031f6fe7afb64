// Internal: the f32 transpose micro-kernel: dst[j * ldd + i] = src[i * lds + j] for i < rows,
// j < cols, in blocks of VL x VL: VL rows loaded as vectors, transposed in registers in log2(VL)
// stages of two-source shuffles, stored as VL vectors (the edges element by element). One
// template (GCC/Clang vector extensions) instantiated per ISA in a file of its own, compiled with
// that ISA's flags (f32-transpose-<VL>x<VL>-<isa>.cpp), as f32_igemm.h.
#ifndef MEC4J_F32_TRANSPOSE_H
#define MEC4J_F32_TRANSPOSE_H

#include <cstdint>
#include <utility>

#include "f32_vec.h"

namespace mec4j {

using TransposeFn = void (*)(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd);

namespace ukernel {

template <int VL>
struct F32Transpose : F32Vec<VL> {
  using typename F32Vec<VL>::Vec;
  using F32Vec<VL>::load;
  using F32Vec<VL>::store;

  // Stage S swaps bit S of the row index with bit S of the lane index: rows i and i + S (bit S of
  // i clear) exchange the lanes where the two bits differ. All stages together transpose.
  template <int S, std::size_t... L>
  static Vec first_of_pair(Vec a, Vec b, std::index_sequence<L...>) {
    return __builtin_shufflevector(a, b, ((L & S) ? VL + L - S : L)...);
  }
  template <int S, std::size_t... L>
  static Vec second_of_pair(Vec a, Vec b, std::index_sequence<L...>) {
    return __builtin_shufflevector(a, b, ((L & S) ? VL + L : L + S)...);
  }
  template <int S>
  __attribute__((always_inline)) static inline void stage(Vec (&r)[VL]) {
    if constexpr (S >= 1) {
#pragma GCC unroll 16
      for (int i = 0; i < VL; ++i)
        if ((i & S) == 0) {
          const Vec a = r[i], b = r[i + S];
          r[i] = first_of_pair<S>(a, b, std::make_index_sequence<VL>{});
          r[i + S] = second_of_pair<S>(a, b, std::make_index_sequence<VL>{});
        }
      stage<S / 2>(r);
    }
  }

  static void run(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd) {
    const int64_t full_rows = rows / VL * VL, full_cols = cols / VL * VL;
    for (int64_t i0 = 0; i0 < full_rows; i0 += VL) {
      for (int64_t j0 = 0; j0 < full_cols; j0 += VL) {
        Vec r[VL];
#pragma GCC unroll 16
        for (int i = 0; i < VL; ++i) r[i] = load(src + (i0 + i) * lds + j0);
        stage<VL / 2>(r);
#pragma GCC unroll 16
        for (int l = 0; l < VL; ++l) store(dst + (j0 + l) * ldd + i0, r[l]);
      }
      for (int64_t j = full_cols; j < cols; ++j)
        for (int64_t i = i0; i < i0 + VL; ++i) dst[j * ldd + i] = src[i * lds + j];
    }
    for (int64_t i = full_rows; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) dst[j * ldd + i] = src[i * lds + j];
  }
};

}  // namespace ukernel
}  // namespace mec4j

#define MEC4J_DECLARE_F32_TRANSPOSE(name)                                                                  \
  namespace mec4j {                                                                                        \
  void name##_ukernel(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd); \
  }

#define MEC4J_DEFINE_F32_TRANSPOSE(name, VL)                                                                \
  namespace mec4j {                                                                                         \
  void name##_ukernel(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd) { \
    ukernel::F32Transpose<VL>::run(src, rows, cols, lds, dst, ldd);                                         \
  }                                                                                                         \
  }

#endif
