// f32 igemm, 16 x 16 tile, AVX-512F: 16 zmm accumulators, one B vector per K step; for layers of
// 16*(2j+1) output channels (UNet's 16), which wider panels would pad by half or more.
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_16x16_avx512f, 16, 1, 16)
