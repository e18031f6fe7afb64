// f32 igemm, 4 x 8 tile, portable C++ (GCC/Clang vector extensions of 4 floats): SSE2 on any
// x86-64, NEON on aarch64, scalar code elsewhere. 8 accumulators + 2 for B fit every target.
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_4x8_portable, 4, 2, 4)
