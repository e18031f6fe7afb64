// Internal: the transpose micro-kernels (ukernels/f32_transpose.h) and the one each ISA level runs.
#ifndef MEC4J_CONFIGS_TRANSPOSE_CONFIG_H
#define MEC4J_CONFIGS_TRANSPOSE_CONFIG_H

#include "mec4j.h"
#include "ukernels/f32_transpose.h"

namespace mec4j {

struct TransposeConfig {
  const char* name;  // e.g. "f32-transpose-16x16-avx512f"
  mec4j_isa isa;
  TransposeFn transpose;
};

// The kernel for `isa`, or for the best lower ISA built into this library.
const TransposeConfig* transpose_config(mec4j_isa isa);

}  // namespace mec4j
#endif
