// Binding-only adapter: Java arrays and buffers arrive as base pointers, so the offsets Java
// validated are applied here, on the native side, without copying.
#ifndef MEC4J_JNI_H
#define MEC4J_JNI_H

#include "mec4j.h"

static inline mec4j_status mec4j_forward_at(const mec4j_conv2d* conv, int algorithm, const float* input,
                                            int64_t input_offset, const float* kernel, int64_t kernel_offset,
                                            const float* bias, int64_t bias_offset, float* output,
                                            int64_t output_offset, void* workspace, int64_t workspace_bytes) {
  return mec4j_conv2d_forward(conv, (mec4j_algorithm)algorithm, input + input_offset, kernel + kernel_offset,
                              bias ? bias + bias_offset : 0, output + output_offset, workspace, workspace_bytes);
}

static inline mec4j_status mec4j_pack_kernel_at(const mec4j_conv2d* conv, const float* kernel, int64_t kernel_offset,
                                                void* packed, int64_t packed_bytes) {
  return mec4j_pack_kernel(conv, kernel + kernel_offset, packed, packed_bytes);
}

static inline mec4j_status mec4j_forward_packed_at(const mec4j_conv2d* conv, const float* input, int64_t input_offset,
                                                   const void* packed, const float* bias, int64_t bias_offset,
                                                   float* output, int64_t output_offset, void* workspace,
                                                   int64_t workspace_bytes) {
  return mec4j_conv2d_forward_packed(conv, input + input_offset, packed, bias ? bias + bias_offset : 0,
                                     output + output_offset, workspace, workspace_bytes);
}

#endif
