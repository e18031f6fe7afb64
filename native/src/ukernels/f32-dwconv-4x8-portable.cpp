// f32 depthwise convolution, 4 pixels x 8 channels, portable C++ (GCC/Clang vector extensions of
// 4 floats): SSE2 on any x86-64, NEON on aarch64. 8 accumulators + 2 weights + a product fit
// every target. Windows: 4 pixels x 2 vectors for 3 taps a row, 8 pixels x 1 vector for 5.
#include "f32_dwconv.h"
MEC4J_DEFINE_F32_DWCONV(f32_dwconv_4x8_portable, 4, 2, 4)
