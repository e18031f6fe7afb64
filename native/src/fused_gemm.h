// Internal: mec4j's own GEMM over MEC's row lowering (MEC_FUSED).
//
// MEC_ROWS multiplies each of the k_h row windows of the lowered input separately (k_h GEMMs with
// K = k_w*i_c, accumulated with beta = 1), because a BLAS only accepts a matrix with one leading
// dimension. This GEMM reads the k_h windows in place as ONE virtual matrix with K = k_h*k_w*i_c:
// the same |L| workspace as MEC, and the single long-K GEMM of im2col, without im2col's copies.
#ifndef MEC4J_FUSED_GEMM_H
#define MEC4J_FUSED_GEMM_H

#include <cstdint>

namespace mec4j {

// out[M x N] = A[M x K] * kernel[K x N] (+ bias), all row-major, K = kernel_rows * piece.
// Row p of A, columns r*piece .. r*piece + piece - 1, are the piece floats at
//   lowered + (p / pixels) * image_stride + (p % pixels) * piece + row_offset[r].
struct RowWindowGemm {
  int64_t m, n;
  int64_t piece;          // k_w * i_c: floats of one row window
  int64_t kernel_rows;    // k_h
  int64_t pixels;         // rows of A per image: o_h * o_w
  int64_t image_stride;   // floats between two images' lowerings
  const int64_t* row_offset;
  const float* lowered;
  const float* kernel;    // HWIO: row k = r*piece + j
  const float* bias;      // n floats, or null
  float* out;
};

// Whether this CPU runs the kernel (x86-64 with AVX2 and FMA) and MEC4J_FUSED is not "0".
bool fused_gemm_supported();

// Computes g with up to `threads` threads. Needs no scratch memory beyond a few KiB of stack.
void fused_gemm(const RowWindowGemm& g, int threads);

}  // namespace mec4j
#endif
