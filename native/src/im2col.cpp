// The paper's baseline: im2col of the whole mini-batch, then one sgemm.
#include "lowering.h"
#include "parallel.h"
#include "shape.h"

namespace mec4j {

void im2col_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out,
                    float* ws) {
  const int64_t row_width = s.kw * s.ic;
  parallel_for(s.n * s.oh, available_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t ny = begin; ny < end; ++ny) {
      const int64_t n = ny / s.oh, y = ny % s.oh;
      const float* image = in + n * s.ih * s.iw * s.ic;
      for (int64_t x = 0; x < s.ow; ++x) {
        float* patch = ws + (ny * s.ow + x) * s.patch;
        for (int64_t r = 0; r < s.kh; ++r)
          copy_window_row(s, image, y * s.sh + r - s.pt, x * s.sw, patch + r * row_width);
      }
    }
  });
  sgemm(s.n * s.oh * s.ow, s.kc, s.patch, ws, s.patch, k, s.kc, out, s.kc, 0.f);
  add_bias(s, bias, out);
}

}  // namespace mec4j
