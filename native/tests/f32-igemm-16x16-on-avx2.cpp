// AVX-512's 16x16 tile built for AVX2 (each 16-float vector as two ymm halves): the same template
// and tiling as f32-igemm-16x16-avx512f, testable on a host without AVX-512.
#include "ukernels/f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_16x16_on_avx2, 16, 1, 16)
