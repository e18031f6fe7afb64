// f32 igemm, 12 x 32 tile, AVX-512F: 24 zmm accumulators + 2 for B (+ embedded broadcasts of A)
// of the 32.
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_12x32_avx512f, 12, 2, 16)
