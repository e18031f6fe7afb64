// Internal: the paper's baseline: im2col of the whole mini-batch, then one GEMM per group, forward
// and backward.
#ifndef MEC4J_IM2COL_H
#define MEC4J_IM2COL_H

#include "shape.h"

namespace mec4j {

// The im2col matrix of the whole batch: a row of k_h*k_w*i_c floats per output pixel, columns
// ordered (group, k_h, k_w, i_c/g).
void im2col_lower(const Shape& s, const float* in, float* cols);
void im2col_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out, float* ws);
void im2col_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws);
void im2col_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                             float* ws);

}  // namespace mec4j
#endif
