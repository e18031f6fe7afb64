// The depthwise micro-kernel for each ISA level (as configs/igemm_config.cpp for the GEMM's).
#include "configs/dwconv_config.h"

#include "isa.h"

MEC4J_DECLARE_F32_DWCONV(f32_dwconv_4x8_portable)
#if defined(MEC4J_HAVE_X86_KERNELS)
MEC4J_DECLARE_F32_DWCONV(f32_dwconv_3x32_avx2_fma)
MEC4J_DECLARE_F32_DWCONV(f32_dwconv_6x32_avx512f)
#endif

namespace mec4j {

const DwconvConfig* dwconv_config(mec4j_isa isa) {
  static const DwconvConfig configs[] = {
    {"f32-dwconv-4x8-portable", MEC4J_ISA_PORTABLE, 8, f32_dwconv_4x8_portable_ukernel},
#if defined(MEC4J_HAVE_X86_KERNELS)
    {"f32-dwconv-3x32-avx2-fma", MEC4J_ISA_AVX2, 32, f32_dwconv_3x32_avx2_fma_ukernel},
    {"f32-dwconv-6x32-avx512f", MEC4J_ISA_AVX512, 32, f32_dwconv_6x32_avx512f_ukernel},
#endif
  };
  return best_config(configs, isa);
}

}  // namespace mec4j
