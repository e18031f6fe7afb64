// Direct convolution: the oracle (NHWC, or NCHW with an OIHW kernel). Double accumulation; padded taps multiply
// explicit zeros so that NaN/Inf in the kernel propagate exactly as in the GEMM-based algorithms.
#include <algorithm>
#include <vector>

#include "shape.h"

namespace mec4j {

void reference_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out) {
  std::vector<double> acc(s.kc);  // allocated before output is touched
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x) {
        for (int64_t c = 0; c < s.kc; ++c) acc[c] = bias ? bias[c] : 0.0;
        for (int64_t grp = 0; grp < s.g; ++grp) {
          const float* kg = k + grp * s.group_patch * s.kcg;  // g x k_h x k_w x i_c/g x k_c/g
          double* ag = acc.data() + grp * s.kcg;
          for (int64_t r = 0; r < s.kh; ++r) {
            const int64_t iy = y * s.sh + r * s.dh - s.pt;
            for (int64_t q = 0; q < s.kw; ++q) {
              const int64_t ix = x * s.sw + q * s.dw - s.pl;
              const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
              // Input channel ci of the group at pix[ci * step]; weight (ci, c) at w[ci * wi + c * wo].
              const float* pix = !inside  ? nullptr
                                 : s.nchw ? in + n * s.in_ns + grp * s.icg * s.in_cs + iy * s.iw + ix
                                          : in + ((n * s.ih + iy) * s.iw + ix) * s.ic + grp * s.icg;
              const int64_t step = s.nchw ? s.in_cs : 1;
              const float* w =
                  s.nchw ? k + grp * s.kcg * s.group_patch + r * s.kw + q : kg + (r * s.kw + q) * s.icg * s.kcg;
              const int64_t wi = s.nchw ? s.kh * s.kw : s.kcg, wo = s.nchw ? s.group_patch : 1;
              for (int64_t ci = 0; ci < s.icg; ++ci) {
                const double v = inside ? pix[ci * step] : 0.0;
                const float* wrow = w + ci * wi;
                for (int64_t c = 0; c < s.kcg; ++c) ag[c] += v * wrow[c * wo];
              }
            }
          }
        }
        float* o = s.nchw ? out + n * s.out_ns + y * s.ow + x : out + ((n * s.oh + y) * s.ow + x) * s.kc;
        const int64_t step = s.nchw ? s.out_cs : 1;
        const float* clamp = s.clamp();
        for (int64_t c = 0; c < s.kc; ++c) {
          const float v = static_cast<float>(acc[c]);
          o[c * step] = clamp ? std::min(std::max(v, clamp[0]), clamp[1]) : v;
        }
      }
}

}  // namespace mec4j
