// The transpose micro-kernel for each ISA level (as configs/igemm_config.cpp for the GEMM's).
#include "configs/transpose_config.h"

#include "isa.h"

MEC4J_DECLARE_F32_TRANSPOSE(f32_transpose_4x4_portable)
#if defined(MEC4J_HAVE_X86_KERNELS)
MEC4J_DECLARE_F32_TRANSPOSE(f32_transpose_8x8_avx2)
MEC4J_DECLARE_F32_TRANSPOSE(f32_transpose_16x16_avx512f)
#endif

namespace mec4j {

const TransposeConfig* transpose_config(mec4j_isa isa) {
  static const TransposeConfig configs[] = {
    {"f32-transpose-4x4-portable", MEC4J_ISA_PORTABLE, f32_transpose_4x4_portable_ukernel},
#if defined(MEC4J_HAVE_X86_KERNELS)
    {"f32-transpose-8x8-avx2", MEC4J_ISA_AVX2, f32_transpose_8x8_avx2_ukernel},
    {"f32-transpose-16x16-avx512f", MEC4J_ISA_AVX512, f32_transpose_16x16_avx512f_ukernel},
#endif
  };
  return best_config(configs, isa);
}

}  // namespace mec4j
