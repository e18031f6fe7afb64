// MEC (Cho & Brand 2017, Algorithm 2): lower into L = i_n x o_w x i_h x k_w x i_c, then run
// strided GEMMs over overlapping windows of L, read in place.
#include <cstring>

#include "lowering.h"
#include "shape.h"

namespace mec4j {

namespace {

// L[n, w, h, :, :] = padded input row h, columns s_w*w .. s_w*w + k_w - 1. Rows that no output
// reads (h >= rows_used) are left unwritten: no GEMM window reaches them.
void lower(const Shape& s, const float* in, float* L) {
  const int64_t row = s.kw * s.ic;
  const int64_t strip = s.ihp * row;  // one (n, w) strip
  for (int64_t n = 0; n < s.n; ++n) {
    const float* image = in + n * s.ih * s.iw * s.ic;
    for (int64_t w = 0; w < s.ow; ++w) {
      float* dst = L + (n * s.ow + w) * strip;
      for (int64_t h = 0; h < s.rows_used; ++h)
        copy_window_row(s, image, h - s.pt, w * s.sw, dst + h * row);
    }
  }
}

}  // namespace

// Solution A pays an extra copy and permutation of O but runs o_h large GEMMs (M = i_n*o_w);
// it needs |O| <= |L| because the permutation goes through L's buffer.
bool mec_prefers_solution_a(const Shape& s) {
  return s.ow <= s.threshold && s.output_elems <= s.mec_lowered_elems;
}

void mec_forward(const Shape& s, bool solution_a, const float* in, const float* k,
                 const float* bias, float* out, float* L) {
  lower(s, in, L);
  const int64_t lda = s.ihp * s.kw * s.ic;
  const int64_t window_step = s.sh * s.kw * s.ic;  // column offset between output rows
  if (!solution_a) {
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t h = 0; h < s.oh; ++h)
        sgemm(s.ow, s.kc, s.patch, L + n * s.ow * lda + h * window_step, lda, k, s.kc,
              out + (n * s.oh + h) * s.ow * s.kc, s.kc);
  } else {
    // GEMM h writes rows (n, w) of output row h: O holds (h, n, w, c) afterwards.
    const int64_t plane = s.n * s.ow * s.kc;
    for (int64_t h = 0; h < s.oh; ++h)
      sgemm(s.n * s.ow, s.kc, s.patch, L + h * window_step, lda, k, s.kc, out + h * plane, s.kc);
    std::memcpy(L, out, s.output_elems * sizeof(float));
    const int64_t run = s.ow * s.kc;
    for (int64_t h = 0; h < s.oh; ++h)
      for (int64_t n = 0; n < s.n; ++n)
        std::memcpy(out + (n * s.oh + h) * run, L + (h * s.n + n) * run, run * sizeof(float));
  }
  add_bias(s, bias, out);
}

}  // namespace mec4j
