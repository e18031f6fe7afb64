// AVX-512's 6x64 tile built for AVX2 (each 16-float vector as two ymm halves): the same template
// and tiling as f32-igemm-6x64-avx512f, testable on a host without AVX-512.
#include "ukernels/f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_6x64_on_avx2, 6, 4, 16)
