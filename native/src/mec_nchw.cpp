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
#include "mec.h"
#include "parallel.h"

namespace mec4j {

namespace {

// Output pixels [p0, p0 + cols) of one image as runs along output rows.
struct PixelRun {
  int64_t y, x0, count, j0;
};

// B's rows [k0, k0 + length) for pixels [p0, p0 + cols) of the image whose group's first input
// plane is `planes`: panel[(k - k0) * nr + j], zero beyond cols and where a tap reads padding.
void gather_panel(const Shape& s, const float* planes, const PixelRun* runs, int64_t nruns, int64_t k0, int64_t length,
                  int cols, int nr, float* panel) {
  const int64_t taps = s.kh * s.kw;
  for (int64_t k = k0; k < k0 + length; ++k) {
    const int64_t c = k / taps, t = k % taps, r = t / s.kw, q = t % s.kw;
    const float* plane = planes + c * s.in_cs;
    float* dst = panel + (k - k0) * nr;
    for (int64_t u = 0; u < nruns; ++u) {
      const PixelRun& run = runs[u];
      float* d = dst + run.j0;
      const int64_t iy = run.y * s.sh + r * s.dh - s.pt;
      if (iy < 0 || iy >= s.ih) {
        std::memset(d, 0, run.count * sizeof(float));
        continue;
      }
      const float* row = plane + iy * s.iw;
      const int64_t ix0 = run.x0 * s.sw + q * s.dw - s.pl;
      for (int64_t x = 0; x < run.count; ++x) {
        const int64_t ix = ix0 + x * s.sw;
        d[x] = ix >= 0 && ix < s.iw ? row[ix] : 0.0f;
      }
    }
    std::memset(dst + cols, 0, (nr - cols) * sizeof(float));
  }
}

}  // namespace

void nchw_forward(const Shape& s, const IgemmConfig& cfg, const float* in, const float* oihw, const float* bias,
                  float* out, int threads) {
  const int mr = cfg.mr, nr = cfg.nr;
  const int64_t pixels = s.oh * s.ow, k_total = s.group_patch;
  const int64_t panels = (pixels + nr - 1) / nr;
  const int64_t units = s.n * s.g * panels;
  // K blocks whose panel fits the stack buffer.
  const int64_t kc = std::min<int64_t>(cfg.kc, kMaxPanelFloats / nr);
  std::atomic<int64_t> next{0};
  const int workers = (int)std::min<int64_t>(threads, units);
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    alignas(64) float panel[kMaxPanelFloats];
    PixelRun runs[kMaxNr];
    const float* a[kMaxMr];
    for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const int64_t image = u / (s.g * panels), grp = u / panels % s.g, p0 = u % panels * nr;
      const int cols = (int)std::min<int64_t>(nr, pixels - p0);
      int64_t nruns = 0;
      for (int64_t j = 0; j < cols;) {
        const int64_t p = p0 + j, y = p / s.ow, x = p % s.ow, count = std::min<int64_t>(s.ow - x, cols - j);
        runs[nruns++] = {y, x, count, j};
        j += count;
      }
      const float* planes = in + s.in_offset(image, 0) + grp * s.icg * s.in_cs;
      const float* weights = oihw + grp * s.kcg * k_total;
      float* c0 = out + s.out_offset(image, 0) + grp * s.kcg * s.out_cs + p0;
      if (bias)  // each channel's row starts from its bias; every K block then adds to it
        for (int64_t o = 0; o < s.kcg; ++o)
          std::fill(c0 + o * s.out_cs, c0 + o * s.out_cs + cols, bias[grp * s.kcg + o]);
      for (int64_t k0 = 0; k0 < k_total; k0 += kc) {
        const int64_t length = std::min(kc, k_total - k0);
        gather_panel(s, planes, runs, nruns, k0, length, cols, nr, panel);
        const Segment seg{k0, length};
        const bool first = k0 == 0 && !bias;
        const float* clamp = k0 + length == k_total ? s.clamp() : nullptr;
        for (int64_t o = 0; o < s.kcg; o += mr) {
          const int rows = (int)std::min<int64_t>(mr, s.kcg - o);
          float* c = c0 + o * s.out_cs;
          if (rows == mr) {
            cfg.ukernel_strided(weights + o * k_total, k_total, &seg, 1, panel, c, s.out_cs, cols, first, nullptr,
                                clamp);
            continue;
          }
          for (int i = 0; i < rows; ++i) a[i] = weights + (o + i) * k_total;
          cfg.ukernel_tails[rows](a, &seg, 1, panel, c, s.out_cs, rows, cols, first, nullptr, clamp);
        }
      }
    }
  });
}

}  // namespace mec4j
