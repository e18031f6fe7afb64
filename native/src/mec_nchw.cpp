// MEC_FUSED's forward on NCHW tensors, one of two ways (measured per layer where both apply):
//
// The transposed GEMM, O_image = K x P, with each group's OIHW kernel rows (k_c/g of them, K =
// i_c/g*k_h*k_w floats each, as they are) as the micro-kernel's A, and P's columns a panel of nr
// consecutive output pixels at a time: B(k, j) = the input value that tap k = (c, r, q) of pixel
// p0 + j reads, gathered for one K block into a small panel (in L1) as it is reached. The tile's
// vectors then run along pixels, so that each channel's plane of the output is written
// contiguously, and nothing is lowered beyond the panel: no workspace, the kernel never
// reordered. The gathered panels add up to the layer's im2col volume, though.
//
// Through NHWC: the kernel turned into HWIO once per call (in blocks of output channels where it
// is large), then per band of output rows its input rows transposed into padded NHWC rows, NHWC's
// GEMM over them (multiply_padded_rows), and the band's output transposed into the output
// planes; a workspace of the kernel block and one band, within the cache-sized bound.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "configs/transpose_config.h"
#include "igemm.h"
#include "isa.h"
#include "lowering.h"
#include "mec.h"
#include "parallel.h"
#include "tuner.h"

namespace mec4j {

namespace {

// The two ways, as tuned_option_run numbers them.
constexpr int kThroughNhwc = 0, kTransposedGemm = 1;

std::atomic<NchwWay> g_forced_way{NchwWay::Auto};

// Output pixels [p0, p0 + cols) of one image as runs along output rows: run j0.. of the panel is
// output row y from column x0, whose taps (r, q) read input row iy0 + r * dh from column
// ix0 + q * dw at stride sw.
struct PixelRun {
  int64_t iy0, ix0, count, j0;
};

// One panel of B for the micro-kernel: output pixels [p0, p0 + cols) of an image, row k of B at
// b + k * ldb (gathered, or a pointwise layer's input planes in place).
struct Panel {
  int64_t p0;
  int cols;
  const float* b;
  int64_t ldb;
};

// Panels gathered at once at most (within kMaxPanelFloats).
constexpr int64_t kMaxChunkPanels = 64;

// d[x] = src[x * sw] for x < count; the stride a constant where it is 1 or 2, so that the
// compiler copies with vectors.
inline void copy_run(const float* __restrict src, int64_t sw, int64_t count, float* __restrict d) {
  if (sw == 1)
    for (int64_t x = 0; x < count; ++x) d[x] = src[x];
  else if (sw == 2)
    for (int64_t x = 0; x < count; ++x) d[x] = src[2 * x];
  else
    for (int64_t x = 0; x < count; ++x) d[x] = src[x * sw];
}

// d[x] = row[ix0 + x * sw] for x < count, 0 where that index leaves [0, iw): two fills and one
// copy, not a branch per value.
inline void gather_run(const float* row, int64_t iw, int64_t ix0, int64_t sw, int64_t count, float* d) {
  const int64_t lo = ix0 >= 0 ? 0 : std::min(count, (sw - 1 - ix0) / sw);
  const int64_t hi = ix0 >= iw ? lo : std::max(lo, std::min(count, (iw - 1 - ix0) / sw + 1));
  std::fill(d, d + lo, 0.0f);
  copy_run(row + ix0 + lo * sw, sw, hi - lo, d + lo);
  std::fill(d + hi, d + count, 0.0f);
}

// B's rows [k0, k0 + length) for pixels [p0, p0 + cols) of the image whose group's first input
// plane is `planes`: panel[(k - k0) * nr + j], zero beyond cols and where a tap reads padding.
void gather_panel(const Shape& s, const float* planes, const PixelRun* runs, int64_t nruns, int64_t k0, int64_t length,
                  int cols, int nr, float* panel) {
  const int64_t taps = s.kh * s.kw;
  int64_t c = k0 / taps, r = k0 % taps / s.kw, q = k0 % s.kw;
  for (int64_t k = 0; k < length; ++k) {
    const float* plane = planes + c * s.in_cs;
    float* dst = panel + k * nr;
    for (int64_t u = 0; u < nruns; ++u) {
      const PixelRun& run = runs[u];
      float* d = dst + run.j0;
      const int64_t iy = run.iy0 + r * s.dh, ix0 = run.ix0 + q * s.dw;
      if (iy < 0 || iy >= s.ih)
        std::fill(d, d + run.count, 0.0f);
      else if (ix0 >= 0 && ix0 + (run.count - 1) * s.sw < s.iw)  // no padding on this run
        copy_run(plane + iy * s.iw + ix0, s.sw, run.count, d);
      else
        gather_run(plane + iy * s.iw, s.iw, ix0, s.sw, run.count, d);
    }
    std::fill(dst + cols, dst + nr, 0.0f);
    if (++q == s.kw) {
      q = 0;
      if (++r == s.kh) r = 0, ++c;
    }
  }
}

// Bands of output rows for the NHWC way: a band's padded NHWC input rows and its NHWC output
// together within half of L2 (where the transposes read and write them), bands of equal height;
// the kernel as HWIO in blocks of output channels (all of them where the workspace holds them).
struct NhwcBands {
  int64_t rows;                   // output rows per band (the last may be shorter)
  int64_t in_floats, out_floats;  // one band's input rows and output, each rounded up to 64 bytes
  int64_t block;                  // output channels per kernel block: k_c/g, or (one group) a multiple of 16
  int64_t kernel_floats;          // one block of the HWIO kernel (every group's, in one block), rounded up
  int64_t scratch_floats;         // the conversion's: 16 kernels' rows transposed

  int64_t workspace_floats() const { return kernel_floats + scratch_floats + in_floats + out_floats; }
};

// False where the NHWC way does not apply, or its workspace (the band, the kernel's block and the
// conversion's scratch) would exceed the default MEC's cache-sized bound.
bool nhwc_bands(const Shape& s, NhwcBands* b) {
  if (s.depthwise()) return false;  // one channel per group: NHWC's GEMMs would be one column wide
  // NHWC's GEMM reads each kernel row's k_w*i_c floats as one window (a tap's with groups).
  if (s.dw > 1 && s.g == 1) return false;
  auto round = [](int64_t floats) { return (floats + 15) / 16 * 16; };
  const int64_t budget = l2_cache_bytes() / 2 / (int64_t)sizeof(float);
  int64_t in_row, out_row, in_first, scratch;
  if (!mul(s.iwp, s.ic, &in_row) || !mul(s.ow, s.kc, &out_row) || !mul(s.ekh, in_row, &in_first) ||
      in_first + out_row > budget || !mul(s.group_patch, 16, &scratch))
    return false;
  const int64_t kernel_budget = cache_sized_bound_elems() - budget - round(scratch);
  // Blocks of whole 64-wide tiles where the kernel must be split (ResNet's 7x7 512 -> 512 layer:
  // 9 MiB of kernel, in three blocks with 4 MiB of workspace), of 16 where those do not fit.
  int64_t block = s.kcg;
  if (round(s.kernel_elems) > kernel_budget) {
    if (s.g > 1 || kernel_budget <= 0) return false;
    const int64_t fit = kernel_budget / s.group_patch;
    block = fit >= 64 ? fit / 64 * 64 : fit / 16 * 16;
    if (block == 0) return false;
  }
  int64_t rows = std::min(s.oh, (budget - in_first - out_row) / (s.sh * in_row + out_row) + 1);
  const int64_t bands = (s.oh + rows - 1) / rows;
  rows = (s.oh + bands - 1) / bands;
  const int64_t rows_in = (rows - 1) * s.sh + s.ekh;
  const int64_t in_floats = rows_in * in_row, out_floats = rows * out_row;  // within the budget: no overflow
  *b = {rows, round(in_floats), round(out_floats), block, round(s.g * s.group_patch * block), round(scratch)};
  return true;
}

// The deterministic choice (MEC4J_TUNING_HEURISTIC, and the measurement's default): the NHWC way
// where its cost beside the transposed GEMM's gather (the im2col volume) is smaller: the input
// and the kernel transposed once, the output about three times as dear (its writes go to k_c
// planes at once, and each line is read for ownership first); not where the kernel alone would
// fill half of L2, nor where an image's output exceeds the caches, written twice over memory
// (measured on cv1-cv12, Intel Xeon model 207: VGG's 112x112 64 -> 128, 6.2 MB a image, ran
// 5-20% slower through NHWC, ResNet's 56x56 64 -> 64 17% faster). On an AMD EPYC Zen 5 the
// best way differs (that VGG layer took 1.00x NHWC's time through NHWC, 1.18x by the transposed
// GEMM; cv4, 224x224 64 -> 64 7x7, 1.05x against 1.40x): so the default measures both.
bool nhwc_preferred(const Shape& s) {
  const int64_t budget = l2_cache_bytes() / 2 / (int64_t)sizeof(float);
  int64_t moved;
  return mul(s.output_elems, 3, &moved) && add(moved, s.input_elems, &moved) && add(moved, s.kernel_elems, &moved) &&
         moved < s.im2col_elems && s.kernel_elems <= budget && s.output_elems / s.n <= 4 * budget;
}

// Output channels [c0, c1) of group grp's OIHW kernel as HWIO rows of c1 - c0 floats, at hwio:
// row (t, c) = tap t of input channel c of each of those kernels. 16 kernels at a time, each read
// once: their K floats transposed into scratch (K rows of 16), each row then copied to its place.
void oihw_to_hwio(const Shape& s, TransposeFn transpose, const float* oihw, int64_t grp, int64_t c0, int64_t c1,
                  float* hwio, float* scratch) {
  const int64_t k_total = s.group_patch, taps = s.kh * s.kw, width = c1 - c0;
  const float* kernels = oihw + grp * s.kcg * k_total;
  for (int64_t o0 = c0; o0 < c1; o0 += 16) {
    const int64_t count = std::min<int64_t>(16, c1 - o0);
    transpose(kernels + o0 * k_total, count, k_total, k_total, scratch, 16);
    for (int64_t c = 0; c < s.icg; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        float* dst = hwio + (t * s.icg + c) * width + (o0 - c0);
        const float* src = scratch + (c * taps + t) * 16;
        if (count == 16)
          std::memcpy(dst, src, 16 * sizeof(float));
        else
          std::memcpy(dst, src, count * sizeof(float));
      }
  }
}

// Image n's padded input rows [h0, h0 + count) as NHWC rows of i_wp*i_c floats.
void nhwc_rows(const Shape& s, TransposeFn transpose, const float* in, int64_t n, int64_t h0, int64_t count, float* dst,
               int threads) {
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t h = h0 + i - s.pt;
      padded_row(s, h, dst + i * s.iwp * s.ic,
                 [&](float* d) { transpose(in + s.in_offset(n, h), s.ic, s.iw, s.in_cs, d, s.ic); });
    }
  });
}

void forward_through_nhwc(const Shape& s, const NhwcBands& b, mec4j_isa isa, const float* in, const float* oihw,
                          const float* bias, float* out, float* ws, int threads) {
  float* hwio = ws;
  float* scratch = hwio + b.kernel_floats;
  float* band_in = scratch + b.scratch_floats;
  float* band_out = band_in + b.in_floats;
  Shape nhwc = s;
  nhwc.nchw = false;
  const TransposeFn transpose = transpose_config(isa)->transpose;
  // Kernel blocks outside (each converted once; the input bands transposed again for each).
  for (int64_t c0 = 0; c0 < s.kcg; c0 += b.block) {
    const int64_t c1 = std::min(s.kcg, c0 + b.block), width = c1 - c0;
    for (int64_t grp = 0; grp < s.g; ++grp)
      oihw_to_hwio(s, transpose, oihw, grp, c0, c1, hwio + grp * s.group_patch * width, scratch);
    const IgemmConfig& cfg = *igemm_config(isa, width);
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t y0 = 0; y0 < s.oh; y0 += b.rows) {
        int64_t first_row;
        const Shape t = row_band(nhwc, y0, std::min(b.rows, s.oh - y0), &first_row);
        nhwc_rows(s, transpose, in, n, y0 * s.sh, t.rows_used, band_in, threads);
        multiply_padded_rows(t, cfg, band_in, hwio, bias ? bias + c0 : nullptr, band_out + c0, nullptr, threads, false,
                             width == s.kcg ? 0 : width);
        // Output pixel rows [y0, y0 + t.oh) of the block's channels' planes (every group's).
        const int64_t pixels = t.oh * s.ow;
        for (int64_t grp = 0; grp < s.g; ++grp) {
          const int64_t first = grp * s.kcg + c0;
          parallel_for((width + 15) / 16, threads, [&](int64_t begin, int64_t end) {
            const int64_t from = first + begin * 16, to = first + std::min(width, end * 16);
            transpose(band_out + from, pixels, to - from, s.kc, out + s.out_offset(n, y0) + from * s.out_cs, s.out_cs);
          });
        }
      }
  }
}

// Output pixels [p_begin, p_end) of every image and channel, in panels of cfg.nr pixels.
void transposed_gemm_pixels(const Shape& s, const IgemmConfig& cfg, int64_t p_begin, int64_t p_end, const float* in,
                            const float* oihw, const float* bias, float* out, int threads) {
  const int64_t pixels = p_end - p_begin, k_total = s.group_patch;
  const int mr = cfg.mr, nr = cfg.nr;
  const int64_t panels = (pixels + nr - 1) / nr;
  // Work units: (image, group, block of panels, block of output channels). The channels are split
  // only where panels alone leave threads idle (small images at a small batch): each block gathers
  // its panels again. The split does not change any sum's order, so neither does the thread count.
  const int64_t tiles_m = (s.kcg + mr - 1) / mr;
  const int64_t m_blocks =
      threads == 1 ? 1 : std::min(tiles_m, std::max<int64_t>(1, 2 * threads / (s.n * s.g * panels)));
  const int64_t block_m = (tiles_m + m_blocks - 1) / m_blocks * mr;
  // K blocks outside, panels inside: each K block of the kernel's rows (block_m x kc) is read from
  // L2 by every panel of the unit, and the unit's outputs (block_m x its pixels), which every K
  // block reads and writes again, stay in half of L2; at least one unit per thread.
  const int64_t c_floats = l2_cache_bytes() / 2 / (int64_t)sizeof(float);
  const int64_t per_image = std::max<int64_t>(1, (threads + s.n * s.g * m_blocks - 1) / (s.n * s.g * m_blocks));
  const int64_t block_panels =
      std::max<int64_t>(1, std::min(c_floats / (block_m * nr), (panels + per_image - 1) / per_image));
  const int64_t panel_blocks = (panels + block_panels - 1) / block_panels;
  const int64_t units = s.n * s.g * panel_blocks * m_blocks;
  // An unpadded 1x1 layer at stride 1: output pixel p reads input pixel p of every plane.
  const bool pointwise =
      s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pb == 0 && s.pl == 0 && s.pr == 0;
  // K blocks whose panel fits the stack buffer.
  const int64_t kc = std::min(cfg.kc, kMaxPanelFloats / nr);
  std::atomic<int64_t> next{0};
  const int workers = (int)std::min<int64_t>(threads, units);
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    alignas(64) float buffer[kMaxPanelFloats];
    Panel chunk_panels[kMaxChunkPanels];
    const float* a[kMaxMr];
    for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const int64_t m0 = u % m_blocks * block_m, m1 = std::min(s.kcg, m0 + block_m);
      const int64_t w = u / m_blocks;
      const int64_t image = w / (s.g * panel_blocks), grp = w / panel_blocks % s.g;
      const int64_t q0 = w % panel_blocks * block_panels, q1 = std::min(panels, q0 + block_panels);
      const float* planes = in + s.in_offset(image, 0) + grp * s.icg * s.in_cs;
      const float* weights = oihw + grp * s.kcg * k_total;
      float* out_group = out + s.out_offset(image, 0) + grp * s.kcg * s.out_cs;
      for (int64_t k0 = 0; k0 < k_total; k0 += kc) {
        const int64_t length = std::min(kc, k_total - k0);
        const Segment seg{k0, length};
        const bool first = k0 == 0 && !bias;
        const float* clamp = k0 + length == k_total ? s.clamp() : nullptr;
        // Panels in chunks that the buffer holds: a chunk's panels are gathered first, then each
        // tile of output channels meets all of them, so that the output planes are written in
        // runs of the chunk's pixels, a tile's few planes at a time: write streams that the
        // prefetchers follow (one panel at a time, every plane of the block is written at once:
        // VGG's first layer, K = 27, ran 1.27x slower so on AMD Zen 5).
        const int64_t chunk = std::clamp<int64_t>(kMaxPanelFloats / (length * nr), 1, kMaxChunkPanels);
        for (int64_t qc = q0; qc < q1; qc += chunk) {
          const int64_t qe = std::min(q1, qc + chunk);
          for (int64_t q = qc; q < qe; ++q) {
            Panel& panel = chunk_panels[q - qc];
            panel.p0 = p_begin + q * nr;
            panel.cols = (int)std::min<int64_t>(nr, p_end - panel.p0);
            float* c0 = out_group + panel.p0;
            if (bias && k0 == 0)  // each channel's row starts from its bias; every K block then adds to it
              for (int64_t o = m0; o < m1; ++o)
                std::fill(c0 + o * s.out_cs, c0 + o * s.out_cs + panel.cols, bias[grp * s.kcg + o]);
            // A full panel of a pointwise layer is B in place: row k (input channel k) of its
            // pixels is contiguous in plane k.
            if (pointwise && panel.cols == nr) {
              panel.b = planes + k0 * s.in_cs + panel.p0, panel.ldb = s.in_cs;
              continue;
            }
            PixelRun runs[kMaxNr];
            int64_t nruns = 0;
            for (int64_t j = 0; j < panel.cols;) {
              const int64_t p = panel.p0 + j, y = p / s.ow, x = p % s.ow;
              const int64_t count = std::min<int64_t>(s.ow - x, panel.cols - j);
              runs[nruns++] = {y * s.sh - s.pt, x * s.sw - s.pl, count, j};
              j += count;
            }
            float* gathered = buffer + (q - qc) * length * nr;
            gather_panel(s, planes, runs, nruns, k0, length, panel.cols, nr, gathered);
            panel.b = gathered, panel.ldb = nr;
          }
          for (int64_t o = m0; o < m1; o += mr) {
            const int rows = (int)std::min<int64_t>(mr, m1 - o);
            for (int i = 0; i < rows; ++i) a[i] = weights + (o + i) * k_total;
            for (int64_t q = qc; q < qe; ++q) {
              const Panel& panel = chunk_panels[q - qc];
              float* c = out_group + o * s.out_cs + panel.p0;
              if (rows == mr)
                cfg.ukernel_strided(a[0], k_total, &seg, 1, panel.b, panel.ldb, c, s.out_cs, panel.cols, first, nullptr,
                                    clamp);
              else
                cfg.ukernel_tails[rows](a, &seg, 1, panel.b, panel.ldb, c, s.out_cs, rows, panel.cols, first, nullptr,
                                        clamp);
            }
          }
        }
      }
    }
  });
}

void forward_transposed_gemm(const Shape& s, mec4j_isa isa, const float* in, const float* oihw, const float* bias,
                             float* out, int threads) {
  const int64_t pixels = s.oh * s.ow;
  // The ISA's preferred tile over its full panels; the pixels left over (or a small image's
  // every pixel: 25 fill 39% of a 64-wide panel) by the tile that pads them least, unless the
  // preferred one would leave at most an eighth of all its columns idle. ResNet's 14x14 layers
  // (144 pixels) so run two 6x64 panels and one 16x16, not nine 16x16 (17 loads per 16 FMAs).
  const IgemmConfig& preferred = *igemm_config(isa);
  const int64_t preferred_cols = (pixels + preferred.nr - 1) / preferred.nr * preferred.nr;
  const int64_t full = 8 * (preferred_cols - pixels) > preferred_cols ? pixels / preferred.nr * preferred.nr : pixels;
  if (full > 0) transposed_gemm_pixels(s, preferred, 0, full, in, oihw, bias, out, threads);
  if (full < pixels)
    transposed_gemm_pixels(s, *igemm_config(isa, pixels - full), full, pixels, in, oihw, bias, out, threads);
}

}  // namespace

int64_t nchw_workspace_elems(const Shape& s) {
  NhwcBands b;
  return nhwc_bands(s, &b) ? b.workspace_floats() : 0;
}

void nchw_forward(const Plan& p, const float* in, const float* oihw, const float* bias, float* out, float* ws) {
  const Shape& s = p.s;
  NhwcBands bands;
  if (!nhwc_bands(s, &bands)) return forward_transposed_gemm(s, p.isa, in, oihw, bias, out, p.threads);
  struct Call {
    const Plan& p;
    const NhwcBands& bands;
    const float *in, *oihw, *bias;
    float *out, *ws;
  } call{p, bands, in, oihw, bias, out, ws};
  auto run = [](const void* context, int way) {
    const Call& c = *static_cast<const Call*>(context);
    if (way == kThroughNhwc)
      forward_through_nhwc(c.p.s, c.bands, c.p.isa, c.in, c.oihw, c.bias, c.out, c.ws, c.p.threads);
    else
      forward_transposed_gemm(c.p.s, c.p.isa, c.in, c.oihw, c.bias, c.out, c.p.threads);
  };
  if (g_forced_way != NchwWay::Auto)
    return run(&call, g_forced_way == NchwWay::ThroughNhwc ? kThroughNhwc : kTransposedGemm);
  tuned_option_run(p, bands.workspace_floats(), kTunedNchwWay, nhwc_preferred(s) ? kThroughNhwc : kTransposedGemm, 2,
                   run, &call);
}

void set_nchw_way_for_testing(NchwWay way) { g_forced_way = way; }

}  // namespace mec4j
