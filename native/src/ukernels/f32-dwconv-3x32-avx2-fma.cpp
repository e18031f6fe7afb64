// f32 depthwise convolution, 3 pixels x 32 channels, AVX2 + FMA: 12 ymm accumulators + 4 weights
// (the input vectors are the FMAs' memory operands). Windows: 4 pixels x 2 vectors for 3 taps a
// row, 8 pixels x 1 vector for 5.
#include "f32_dwconv.h"
MEC4J_DEFINE_F32_DWCONV(f32_dwconv_3x32_avx2_fma, 3, 4, 8)
