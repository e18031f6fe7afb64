// f32 depthwise convolution, 6 pixels x 32 channels, AVX-512F: 12 zmm accumulators + 2 weights
// (the input vectors are the FMAs' memory operands). Windows: 8 pixels x 2 vectors.
#include "f32_dwconv.h"
MEC4J_DEFINE_F32_DWCONV(f32_dwconv_6x32_avx512f, 6, 2, 16)
