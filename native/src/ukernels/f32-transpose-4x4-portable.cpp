// f32 transpose in 4 x 4 blocks of 128-bit vectors (SSE2 on x86-64, NEON on aarch64).
#include "f32_transpose.h"
MEC4J_DEFINE_F32_TRANSPOSE(f32_transpose_4x4_portable, 4)
