// Internal: the depthwise micro-kernels (ukernels/f32_dwconv.h) and the one each ISA level runs.
#ifndef MEC4J_CONFIGS_DWCONV_CONFIG_H
#define MEC4J_CONFIGS_DWCONV_CONFIG_H

#include "mec4j.h"
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

}  // namespace mec4j
#endif
