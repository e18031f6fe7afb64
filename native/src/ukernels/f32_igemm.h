// Internal: the f32 indirect-GEMM micro-kernel (XNNPACK's igemm): A is never packed, each of its
// MR rows is read in place through a pointer (the row windows of MEC's row lowering, or the input
// itself), B (the convolution kernel) is packed in panels of NR columns.
//
// The kernel is one template over the tile (MR rows, NV vectors of VL floats) written with GCC
// vector extensions; each ISA instantiates it in a file of its own compiled with that ISA's flags
// (f32-igemm-<MR>x<NR>-<isa>.cpp), so one source gives the AVX-512, AVX2 and portable kernels.
#ifndef MEC4J_F32_IGEMM_H
#define MEC4J_F32_IGEMM_H

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "f32_vec.h"

namespace mec4j {

// A stretch of K inside one row window: A(i, k0 + t) = a[i][offset + t] for t < length.
struct Segment {
  int64_t offset, length;
};

// c[rows x cols] (row stride ldc) = (first ? bias or 0 : c) + A * B, K running over the segments,
// clamped to [clamp[0], clamp[1]] before the store when clamp is not null (the fused activation:
// given with the last K block only).
// a[i] is the base of A's row i; rows >= `rows` repeat a valid row (their results are dropped).
// b: B's K x NR panel, row k at b + k * ldb: a packed panel (ldb = NR, zero beyond `cols`), or the
// kernel read in place (ldb = its row length; full panels only, cols == NR). bias: NR floats or null.
using IgemmUkernelFn = void (*)(const float* const* a, const Segment* seg, int64_t nseg, const float* b, int64_t ldb,
                                float* c, int64_t ldc, int rows, int cols, bool first, const float* bias,
                                const float* clamp);
// The same for a full tile (rows == MR) whose row i starts at a0 + i * lda.
using IgemmStridedUkernelFn = void (*)(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,
                                       int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,
                                       const float* clamp);
// The weight-gradient form (dK = W^T * dO): c[rows x cols] = (first ? 0 : c) + sum over k of
// W(k, i) * B(k, :), where W(k, i) = w[k][col[i]]: step k reads one row of W (an output pixel's
// row windows, in place) at the tile's MR column offsets. rows >= `rows` repeat a valid offset.
using IgemmWtUkernelFn = void (*)(const float* const* w, const int64_t* col, int64_t kb, const float* b, float* c,
                                  int64_t ldc, int rows, int cols, bool first);
// panel[k][0..NR) = b[k * ldb + 0..cols), zero-padded to NR; rows K steps.
using PackPanelFn = void (*)(const float* b, int64_t ldb, int64_t rows, int cols, float* panel);

namespace ukernel {

template <int MR, int NV, int VL>
struct F32Igemm : F32Vec<VL> {
  static constexpr int NR = NV * VL;
  using typename F32Vec<VL>::Vec;
  using F32Vec<VL>::load;
  using F32Vec<VL>::load_aligned;
  using F32Vec<VL>::store;
  using F32Vec<VL>::stream;
  using F32Vec<VL>::load_partial;
  using F32Vec<VL>::store_partial;

  static void run(const float* const* a, const Segment* seg, int64_t nseg, const float* b, int64_t ldb, float* c,
                  int64_t ldc, int rows, int cols, bool first, const float* bias, const float* clamp) {
    tile<false, false>(a, nullptr, 0, seg, nseg, b, ldb, c, ldc, rows, cols, first, bias, clamp);
  }

  // The same for a full tile (rows == MR) whose rows lie lda floats apart from a0: the rows are
  // addressed from a few base registers (3 rows each, base + 0/1/2 * lda), so that the tile's
  // pointers do not spill out of the general registers as MR row pointers do (12 on AVX-512).
  static void run_strided(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b, int64_t ldb,
                          float* c, int64_t ldc, int cols, bool first, const float* bias, const float* clamp) {
    tile<true, false>(nullptr, a0, lda, seg, nseg, b, ldb, c, ldc, MR, cols, first, bias, clamp);
  }

  // The same storing C with non-temporal stores, for results that are final (the GEMM's only K
  // block) and too many to stay in the caches: no read of each line before it is written. Full
  // tiles (cols == NR) with every row of C aligned to 64 bytes only.
  static void run_strided_stream(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,
                                 int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,
                                 const float* clamp) {
    tile<true, true>(nullptr, a0, lda, seg, nseg, b, ldb, c, ldc, MR, cols, first, bias, clamp);
  }

  template <bool Strided, bool Stream>
  static void tile(const float* const* a, const float* a0, int64_t lda, const Segment* seg, int64_t nseg,
                   const float* b, int64_t ldb, float* c, int64_t ldc, int rows, int cols, bool first,
                   const float* bias, const float* clamp) {
    // An array that the fully unrolled loops below index with constants only, so that the
    // compiler keeps every element in a register (checked in the generated code).
    Vec acc[MR][NV];
    if (first) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const Vec init = bias ? load(bias + j * VL) : Vec{};
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) acc[i][j] = init;
      }
    } else {
      load_c(acc, c, ldc, rows, cols);
    }
    constexpr int kBases = (MR + 2) / 3;
    for (int64_t s = 0; s < nseg; ++s) {
      const int64_t off = seg[s].offset, len = seg[s].length;
      const float* ap[Strided ? kBases : MR];
      if constexpr (Strided) {
#pragma GCC unroll 8
        for (int g = 0; g < kBases; ++g) ap[g] = a0 + 3 * g * lda + off;
      } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) ap[i] = a[i] + off;
      }
#pragma GCC unroll 4
      for (int64_t k = 0; k < len; ++k) {
        Vec bv[NV];
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) bv[j] = load(b + j * VL);
        b += ldb;
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          // Broadcast by the scalar-vector product (one FMA with -ffp-contract=fast).
          const float x = Strided ? ap[i / 3][i % 3 * lda + k] : ap[i][k];
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j) acc[i][j] += x * bv[j];
        }
      }
    }
    if (clamp) {
      const Vec lo = F32Vec<VL>::broadcast(clamp[0]), hi = F32Vec<VL>::broadcast(clamp[1]);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = F32Vec<VL>::clamp(acc[i][j], lo, hi);
    }
    if constexpr (Stream) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) stream(c + i * ldc + j * VL, acc[i][j]);
      return;
    }
    store_c(acc, c, ldc, rows, cols);
  }

  static void run_wt(const float* const* w, const int64_t* col, int64_t kb, const float* b, float* c, int64_t ldc,
                     int rows, int cols, bool first) {
    Vec acc[MR][NV];
    if (first) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = Vec{};
    } else {
      load_c(acc, c, ldc, rows, cols);
    }
    int64_t off[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) off[i] = col[i];
#pragma GCC unroll 4
    for (int64_t k = 0; k < kb; ++k) {
      const float* row = w[k];
      Vec bv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) bv[j] = load(b + j * VL);
      b += NR;
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const float x = row[off[i]];
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] += x * bv[j];
      }
    }
    store_c(acc, c, ldc, rows, cols);
  }

  // acc = C's rows x cols, zero beyond. An edge tile (rows < MR or cols < NR) reads only its
  // elements: the vector across `cols` with a masked load (f32_vec.h), none past it.
  __attribute__((always_inline)) static inline void load_c(Vec (&acc)[MR][NV], const float* c, int64_t ldc, int rows,
                                                           int cols) {
    const bool full = rows == MR && cols == NR;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const int n = cols - j * VL;
        acc[i][j] = full                  ? load(c + i * ldc + j * VL)
                    : i >= rows || n <= 0 ? Vec{}
                    : n >= VL             ? load(c + i * ldc + j * VL)
                                          : load_partial(c + i * ldc + j * VL, n);
      }
  }

  // C's rows x cols = acc: an edge tile writes only its elements, as load_c reads them.
  __attribute__((always_inline)) static inline void store_c(Vec (&acc)[MR][NV], float* c, int64_t ldc, int rows,
                                                            int cols) {
    const bool full = rows == MR && cols == NR;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const int n = cols - j * VL;
        if (full || (i < rows && n >= VL))
          store(c + i * ldc + j * VL, acc[i][j]);
        else if (i < rows && n > 0)
          store_partial(c + i * ldc + j * VL, acc[i][j], n);
      }
  }

  static void pack(const float* b, int64_t ldb, int64_t rows, int cols, float* panel) {
    if (cols == NR) {
      // A constant-size copy: the compiler emits vector moves (a memcpy call per row cost as much
      // as the micro-kernels using the panel).
      for (int64_t k = 0; k < rows; ++k, b += ldb, panel += NR) std::memcpy(panel, b, NR * sizeof(float));
      return;
    }
    for (int64_t k = 0; k < rows; ++k, b += ldb, panel += NR) {
      std::memcpy(panel, b, cols * sizeof(float));
      std::memset(panel + cols, 0, (NR - cols) * sizeof(float));
    }
  }
};

// tails[r]: the kernel of an r-row tile (r < MR), for the last rows of a GEMM: a remainder of r
// rows then costs r rows' work, not MR's (the MR-row kernel's rows beyond `rows` are computed and
// dropped). tails[0] is the MR-row kernel itself.
template <int MR, int NV, int VL, int... R>
constexpr std::array<IgemmUkernelFn, MR> igemm_tails(std::integer_sequence<int, R...>) {
  return {{&F32Igemm<(R == 0 ? MR : R), NV, VL>::run...}};
}

}  // namespace ukernel
}  // namespace mec4j

// Declares the C++ functions <name>_ukernel and <name>_pack of one kernel file.
#define MEC4J_DECLARE_F32_IGEMM(name)                                                                                  \
  namespace mec4j {                                                                                                    \
  void name##_ukernel(const float* const* a, const Segment* seg, int64_t nseg, const float* b, int64_t ldb, float* c,  \
                      int64_t ldc, int rows, int cols, bool first, const float* bias, const float* clamp);             \
  void name##_ukernel_strided(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,          \
                              int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,             \
                              const float* clamp);                                                                     \
  void name##_ukernel_strided_stream(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,   \
                                     int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,      \
                                     const float* clamp);                                                              \
  extern const IgemmUkernelFn* const name##_ukernel_tails;                                                             \
  void name##_pack(const float* b, int64_t ldb, int64_t rows, int cols, float* panel);                                 \
  void name##_ukernel_wt(const float* const* w, const int64_t* col, int64_t kb, const float* b, float* c, int64_t ldc, \
                         int rows, int cols, bool first);                                                              \
  }

// Defines the C++ functions <name>_ukernel and <name>_pack for one tile of the template.
#define MEC4J_DEFINE_F32_IGEMM(name, MR, NV, VL)                                                                       \
  namespace mec4j {                                                                                                    \
  void name##_ukernel(const float* const* a, const Segment* seg, int64_t nseg, const float* b, int64_t ldb, float* c,  \
                      int64_t ldc, int rows, int cols, bool first, const float* bias, const float* clamp) {            \
    ukernel::F32Igemm<MR, NV, VL>::run(a, seg, nseg, b, ldb, c, ldc, rows, cols, first, bias, clamp);                  \
  }                                                                                                                    \
  void name##_ukernel_strided(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,          \
                              int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,             \
                              const float* clamp) {                                                                    \
    ukernel::F32Igemm<MR, NV, VL>::run_strided(a0, lda, seg, nseg, b, ldb, c, ldc, cols, first, bias, clamp);          \
  }                                                                                                                    \
  void name##_ukernel_strided_stream(const float* a0, int64_t lda, const Segment* seg, int64_t nseg, const float* b,   \
                                     int64_t ldb, float* c, int64_t ldc, int cols, bool first, const float* bias,      \
                                     const float* clamp) {                                                             \
    ukernel::F32Igemm<MR, NV, VL>::run_strided_stream(a0, lda, seg, nseg, b, ldb, c, ldc, cols, first, bias, clamp);   \
  }                                                                                                                    \
  static constexpr std::array<IgemmUkernelFn, MR> name##_tails =                                                       \
      ukernel::igemm_tails<MR, NV, VL>(std::make_integer_sequence<int, MR>{});                                         \
  extern const IgemmUkernelFn* const name##_ukernel_tails = name##_tails.data();                                       \
  void name##_pack(const float* b, int64_t ldb, int64_t rows, int cols, float* panel) {                                \
    ukernel::F32Igemm<MR, NV, VL>::pack(b, ldb, rows, cols, panel);                                                    \
  }                                                                                                                    \
  void name##_ukernel_wt(const float* const* w, const int64_t* col, int64_t kb, const float* b, float* c, int64_t ldc, \
                         int rows, int cols, bool first) {                                                             \
    ukernel::F32Igemm<MR, NV, VL>::run_wt(w, col, kb, b, c, ldc, rows, cols, first);                                   \
  }                                                                                                                    \
  }

#endif
