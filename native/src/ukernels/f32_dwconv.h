// Internal: the f32 depthwise convolution micro-kernel, a direct convolution without workspace.
// One call computes one output row of one image for a run of blocks of C output channels and a
// range of taps, vectorised over channels (contiguous in NHWC). Two paths:
// - windows, for rows of 3 or 5 taps at stride 1 or 2 without dilation (MobileNet's and most
//   depthwise layers): a tap row's weights stay in registers and each input vector feeds every
//   tap of the row that reads it;
// - tiles of NP output pixels x C channels for any other layer, each packed weight vector
//   feeding NP FMAs.
// Within a row the channel blocks are the inner loop, so a pixel's channels are read together.
//
// The kernel is one template over the tile (NP pixels, NV vectors of VL floats) written with GCC
// vector extensions; each ISA instantiates it in a file of its own compiled with that ISA's flags
// (f32-dwconv-<NP>x<C>-<isa>.cpp), so one source gives the AVX-512, AVX2 and portable kernels.
#ifndef MEC4J_F32_DWCONV_H
#define MEC4J_F32_DWCONV_H

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "f32_vec.h"

namespace mec4j {

// The most taps one call runs (the caller packs larger kernels in chunks).
constexpr int64_t kDwconvMaxTaps = 128;

// Tap t = r * kw + q (r outer, q inner) of output (y, x) reads input row iy0 + r * dh and column
// x * sw - pl + q * dw; taps outside the input are skipped (they contribute zero).
struct DwconvRow {
  const float* in;  // the image (NHWC), at the first block's first input channel
  float* out;       // the output row, at the first block's first output channel
  // Per block, 64-byte aligned, C floats each (zero beyond `channels`): the bias (zero if none),
  // then taps [t0, t1). Block b's input and output channels start C * b after the first block's.
  const float* w;
  const int32_t* lanes;  // multiplier > 1: C input-channel offsets, one a lane; else null
  int64_t blocks;        // full blocks; 1 with lanes or fewer than C channels
  int64_t ih, iw;        // input rows and columns
  int64_t ic, kc;        // input and output pixel strides (floats)
  int64_t iy0;           // input row of tap row 0 (negative inside the top padding)
  int64_t sw, pl, dh, dw, kw;
  int64_t ow;          // outputs in the row
  int64_t x_lo, x_hi;  // outputs [x_lo, x_hi) read inside the input at every tap column
  int64_t t0, t1;      // the taps of this call: t1 - t0 <= kDwconvMaxTaps
  int channels;        // output channels of the block (< C: the last one) when blocks == 1
  bool first;          // start from the bias; else add to the output's partial sums
  const float* clamp;  // {lo, hi}: the fused activation, with the last taps only; or null
};

using DwconvUkernelFn = void (*)(const DwconvRow& row);

namespace ukernel {

template <int NP, int NV, int VL>
struct F32Dwconv : F32Vec<VL> {
  static constexpr int C = NV * VL;
  using typename F32Vec<VL>::Vec;
  using F32Vec<VL>::load;
  using F32Vec<VL>::load_aligned;
  using F32Vec<VL>::store;
  using F32Vec<VL>::load_partial;
  using F32Vec<VL>::store_partial;
  static Vec gather(const float* p, const int32_t* lanes) {
    alignas(64) float t[VL];  // GCC cannot subscript a vector whose size depends on VL
#pragma GCC unroll 16
    for (int l = 0; l < VL; ++l) t[l] = p[lanes[l]];
    return load_aligned(t);
  }

  template <int P, int V>
  __attribute__((always_inline)) static inline void clamp_all(Vec (&acc)[P][V], const float* clamp) {
    const Vec lo = F32Vec<VL>::broadcast(clamp[0]), hi = F32Vec<VL>::broadcast(clamp[1]);
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
      for (int j = 0; j < V; ++j) acc[p][j] = F32Vec<VL>::clamp(acc[p][j], lo, hi);
  }

  // Full: C channels of multiplier 1 (vector loads). Tail: fewer (the last block; the vectors
  // past `channels` are skipped, the one across it loaded in part). Lanes: multiplier > 1, each
  // lane's input channel through row.lanes. Tail and Lanes store through a tile.
  enum Mode { kFull, kTail, kLanes };

  // The taps of a call that read input rows inside the input (a contiguous run of taps), found
  // once a row: the pixel loops then run over one flat list with no division or row test.
  struct Taps {
    int64_t count;  // taps [t0 + skip, t0 + skip + count) of the call
    int64_t skip;
    int64_t offset[kDwconvMaxTaps];  // input offset from tap (0, 0): (r * dh * iw + q * dw) * ic
    int64_t column[kDwconvMaxTaps];  // q * dw
  };

  // Outputs [x, x + np) of the row (np <= NP), block b. Checked: some tap columns fall outside
  // the input, or np < NP.
  template <bool Checked, Mode M>
  __attribute__((always_inline)) static inline void pixels(const DwconvRow& a, const Taps& taps, int64_t x, int np,
                                                           int64_t b) {
    float* out = a.out + x * a.kc + b * C;
    const float* w = a.w + b * (1 + a.t1 - a.t0) * C;
    const bool tiled = M != kFull && a.channels < C;
    const int full_vectors = M == kFull ? NV : a.channels / VL, rest = a.channels % VL;
    alignas(64) float tile[M != kFull ? NP * C : 1];
    // Fully unrolled loops index acc with constants only, so that it stays in registers.
    Vec acc[NP][NV];
    if (a.first) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const Vec init = load_aligned(w + j * VL);
#pragma GCC unroll 16
        for (int p = 0; p < NP; ++p) acc[p][j] = init;
      }
    } else {
      const float* src = out;
      int64_t lds = a.kc;
      if (tiled) {
        std::memset(tile, 0, sizeof tile);
        for (int p = 0; p < np; ++p) std::memcpy(tile + p * C, out + p * a.kc, a.channels * sizeof(float));
        src = tile;
        lds = C;
      }
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[p][j] = !Checked || p < np ? load(src + p * lds + j * VL) : Vec{};
    }
    const int64_t xin = x * a.sw - a.pl;  // input column of tap column 0
    const int64_t pixel_step = a.sw * a.ic;
    const int64_t base = (a.iy0 * a.iw + xin) * a.ic + b * C;  // offset of tap (0, 0)
    const float* wt = w + (1 + taps.skip) * C;
    for (int64_t i = 0; i < taps.count; ++i, wt += C) {
      Vec wv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) wv[j] = load_aligned(wt + j * VL);
      const int64_t off = base + taps.offset[i], ix = xin + taps.column[i];
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) {
        if (Checked && (p >= np || (uint64_t)(ix + p * a.sw) >= (uint64_t)a.iw)) continue;
        // Offsets first: the pointer is formed only for a column inside the input.
        const float* ip = a.in + (off + p * pixel_step);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) {
          Vec v;
          if (M == kFull || j < full_vectors)
            v = M == kLanes ? gather(ip, a.lanes + j * VL) : load(ip + j * VL);
          else if (j == full_vectors && rest)
            v = M == kLanes ? gather(ip, a.lanes + j * VL) : load_partial(ip + j * VL, rest);
          else
            continue;
          acc[p][j] += v * wv[j];  // one FMA with -ffp-contract=fast where the ISA has it
        }
      }
    }
    if (a.clamp) clamp_all<NP, NV>(acc, a.clamp);
    float* dst = tiled ? tile : out;
    const int64_t ldd = tiled ? C : a.kc;
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
      if (!Checked || p < np)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) store(dst + p * ldd + j * VL, acc[p][j]);
    if (tiled)
      for (int p = 0; p < np; ++p) std::memcpy(out + p * a.kc, tile + p * C, a.channels * sizeof(float));
  }

  template <bool Checked, Mode M>
  __attribute__((always_inline)) static inline void all_blocks(const DwconvRow& a, const Taps& taps, int64_t x,
                                                               int np) {
    for (int64_t b = 0; b < a.blocks; ++b) pixels<Checked, M>(a, taps, x, np, b);
  }

  // Rows of KW taps at stride SW, dilation 1: WP outputs x WV vectors with the tap row's KW x WV
  // weight vectors in registers, so that each input vector is loaded once and feeds every tap
  // that reads it (the loads, not the FMAs, bound the tiles above). Two vectors at a time where
  // the registers allow: passes of one vector over a window of pixel-strided lines alias in L1
  // when the pixel stride is a large power of two, each pass refetching the lines.
  // Registers: WP * WV accumulators + KW * WV weights + an input.
  static constexpr int kRegisters = VL == 16 ? 32 : 16;  // AVX-512; AVX2, SSE2 (NEON has 32)
  template <int KW>
  struct Window {
    static constexpr int WV = NV % 2 == 0 && (kRegisters - 1 - 2 * KW) / 2 >= 4 ? 2 : 1;
    static constexpr int WP = std::min(8, (kRegisters - 1 - KW * WV) / WV);
  };

  // Outputs [x, x + np) (np <= WP, or WP unchecked), channels [channel, channel + n) of the row
  // (n <= WV * VL, or WV * VL not partial). Checked: the columns outside the input are skipped.
  // w: the channels' packed bias, then taps.
  template <int KW, int SW, bool Checked, bool Partial>
  __attribute__((always_inline)) static inline void window(const DwconvRow& a, const Taps& taps, int64_t x, int np,
                                                           const float* w, int64_t channel, int n) {
    constexpr int WV = Window<KW>::WV, WP = Window<KW>::WP;
    constexpr int kColumns = (WP - 1) * SW + KW;
    float* out = a.out + x * a.kc + channel;
    const int64_t xin = x * SW - a.pl;                           // input column of window column 0
    const int64_t base = (a.iy0 * a.iw + xin) * a.ic + channel;  // offset of tap (0, 0)
    const int64_t rows = taps.count / KW;
    // Window columns [c_lo, c_hi) lie inside the input.
    const int64_t c_lo = Checked ? std::max<int64_t>(0, -xin) : 0;
    const int64_t c_hi = Checked ? std::min<int64_t>(kColumns, a.iw - xin) : kColumns;
    // Vector j holds lanes [j * VL, j * VL + n_j) of the n channels (Partial: some of them).
    int nj[WV];
#pragma GCC unroll 4
    for (int j = 0; j < WV; ++j) nj[j] = Partial ? (int)std::clamp<int64_t>(n - j * VL, 0, VL) : VL;
    auto ld = [&](const float* p, int j) { return !Partial || nj[j] == VL ? load(p) : load_partial(p, nj[j]); };
    Vec acc[WP][WV];
#pragma GCC unroll 4
    for (int j = 0; j < WV; ++j) {
      const Vec init = a.first ? load_aligned(w + j * VL) : Vec{};
#pragma GCC unroll 16
      for (int p = 0; p < WP; ++p)
        acc[p][j] = a.first || (Checked && p >= np) || (Partial && nj[j] == 0) ? init : ld(out + p * a.kc + j * VL, j);
    }
    const float* wr = w + (1 + taps.skip) * C;
    for (int64_t r = 0; r < rows; ++r, wr += KW * C) {
      Vec wv[KW][WV];
#pragma GCC unroll 8
      for (int q = 0; q < KW; ++q)
#pragma GCC unroll 4
        for (int j = 0; j < WV; ++j) wv[q][j] = load_aligned(wr + q * C + j * VL);
      const int64_t row_offset = base + taps.offset[r * KW];
      // Column c is tap q of output (c - q) / SW: for each output, q rises with c (r outer,
      // q inner, as everywhere).
#pragma GCC unroll 32
      for (int c = 0; c < kColumns; ++c) {
        if (Checked && (c < c_lo || c >= c_hi)) continue;
#pragma GCC unroll 4
        for (int j = 0; j < WV; ++j) {
          if (Partial && nj[j] == 0) continue;
          // Offsets first: the pointer is formed only for a column inside the input.
          const Vec v = ld(a.in + (row_offset + c * a.ic + j * VL), j);
#pragma GCC unroll 8
          for (int q = 0; q < KW; ++q)
            if (c >= q && (c - q) % SW == 0 && (c - q) / SW < WP) acc[(c - q) / SW][j] += v * wv[q][j];
        }
      }
    }
    if (a.clamp) clamp_all<WP, WV>(acc, a.clamp);
#pragma GCC unroll 16
    for (int p = 0; p < WP; ++p) {
      if (Checked && p >= np) continue;
#pragma GCC unroll 4
      for (int j = 0; j < WV; ++j) {
        if (Partial && nj[j] < VL)
          store_partial(out + p * a.kc + j * VL, acc[p][j], nj[j]);
        else
          store(out + p * a.kc + j * VL, acc[p][j]);
      }
    }
  }

  // Every channel, outputs [x, x + np).
  template <int KW, int SW, bool Checked>
  __attribute__((always_inline)) static inline void windows_at(const DwconvRow& a, const Taps& taps, int64_t x,
                                                               int np) {
    constexpr int G = Window<KW>::WV * VL;  // channels a window computes
    const int64_t block_floats = (1 + a.t1 - a.t0) * C;
    if (a.channels < C) {  // one block, the last
      int g = 0;
      for (; g + G <= a.channels; g += G) window<KW, SW, Checked, false>(a, taps, x, np, a.w + g, g, G);
      if (g < a.channels) window<KW, SW, Checked, true>(a, taps, x, np, a.w + g, g, a.channels - g);
      return;
    }
    for (int64_t b = 0; b < a.blocks; ++b)
      for (int g = 0; g < C; g += G)
        window<KW, SW, Checked, false>(a, taps, x, np, a.w + b * block_floats + g, b * C + g, G);
  }

  // The whole row through windows.
  template <int KW, int SW>
  static void windows(const DwconvRow& a, const Taps& taps) {
    constexpr int WP = Window<KW>::WP;
    for (int64_t x = 0; x < a.ow; x += WP) {
      if (x < a.x_lo || x + WP > a.x_hi)
        windows_at<KW, SW, true>(a, taps, x, (int)std::min<int64_t>(WP, a.ow - x));
      else
        windows_at<KW, SW, false>(a, taps, x, WP);
    }
  }

  template <Mode M>
  static void row(const DwconvRow& a) {
    Taps taps;
    taps.count = 0;
    taps.skip = 0;
    for (int64_t r = a.t0 / a.kw, t = r * a.kw; t < a.t1; ++r) {
      const int64_t iy = a.iy0 + r * a.dh;
      const bool inside = iy >= 0 && iy < a.ih;
      for (int64_t q = 0; q < a.kw; ++q, ++t) {
        if (t < a.t0 || t >= a.t1) continue;
        if (!inside) {
          taps.skip += taps.count == 0;  // rows inside the input are contiguous
          continue;
        }
        taps.offset[taps.count] = (r * a.dh * a.iw + q * a.dw) * a.ic;
        taps.column[taps.count] = q * a.dw;
        ++taps.count;
      }
    }
    if (M != kLanes && a.dw == 1 && a.t0 % a.kw == 0 && a.t1 % a.kw == 0) {
      if (a.kw == 3 && a.sw == 1) return windows<3, 1>(a, taps);
      if (a.kw == 3 && a.sw == 2) return windows<3, 2>(a, taps);
      if (a.kw == 5 && a.sw == 1) return windows<5, 1>(a, taps);
      if (a.kw == 5 && a.sw == 2) return windows<5, 2>(a, taps);
    }
    int64_t x = 0;
    for (; x < a.x_lo; x += NP) all_blocks<true, M>(a, taps, x, (int)std::min<int64_t>(NP, a.ow - x));
    for (; x + NP <= a.x_hi; x += NP) all_blocks<false, M>(a, taps, x, NP);
    for (; x < a.ow; x += NP) all_blocks<true, M>(a, taps, x, (int)std::min<int64_t>(NP, a.ow - x));
  }

  static void run(const DwconvRow& a) {
    if (a.lanes)
      row<kLanes>(a);
    else if (a.channels < C)
      row<kTail>(a);
    else
      row<kFull>(a);
  }
};

}  // namespace ukernel
}  // namespace mec4j

// Declares the C++ function <name>_ukernel of one kernel file.
#define MEC4J_DECLARE_F32_DWCONV(name)       \
  namespace mec4j {                          \
  void name##_ukernel(const DwconvRow& row); \
  }

// Defines the C++ function <name>_ukernel for one tile of the template (NP pixels, NV x VL channels).
#define MEC4J_DEFINE_F32_DWCONV(name, NP, NV, VL)                                         \
  namespace mec4j {                                                                       \
  void name##_ukernel(const DwconvRow& row) { ukernel::F32Dwconv<NP, NV, VL>::run(row); } \
  }

#endif
