// Internal: copying input rows into lowered buffers with implicit zero padding.
#ifndef MEC4J_LOWERING_H
#define MEC4J_LOWERING_H

#include <cstring>

#include "shape.h"

namespace mec4j {

// Writes the k_w*i_c floats of input row iy (unpadded index) starting at padded column x0 into
// dst: zeros where the window leaves the input, one memcpy for the part inside. In NHWC the
// inside part is contiguous.
inline void copy_window_row(const Shape& s, const float* image, int64_t iy, int64_t x0, float* dst) {
  const int64_t width = s.kw * s.ic;
  if (iy < 0 || iy >= s.ih) {
    std::memset(dst, 0, width * sizeof(float));
    return;
  }
  int64_t ix0 = x0 - s.pl;              // first input column of the window (may be < 0)
  int64_t lo = ix0 < 0 ? -ix0 : 0;      // taps before the input
  int64_t hi = s.kw;                    // taps up to the end of the input
  if (ix0 + hi > s.iw) hi = s.iw - ix0;
  if (hi < lo) hi = lo;
  if (lo > 0) std::memset(dst, 0, lo * s.ic * sizeof(float));
  if (hi > lo)
    std::memcpy(dst + lo * s.ic, image + (iy * s.iw + ix0 + lo) * s.ic, (hi - lo) * s.ic * sizeof(float));
  if (hi < s.kw) std::memset(dst + hi * s.ic, 0, (s.kw - hi) * s.ic * sizeof(float));
}

}  // namespace mec4j
#endif
