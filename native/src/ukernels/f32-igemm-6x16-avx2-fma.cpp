// f32 igemm, 6 x 16 tile, AVX2 + FMA: 12 ymm accumulators + 2 for B + 1 broadcast of the 16.
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_6x16_avx2_fma, 6, 2, 8)
