// f32 transpose in 8 x 8 blocks, AVX2: 8 ymm rows, 3 stages of 8 two-source shuffles.
#include "f32_transpose.h"
MEC4J_DEFINE_F32_TRANSPOSE(f32_transpose_8x8_avx2, 8)
