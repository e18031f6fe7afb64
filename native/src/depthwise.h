// Internal: direct depthwise convolution (groups == i_c, any channel multiplier m = k_c / i_c),
// NHWC in and out, no workspace: per-ISA micro-kernels vectorised over channels (f32_dwconv.h).
#ifndef MEC4J_DEPTHWISE_H
#define MEC4J_DEPTHWISE_H

#include <cstdint>

#include "configs/dwconv_config.h"
#include "mec4j.h"
#include "shape.h"

namespace mec4j {

// out (n x oh x ow x kc) = depthwise convolution of in (n x ih x iw x ic) with k (per group
// kh x kw x 1 x m: weight (c, r, q, j) at k[((c * kh + r) * kw + q) * m + j]) plus bias (kc floats
// or null). Reads n, ih, iw, ic, kh, kw, kc, sh, sw, pt, pl, dh, dw, oh, ow of s. Every output
// element is computed by one thread, taps in the order r outer, q inner, from the bias (or 0):
// the bits do not depend on `threads`. No heap allocation; never throws. Fastest with 64-byte aligned in and
// out (the vector loads then never split a cache line).
void depthwise_forward(const Shape& s, mec4j_isa isa, const float* in, const float* k, const float* bias, float* out,
                       int threads);
// The same with a given kernel. max_taps > 0 caps the taps packed at a time (tests of the chunking).
void depthwise_forward(const Shape& s, const DwconvConfig& config, const float* in, const float* k, const float* bias,
                       float* out, int threads, int64_t max_taps = 0);
// Depthwise layers: direct loops vectorised over channels; ws holds a transposed kernel
// (kernel_elems floats).
void depthwise_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws);
void depthwise_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                                float* ws);
// The name of the kernel depthwise_forward runs for `isa`.
const char* depthwise_kernel_name(mec4j_isa isa);

}  // namespace mec4j
#endif
