// MEC_FUSED's forward on NCHW tensors: the transposed GEMM, O_image = K x P, with each group's
// OIHW kernel rows (k_c/g of them, K = i_c/g*k_h*k_w floats each, as they are) as the
// micro-kernel's A, and P's columns a panel of nr consecutive output pixels at a time: B(k, j) =
// the input value that tap k = (c, r, q) of pixel p0 + j reads, gathered for one K block into a
// small panel (in L1) as it is reached. The tile's vectors then run along pixels, so that each
// channel's plane of the output is written contiguously, and nothing is lowered beyond the panel:
// no workspace, the kernel never reordered.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "igemm.h"
#include "isa.h"
#include "mec.h"
#include "parallel.h"

namespace mec4j {

namespace {

// Output pixels [p0, p0 + cols) of one image as runs along output rows: run j0.. of the panel is
// output row y from column x0, whose taps (r, q) read input row iy0 + r * dh from column
// ix0 + q * dw at stride sw.
struct PixelRun {
  int64_t iy0, ix0, count, j0;
};

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

}  // namespace

void nchw_forward(const Shape& s, mec4j_isa isa, const float* in, const float* oihw, const float* bias, float* out,
                  int threads) {
  const int64_t pixels = s.oh * s.ow, k_total = s.group_patch;
  // The ISA's preferred tile, unless its panels would leave more than an eighth of their columns
  // idle (a small image: 25 pixels fill 39% of a 64-wide panel): then the tile that pads least.
  const IgemmConfig* preferred = igemm_config(isa);
  const int64_t preferred_cols = (pixels + preferred->nr - 1) / preferred->nr * preferred->nr;
  const IgemmConfig& cfg = 8 * (preferred_cols - pixels) > preferred_cols ? *igemm_config(isa, pixels) : *preferred;
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
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pb == 0 && s.pl == 0 &&
                         s.pr == 0;
  // K blocks whose panel fits the stack buffer.
  const int64_t kc = std::min(cfg.kc, kMaxPanelFloats / nr);
  std::atomic<int64_t> next{0};
  const int workers = (int)std::min<int64_t>(threads, units);
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    alignas(64) float panel[kMaxPanelFloats];
    PixelRun runs[kMaxNr];
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
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t p0 = q * nr;
          const int cols = (int)std::min<int64_t>(nr, pixels - p0);
          int64_t nruns = 0;
          for (int64_t j = 0; j < cols;) {
            const int64_t p = p0 + j, y = p / s.ow, x = p % s.ow, count = std::min<int64_t>(s.ow - x, cols - j);
            runs[nruns++] = {y * s.sh - s.pt, x * s.sw - s.pl, count, j};
            j += count;
          }
          float* c0 = out_group + p0;
          if (bias && k0 == 0)  // each channel's row starts from its bias; every K block then adds to it
            for (int64_t o = m0; o < m1; ++o)
              std::fill(c0 + o * s.out_cs, c0 + o * s.out_cs + cols, bias[grp * s.kcg + o]);
          // A full panel of a pointwise layer is B in place: row k (input channel k) of its pixels
          // is contiguous in plane k.
          const bool in_place = pointwise && cols == nr;
          const float* b = in_place ? planes + k0 * s.in_cs + p0 : panel;
          const int64_t ldb = in_place ? s.in_cs : nr;
          if (!in_place) gather_panel(s, planes, runs, nruns, k0, length, cols, nr, panel);
          for (int64_t o = m0; o < m1; o += mr) {
            const int rows = (int)std::min<int64_t>(mr, m1 - o);
            float* c = c0 + o * s.out_cs;
            if (rows == mr) {
              cfg.ukernel_strided(weights + o * k_total, k_total, &seg, 1, b, ldb, c, s.out_cs, cols, first, nullptr,
                                  clamp);
              continue;
            }
            for (int i = 0; i < rows; ++i) a[i] = weights + (o + i) * k_total;
            cfg.ukernel_tails[rows](a, &seg, 1, b, ldb, c, s.out_cs, rows, cols, first, nullptr, clamp);
          }
        }
      }
    }
  });
}

}  // namespace mec4j
