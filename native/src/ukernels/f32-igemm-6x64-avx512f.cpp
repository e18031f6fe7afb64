// f32 igemm, 6 x 64 tile, AVX-512F: 24 zmm accumulators + 4 for B; each broadcast of A feeds 4
// FMAs (oneDNN's brgemm blocking: 10 loads per 24 FMAs, against 14 for 12 x 32).
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_6x64_avx512f, 6, 4, 16)
