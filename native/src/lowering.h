// Internal: copying input rows into lowered buffers with implicit zero padding, and the backward
// data passes' way back (col2im).
#ifndef MEC4J_LOWERING_H
#define MEC4J_LOWERING_H

#include <cstring>

#include "parallel.h"
#include "shape.h"

namespace mec4j {

// Writes one padded row of i_wp*i_c floats at dst: input row iy (unpadded index) between p_l and
// p_r zero pixels, copy_row(dst + p_l*i_c) writing its i_w*i_c floats (from NHWC, or transposed
// from NCHW planes); or zeros where iy lies in the padding.
template <class CopyRow>
inline void padded_row(const Shape& s, int64_t iy, float* dst, const CopyRow& copy_row) {
  const int64_t row = s.iwp * s.ic, left = s.pl * s.ic, right = left + s.iw * s.ic;
  if (iy < 0 || iy >= s.ih) {
    std::memset(dst, 0, row * sizeof(float));
    return;
  }
  std::memset(dst, 0, left * sizeof(float));
  copy_row(dst + left);
  std::memset(dst + right, 0, (row - right) * sizeof(float));
}

// Writes the k_w*i_c floats of input row iy (unpadded index) for the window whose first tap is at
// padded column x0 into dst: taps q at columns x0 + q*d_w, zeros where a tap leaves the input.
// Undilated, the inside part is one contiguous run of NHWC pixels (one memcpy).
inline void copy_window_row(const Shape& s, const float* image, int64_t iy, int64_t x0, float* dst) {
  const int64_t width = s.kw * s.ic;
  if (iy < 0 || iy >= s.ih) {
    std::memset(dst, 0, width * sizeof(float));
    return;
  }
  const int64_t ix0 = x0 - s.pl;  // input column of tap 0 (may be < 0)
  const float* row = image + iy * s.iw * s.ic;
  if (s.dw > 1) {
    for (int64_t q = 0; q < s.kw; ++q) {
      const int64_t ix = ix0 + q * s.dw;
      if (ix < 0 || ix >= s.iw)
        std::memset(dst + q * s.ic, 0, s.ic * sizeof(float));
      else
        std::memcpy(dst + q * s.ic, row + ix * s.ic, s.ic * sizeof(float));
    }
    return;
  }
  int64_t lo = ix0 < 0 ? -ix0 : 0;  // taps before the input
  if (lo > s.kw) lo = s.kw;
  int64_t hi = s.kw;  // taps up to the end of the input
  if (ix0 + hi > s.iw) hi = s.iw - ix0;
  if (hi < lo) hi = lo;
  if (lo > 0) std::memset(dst, 0, lo * s.ic * sizeof(float));
  if (hi > lo) std::memcpy(dst + lo * s.ic, row + (ix0 + lo) * s.ic, (hi - lo) * s.ic * sizeof(float));
  if (hi < s.kw) std::memset(dst + hi * s.ic, 0, (s.kw - hi) * s.ic * sizeof(float));
}

// Backward data's col2im, gathered per input row so that threads never write the same row: zeroes
// each input row (image n, row iy) of grad_in, then calls body(n, r, y, dst) for each kernel row r
// whose taps read that row from output row y (dst: the row in grad_in).
template <typename Body>
void for_each_input_row(const Shape& s, float* grad_in, Body body) {
  parallel_for(s.n * s.ih, available_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t ni = begin; ni < end; ++ni) {
      const int64_t n = ni / s.ih, iy = ni % s.ih;
      float* dst = grad_in + ni * s.iw * s.ic;
      std::memset(dst, 0, s.iw * s.ic * sizeof(float));
      for (int64_t r = 0; r < s.kh; ++r) {
        const int64_t yy = iy + s.pt - r * s.dh;
        if (yy < 0 || yy % s.sh != 0 || yy / s.sh >= s.oh) continue;
        body(n, r, yy / s.sh, dst);
      }
    }
  });
}

}  // namespace mec4j
#endif
