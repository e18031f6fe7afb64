// Internal: copying input rows into lowered buffers with implicit zero padding.
#ifndef MEC4J_LOWERING_H
#define MEC4J_LOWERING_H

#include <cstring>

#include "shape.h"

namespace mec4j {

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

}  // namespace mec4j
#endif
