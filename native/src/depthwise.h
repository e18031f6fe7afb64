// Internal: direct depthwise convolution (groups == i_c, any channel multiplier m = k_c / i_c),
// NHWC in and out, no workspace: per-ISA micro-kernels vectorised over channels (f32_dwconv.h).
#ifndef MEC4J_DEPTHWISE_H
#define MEC4J_DEPTHWISE_H

#include <cstdint>

#include "mec4j.h"
#include "shape.h"
#include "ukernels/f32_dwconv.h"

namespace mec4j {

struct DwconvConfig {
  const char* name;  // e.g. "f32-dwconv-3x32-avx2-fma"
  mec4j_isa isa;
  int channels;  // C: output channels a call computes (the weight block width), at most 64
  DwconvUkernelFn ukernel;
};

// The kernel for `isa`, or for the best lower ISA built into this library.
const DwconvConfig* dwconv_config(mec4j_isa isa);

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
// The name of the kernel depthwise_forward runs for `isa`.
const char* depthwise_kernel_name(mec4j_isa isa);

}  // namespace mec4j
#endif
