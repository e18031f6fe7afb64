// f32 igemm, 8 x 8 tile, aarch64 NEON (the portable template's vectors of 4 floats, FMA by
// -ffp-contract): 16 accumulators + 2 for B + broadcasts of A fit the 32 vector registers with
// room to spare (no spills), against the portable 4x8's 8 accumulators: 10 loads per 16 FMAs
// instead of 6 per 8.
#include "f32_igemm.h"
MEC4J_DEFINE_F32_IGEMM(f32_igemm_8x8_neon, 8, 2, 4)
