// Direct convolution: the oracle (NHWC, or NCHW with an OIHW kernel). Double accumulation; padded taps multiply
// explicit zeros so that NaN/Inf in the kernel propagate exactly as in the GEMM-based algorithms.
#include "reference.h"

#include <algorithm>
#include <vector>

#include "bias.h"

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

// --- Reference: direct loops, double accumulation ------------------------------------------

void reference_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in) {
  std::vector<double> acc(s.ic);  // allocated before grad_in is touched
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t iy = 0; iy < s.ih; ++iy)
      for (int64_t ix = 0; ix < s.iw; ++ix) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t yy = iy + s.pt - r * s.dh;  // = y * s_h for the output row that reads iy
          if (yy < 0 || yy % s.sh != 0 || yy / s.sh >= s.oh) continue;
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t xx = ix + s.pl - q * s.dw;
            if (xx < 0 || xx % s.sw != 0 || xx / s.sw >= s.ow) continue;
            const float* g = grad_out + ((n * s.oh + yy / s.sh) * s.ow + xx / s.sw) * s.kc;
            for (int64_t grp = 0; grp < s.g; ++grp) {
              const float* w = k + grp * s.group_patch * s.kcg + (r * s.kw + q) * s.icg * s.kcg;
              for (int64_t ci = 0; ci < s.icg; ++ci) {
                double sum = 0;
                for (int64_t o = 0; o < s.kcg; ++o) sum += (double)g[grp * s.kcg + o] * w[ci * s.kcg + o];
                acc[grp * s.icg + ci] += sum;
              }
            }
          }
        }
        float* d = grad_in + ((n * s.ih + iy) * s.iw + ix) * s.ic;
        for (int64_t c = 0; c < s.ic; ++c) d[c] = static_cast<float>(acc[c]);
      }
}

void reference_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k,
                                float* grad_bias) {
  std::vector<double> acc(s.kernel_elems), bias(s.kc);  // allocated before any output is touched
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x) {
        const float* g = grad_out + ((n * s.oh + y) * s.ow + x) * s.kc;
        for (int64_t c = 0; c < s.kc; ++c) bias[c] += g[c];
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t iy = y * s.sh + r * s.dh - s.pt;
          if (iy < 0 || iy >= s.ih) continue;
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t ix = x * s.sw + q * s.dw - s.pl;
            if (ix < 0 || ix >= s.iw) continue;
            const float* pix = in + ((n * s.ih + iy) * s.iw + ix) * s.ic;
            for (int64_t grp = 0; grp < s.g; ++grp)
              for (int64_t ci = 0; ci < s.icg; ++ci) {
                double* a = acc.data() + grp * s.group_patch * s.kcg + ((r * s.kw + q) * s.icg + ci) * s.kcg;
                const double v = pix[grp * s.icg + ci];
                for (int64_t o = 0; o < s.kcg; ++o) a[o] += v * g[grp * s.kcg + o];
              }
          }
        }
      }
  for (int64_t i = 0; i < s.kernel_elems; ++i) grad_k[i] = static_cast<float>(acc[i]);
  if (grad_bias)
    for (int64_t c = 0; c < s.kc; ++c) grad_bias[c] = static_cast<float>(bias[c]);
}

}  // namespace mec4j
