// Internal: the bias and the fused activation on the outputs, and the bias's gradient.
#ifndef MEC4J_BIAS_H
#define MEC4J_BIAS_H

#include "shape.h"

namespace mec4j {

// The BLAS variants' last pass over their output: adds the bias (if any) and applies the fused
// activation (if any).
void finish_output(const Shape& s, const float* bias, float* out);
// grad_bias[c] = the sum of grad_out over every pixel; nothing when grad_bias is null.
void bias_gradient(const Shape& s, const float* grad_out, float* grad_bias);

}  // namespace mec4j
#endif
