// The bias and the fused activation on the outputs, and the bias's gradient.
#include "bias.h"

#include <algorithm>
#include <cstring>

namespace mec4j {

void finish_output(const Shape& s, const float* bias, float* out) {
  const float* clamp = s.clamp();
  if (!bias && !clamp) return;
  const int64_t pixels = s.n * s.oh * s.ow;
  const float lo = clamp ? clamp[0] : 0.0f, hi = clamp ? clamp[1] : 0.0f;
  for (int64_t p = 0; p < pixels; ++p) {
    float* o = out + p * s.kc;
    if (bias)
      for (int64_t c = 0; c < s.kc; ++c) o[c] += bias[c];
    if (clamp)
      for (int64_t c = 0; c < s.kc; ++c) o[c] = std::min(std::max(o[c], lo), hi);
  }
}

void bias_gradient(const Shape& s, const float* grad_out, float* grad_bias) {
  if (!grad_bias) return;
  std::memset(grad_bias, 0, s.kc * sizeof(float));
  const int64_t pixels = s.n * s.oh * s.ow;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* g = grad_out + p * s.kc;
    for (int64_t c = 0; c < s.kc; ++c) grad_bias[c] += g[c];
  }
}

}  // namespace mec4j
