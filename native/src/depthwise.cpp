// Direct depthwise convolution, forward and backward (depthwise.h).
#include "depthwise.h"

#include <algorithm>

#include "bias.h"
#include "lowering.h"
#include "parallel.h"
#include "reference.h"

namespace mec4j {

namespace {

// The per-thread stack buffer of packed weights: bias and taps of one or more channel blocks.
constexpr int64_t kPackFloats = 2048;
constexpr int kMaxChannels = 64;
// Rows packed weights are reused over: enough outputs to amortise the packing (scalar, taps x C
// floats a block) against the rows' vector work.
constexpr int64_t kBandPixels = 256;

// a >= 0, b > 0; without a + b - 1, which overflows for a padding and a stride near 2^63.
int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

// The micro-kernels address input pixels across the padding with 64-bit offsets (x * s_w - p_l,
// a tile's pixels a stride apart, rows of i_w pixels, times i_c). Whether those fit for this
// layer: not when its padding or stride is near 2^63 (valid, but no real network), which then
// runs the reference's loops.
bool kernel_offsets_fit(const Shape& s) {
  int64_t step, width, height, area, floats;
  return mul(s.sw, 16, &step) && add(s.iw + s.pl + s.pr, step, &width) && mul(s.sh, 16, &step) &&
         add(s.ih + s.pt + s.pb, step, &height) && mul(height, width, &area) && mul(area, s.ic, &floats);
}

}  // namespace

const char* depthwise_kernel_name(mec4j_isa isa) { return dwconv_config(isa)->name; }

void depthwise_forward(const Shape& s, mec4j_isa isa, const float* in, const float* k, const float* bias, float* out,
                       int threads) {
  depthwise_forward(s, *dwconv_config(isa), in, k, bias, out, threads);
}

void depthwise_forward(const Shape& s, const DwconvConfig& config, const float* in, const float* k, const float* bias,
                       float* out, int threads, int64_t max_taps) {
  if (s.n <= 0 || s.oh <= 0 || s.ow <= 0 || s.kc <= 0) return;
  if (!kernel_offsets_fit(s)) return reference_forward(s, in, k, bias, out);
  const int64_t C = config.channels;
  const int64_t m = s.kc / s.ic, taps = s.kh * s.kw;
  int64_t chunk = std::min(kDwconvMaxTaps, kPackFloats / C - 1);  // taps that fit with a block's bias
  if (max_taps > 0) chunk = std::min(chunk, max_taps);
  // A single output column is column 0 at any stride: take 1, so that nothing computed from a
  // stride as large as the padded width (pl + sw, sw * ic) overflows.
  const int64_t sw = s.ow > 1 ? s.sw : 1;
  // Outputs whose every tap column lies inside the input: x * sw - pl >= 0 and
  // x * sw - pl + (kw - 1) * dw <= iw - 1.
  const int64_t x_lo = std::min(s.ow, ceil_div(s.pl, sw));
  const int64_t last = s.iw - s.ekw + s.pl;  // the largest x * sw of such an output
  const int64_t x_hi = last < 0 ? x_lo : std::clamp(last / sw + 1, x_lo, s.ow);
  const int64_t band = std::max<int64_t>(1, ceil_div(kBandPixels, s.ow));
  const int64_t image_in = s.ih * s.iw * s.ic, row_out = s.ow * s.kc;

  parallel_for(s.n * s.oh, threads, [&](int64_t begin, int64_t end) {
    alignas(64) float w[kPackFloats];
    int32_t lanes[kMaxChannels];
    DwconvRow a;
    a.ih = s.ih;
    a.iw = s.iw;
    a.ic = s.ic;
    a.kc = s.kc;
    a.sw = sw;
    a.pl = s.pl;
    a.dh = s.dh;
    a.dw = s.dw;
    a.kw = s.kw;
    a.ow = s.ow;
    a.x_lo = x_lo;
    a.x_hi = x_hi;
    a.w = w;
    for (int64_t b0 = begin; b0 < end; b0 += band) {
      const int64_t b1 = std::min(end, b0 + band);
      for (int64_t t0 = 0; t0 < taps; t0 += chunk) {
        const int64_t t1 = std::min(taps, t0 + chunk), block_floats = (1 + t1 - t0) * C;
        a.t0 = t0;
        a.t1 = t1;
        a.first = t0 == 0;
        a.clamp = t1 == taps ? s.clamp() : nullptr;
        for (int64_t o0 = 0; o0 < s.kc;) {
          // Full blocks of multiplier 1 go as many at a time as the buffer holds; the last partial
          // one and those of multiplier m > 1 one at a time (lane l reads channel c0 + lanes[l]).
          const int64_t c0 = o0 / m;  // the first block's first input channel
          const bool full = m == 1 && s.kc - o0 >= C;
          const int64_t blocks = full ? std::min(kPackFloats / block_floats, (s.kc - o0) / C) : 1;
          const int channels = (int)std::min(C, s.kc - o0);
          if (m != 1)
            for (int l = 0; l < C; ++l) lanes[l] = l < channels ? (int32_t)((o0 + l) / m - c0) : 0;
          a.lanes = m != 1 ? lanes : nullptr;
          a.blocks = blocks;
          a.channels = channels;
          // Weight (c, t, j) of output channel o = c * m + j is k[(c * taps + t) * m + j]: for
          // consecutive o, the next j, or j = 0 of the next c.
          int64_t c = c0, j = o0 - c0 * m;
          for (int64_t b = 0; b < blocks; ++b) {
            float* wb = w + b * block_floats;
            const int64_t ob = o0 + b * C, nb = std::min(C, s.kc - ob);
            for (int64_t l = 0; l < C; ++l) wb[l] = bias && l < nb ? bias[ob + l] : 0.0f;
            for (int64_t l = 0; l < C; ++l) {
              if (l < nb) {
                const float* src = k + c * taps * m + j;
                for (int64_t t = t0; t < t1; ++t) wb[(1 + t - t0) * C + l] = src[t * m];
                if (++j == m) j = 0, ++c;
              } else {
                for (int64_t t = t0; t < t1; ++t) wb[(1 + t - t0) * C + l] = 0.0f;
              }
            }
          }
          for (int64_t row = b0; row < b1; ++row) {
            const int64_t image = row / s.oh, y = row % s.oh;
            a.in = in + image * image_in + c0;
            a.out = out + row * row_out + o0;
            a.iy0 = y * s.sh - s.pt;
            config.ukernel(a);
          }
          o0 += blocks * C;
        }
      }
    }
  });
}

// --- Backward passes -----------------------------------------------------------------------------

namespace {
// Kernel (per channel c: k_h x k_w x m) transposed to [r][q][j][c]: a tap's weights contiguous
// over channels, as NHWC pixels are.
void transpose_depthwise_kernel(const Shape& s, const float* k, float* kt) {
  const int64_t m = s.kcg, taps = s.kh * s.kw;
  for (int64_t c = 0; c < s.ic; ++c)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t j = 0; j < m; ++j) kt[(t * m + j) * s.ic + c] = k[(c * taps + t) * m + j];
}
}  // namespace

void depthwise_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws) {
  transpose_depthwise_kernel(s, k, ws);
  const int64_t m = s.kcg;
  for_each_input_row(s, grad_in, [&](int64_t n, int64_t r, int64_t y, float* dst) {
    const float* g_row = grad_out + (n * s.oh + y) * s.ow * s.kc;
    for (int64_t q = 0; q < s.kw; ++q) {
      const float* w = ws + (r * s.kw + q) * m * s.ic;
      for (int64_t ix = 0; ix < s.iw; ++ix) {
        const int64_t xx = ix + s.pl - q * s.dw;
        if (xx < 0 || xx % s.sw != 0 || xx / s.sw >= s.ow) continue;
        const float* __restrict g = g_row + xx / s.sw * s.kc;
        float* __restrict d = dst + ix * s.ic;
        if (m == 1) {
          for (int64_t c = 0; c < s.ic; ++c) d[c] += g[c] * w[c];
        } else {
          for (int64_t c = 0; c < s.ic; ++c)
            for (int64_t j = 0; j < m; ++j) d[c] += g[c * m + j] * w[j * s.ic + c];
        }
      }
    }
  });
}

void depthwise_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                                float* ws) {
  const int64_t m = s.kcg, taps = s.kh * s.kw;
  constexpr int64_t kChunk = 16;  // channels per unit of work: whole vectors
  const int64_t chunks = (s.ic + kChunk - 1) / kChunk;
  // Each thread owns a range of channels: it alone writes their accumulators, in a fixed order.
  parallel_for(chunks, available_threads(), [&](int64_t begin, int64_t end) {
    const int64_t c0 = begin * kChunk, c1 = std::min(end * kChunk, s.ic);
    for (int64_t t = 0; t < taps * m; ++t) std::memset(ws + t * s.ic + c0, 0, (c1 - c0) * sizeof(float));
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t y = 0; y < s.oh; ++y)
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t iy = y * s.sh + r * s.dh - s.pt;
          if (iy < 0 || iy >= s.ih) continue;
          for (int64_t x = 0; x < s.ow; ++x) {
            const float* __restrict g = grad_out + ((n * s.oh + y) * s.ow + x) * s.kc;
            for (int64_t q = 0; q < s.kw; ++q) {
              const int64_t ix = x * s.sw + q * s.dw - s.pl;
              if (ix < 0 || ix >= s.iw) continue;
              const float* __restrict v = in + ((n * s.ih + iy) * s.iw + ix) * s.ic;
              float* __restrict a = ws + (r * s.kw + q) * m * s.ic;
              if (m == 1) {
                for (int64_t c = c0; c < c1; ++c) a[c] += v[c] * g[c];
              } else {
                for (int64_t c = c0; c < c1; ++c)
                  for (int64_t j = 0; j < m; ++j) a[j * s.ic + c] += v[c] * g[c * m + j];
              }
            }
          }
        }
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t j = 0; j < m; ++j) grad_k[(c * taps + t) * m + j] = ws[(t * m + j) * s.ic + c];
  });
  bias_gradient(s, grad_out, grad_bias);
}

}  // namespace mec4j
