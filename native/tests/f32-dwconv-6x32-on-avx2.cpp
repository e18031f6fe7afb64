// AVX-512's 6x32 dwconv tile built for AVX2 (each 16-float vector as two ymm halves): the same
// template and tiling as f32-dwconv-6x32-avx512f, testable on a host without AVX-512.
#include "ukernels/f32_dwconv.h"
MEC4J_DEFINE_F32_DWCONV(f32_dwconv_6x32_on_avx2, 6, 2, 16)
