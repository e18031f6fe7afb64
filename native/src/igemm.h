// Internal: mec4j's indirect GEMM over MEC's row lowering (MEC_FUSED), or over the input itself
// where no lowering is needed.
//
// MEC_ROWS multiplies each of the k_h row windows of the lowered input separately (k_h GEMMs with
// K = k_w*i_c, accumulated with beta = 1), because a BLAS only accepts a matrix with one leading
// dimension. This GEMM reads the k_h windows in place as ONE virtual matrix with K = k_h*k_w*i_c:
// the same |L| workspace as MEC, and the single long-K GEMM of im2col, without im2col's copies.
#ifndef MEC4J_IGEMM_H
#define MEC4J_IGEMM_H

#include <cstdint>
#include <vector>

#include "configs/igemm_config.h"

namespace mec4j {

// out[M x N] = A[M x K] * kernel[K x N] (+ bias), all row-major, K = kernel_rows * piece.
// Row p of A is output pixel (image, y, x) = (p / pixels, p % pixels / width, p % pixels % width);
// its columns r*piece .. r*piece + piece - 1 are the piece contiguous floats at
//   origin + image * image_stride + y * y_stride + x * x_stride + row_offset(row_context, r).
struct RowWindowGemm {
  int64_t m, n;
  int64_t ldc;            // out's row stride (>= n)
  int64_t piece;          // k_w * i_c: floats of one row window
  int64_t kernel_rows;    // k_h
  int64_t pixels, width;  // output pixels per image (o_h * o_w), output width (o_w)
  int64_t image_stride, y_stride, x_stride;
  // A function, not a table: the GEMM then needs no memory of its own (see igemm below).
  int64_t (*row_offset)(const void* row_context, int64_t r);
  const void* row_context;
  const float* origin;
  const float* kernel;  // HWIO: row k = r*piece + j
  const float* packed;  // or null: the kernel already packed by pack_igemm_kernel for this config
  const float* bias;    // n floats, or null
  const float* clamp;   // {lo, hi}: the fused activation, applied to every output; or null
  float* out;
  // The output is larger than the caches hold: where its values are final after one K block and
  // its rows 64-byte aligned, the GEMM writes them with non-temporal stores.
  bool stream;
  // Kernel rows that read zero padding only, skipped (as oneDNN's brgemm does, by a kernel per
  // border): output row y's kernel row r reads padded row y * row_step + r * kernel_row_step, the
  // image being rows [pad_top, pad_top + image_rows); kernel row r is K's k_per_kernel_row floats
  // from r * k_per_kernel_row. A row tile computes only the K blocks holding kernel rows that some
  // of its pixels read inside the image. k_per_kernel_row = 0: every K block of every tile.
  struct PaddingRows {
    int64_t k_per_kernel_row, kernel_rows, pad_top, image_rows, row_step, kernel_row_step;
    // The kernel rows [*first, *end) that some output row in [y_first, y_last] reads inside the
    // image: the last row reads the fewest top padding rows, the first the fewest bottom ones.
    void rows_inside(int64_t y_first, int64_t y_last, int64_t* first, int64_t* end) const {
      const int64_t top = y_last * row_step, bottom = y_first * row_step, image_end = pad_top + image_rows;
      *first = top >= pad_top ? 0 : (pad_top - top + kernel_row_step - 1) / kernel_row_step;
      *end = bottom >= image_end ? 0 : (image_end - 1 - bottom) / kernel_row_step + 1;
      if (*end > kernel_rows) *end = kernel_rows;
    }
  } padding;
};

// Packs kernel (K x N, row-major; K x ceil(N / nr) * nr floats packed) in the order the GEMM reads
// its panels.
void pack_igemm_kernel(const IgemmConfig& config, const float* kernel, int64_t k, int64_t n, float* packed);

// Floats of one group's kernel packed by pack_igemm_kernel: k_h*k_w*i_c/g rows, k_c/g columns
// rounded up to the tile width.
int64_t packed_group_floats(const IgemmConfig& config, int64_t k, int64_t n);

// Computes g with the given config and up to `threads` threads. Allocates nothing (a few dozen
// KiB of stack: each K block's row-window segments are listed there as it is reached), so it may
// run on any thread of a parallel_for, and cannot fail once a convolution has started writing.
void igemm(const IgemmConfig& config, const RowWindowGemm& g, int threads);

// out[M x N] (or += with accumulate) = W^T * B: the GEMM of a weight gradient, dK = L^T * dO.
// W is K x M with row p (an output pixel) gathered from row windows: pixel p's row starts at
// origin + p / width * y_stride + p % width * x_stride, and its M columns are the runs in turn
// (runs[u].length floats at runs[u].offset from there). B is K x N, row-major (row stride ldb).
// Blocks of W^T are packed (transposed) so that the per-ISA micro-kernel reads them contiguously.
struct WindowGemmT {
  int64_t m, n, k;
  int64_t ldb, ldc;
  int64_t width, y_stride, x_stride;
  const float* origin;
  const Segment* runs;
  int64_t nruns;
  const float* b;
  float* out;
  bool accumulate;
};

// Scratch of igemm_transposed for up to `threads` threads and N columns: allocate before any output
// is written (it may throw std::bad_alloc).
struct IgemmWtScratch {
  std::vector<float> floats;
  std::vector<const float*> rows;
  std::vector<float> partials;  // a GEMM of few units: the sums of its K chunks but the first
};
IgemmWtScratch igemm_transposed_scratch(const IgemmConfig& config, int64_t m, int64_t n, int threads);
void igemm_transposed(const IgemmConfig& config, const WindowGemmT& g, IgemmWtScratch& scratch, int threads);

}  // namespace mec4j
#endif
