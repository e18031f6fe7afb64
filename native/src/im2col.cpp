// The paper's baseline: im2col of the whole mini-batch, then one sgemm.
#include "im2col.h"

#include <cstring>

#include "bias.h"
#include "blas.h"
#include "lowering.h"
#include "parallel.h"

namespace mec4j {

// Rows of the im2col matrix are output pixels; with groups, columns are ordered (group, k_h, k_w,
// i_c/g) so that each group's GEMM reads a contiguous block of k_h*k_w*i_c/g columns.
void im2col_lower(const Shape& s, const float* in, float* ws) {
  const int64_t row_width = s.kw * s.ic;
  parallel_for(s.n * s.oh, available_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t ny = begin; ny < end; ++ny) {
      const int64_t n = ny / s.oh, y = ny % s.oh;
      const float* image = in + n * s.ih * s.iw * s.ic;
      for (int64_t x = 0; x < s.ow; ++x) {
        float* patch = ws + (ny * s.ow + x) * s.patch;
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t iy = y * s.sh + r * s.dh - s.pt;
          if (s.g == 1) {
            copy_window_row(s, image, iy, x * s.sw, patch + r * row_width);
            continue;
          }
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t ix = x * s.sw + q * s.dw - s.pl;
            const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
            const float* pixel = inside ? image + (iy * s.iw + ix) * s.ic : nullptr;
            for (int64_t grp = 0; grp < s.g; ++grp) {
              float* dst = patch + grp * s.group_patch + (r * s.kw + q) * s.icg;
              if (inside)
                std::memcpy(dst, pixel + grp * s.icg, s.icg * sizeof(float));
              else
                std::memset(dst, 0, s.icg * sizeof(float));
            }
          }
        }
      }
    }
  });
}

void im2col_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out, float* ws) {
  im2col_lower(s, in, ws);
  for (int64_t grp = 0; grp < s.g; ++grp)
    sgemm(s.n * s.oh * s.ow, s.kcg, s.group_patch, ws + grp * s.group_patch, s.patch, k + grp * s.group_patch * s.kcg,
          s.kcg, out + grp * s.kcg, s.kc, 0.f);
  finish_output(s, bias, out);
}

// --- im2col --------------------------------------------------------------------------------

void im2col_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                             float* ws) {
  im2col_lower(s, in, ws);
  for (int64_t grp = 0; grp < s.g; ++grp)
    sgemm(Trans::Yes, Trans::No, s.group_patch, s.kcg, s.n * s.oh * s.ow, ws + grp * s.group_patch, s.patch,
          grad_out + grp * s.kcg, s.kc, grad_k + grp * s.group_patch * s.kcg, s.kcg, 0.f);
  bias_gradient(s, grad_out, grad_bias);
}

void im2col_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws) {
  for (int64_t grp = 0; grp < s.g; ++grp)
    sgemm(Trans::No, Trans::Yes, s.n * s.oh * s.ow, s.group_patch, s.kcg, grad_out + grp * s.kcg, s.kc,
          k + grp * s.group_patch * s.kcg, s.kcg, ws + grp * s.group_patch, s.patch, 0.f);
  for_each_input_row(s, grad_in, [&](int64_t n, int64_t r, int64_t y, float* dst) {
    const float* cols = ws + (n * s.oh + y) * s.ow * s.patch;
    for (int64_t x = 0; x < s.ow; ++x)
      for (int64_t q = 0; q < s.kw; ++q) {
        const int64_t ix = x * s.sw + q * s.dw - s.pl;
        if (ix < 0 || ix >= s.iw) continue;
        for (int64_t grp = 0; grp < s.g; ++grp) {
          const float* src = cols + x * s.patch + grp * s.group_patch + (r * s.kw + q) * s.icg;
          float* d = dst + ix * s.ic + grp * s.icg;
          for (int64_t c = 0; c < s.icg; ++c) d[c] += src[c];
        }
      }
  });
}

}  // namespace mec4j
