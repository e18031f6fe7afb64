// AVX-512's 12x32 tile built for AVX2 (each 16-float vector as two ymm halves): the same template
// and tiling as f32-igemm-12x32-avx512f, testable on a host without AVX-512.
#include "ukernels/f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_12x32_on_avx2, 12, 2, 16)
