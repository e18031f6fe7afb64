// Internal: the direct convolution, the test oracle: its forward (NHWC, or NCHW with an OIHW kernel)
// and backward passes, double accumulation, no workspace. Each pass overwrites its outputs completely.
#ifndef MEC4J_REFERENCE_H
#define MEC4J_REFERENCE_H

#include "shape.h"

namespace mec4j {

void reference_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out);
// grad_in (NHWC, like the input) = the gradient of the loss with respect to the input, given
// grad_out (NHWC, like the output) and the kernel.
void reference_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in);
// grad_k (the kernel's layout) and grad_bias (k_c floats, or null) from the input and grad_out.
void reference_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k,
                                float* grad_bias);

}  // namespace mec4j
#endif
