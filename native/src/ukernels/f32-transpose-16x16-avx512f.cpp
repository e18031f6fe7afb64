// f32 transpose in 16 x 16 blocks, AVX-512F: 16 zmm rows, 4 stages of 16 two-source shuffles.
#include "f32_transpose.h"
MEC4J_DEFINE_F32_TRANSPOSE(f32_transpose_16x16_avx512f, 16)
