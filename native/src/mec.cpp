// MEC (Cho & Brand 2017) and a row-major variant with the same workspace.
//
// Column lowering (the paper's, Solutions A and B): L = i_n x o_w x i_h x k_w x i_c; output row
// h reads the window of k_h*k_w*i_c columns starting at column h*s_h*k_w*i_c, in place.
//
// Row lowering (MEC_ROWS): per image, the same |L| floats ordered i_h x o_w x k_w x i_c, with the
// rows grouped by phase (h mod s_h). Kernel row r = q*s_h + p then needs input rows
// p + s_h*(y + q) for y = 0..o_h-1: consecutive rows of phase p, i.e. ONE contiguous
// (o_h*o_w) x (k_w*i_c) matrix. So each kernel row is one GEMM with M = o_h*o_w, accumulated with
// beta = 1: k_h large GEMMs per image instead of o_h small ones. With a batch and |O| <= |L| the
// images can be interleaved (rows, then n) so that each kernel row is one GEMM over the whole
// batch (M = i_n*o_h*o_w), at the price of Solution A's permutation.
//
// The backward passes of a convolution: the gradients with respect to the input (backward data)
// and to the kernel and bias (backward weights), given the gradient of the output.
//
// Forward, output pixel (y, x) of group j multiplies the window of input rows y*s_h + r*d_h
// (kernel rows r) with the kernel. MEC's row lowering (MEC_ROWS, mec.cpp) stores each padded input
// row once per output column, k_w*i_c floats, with the rows grouped by phase so that kernel row r
// reads ONE contiguous (o_h*o_w) x (k_w*i_c) matrix L_r of an image. Hence, per image:
//   backward weights: dK_r (k_w*i_c x k_c)  += L_r^T  * dO   (k_h GEMMs, K = o_h*o_w)
//   backward data:    dL_r (o_h*o_w x k_w*i_c) += dO * K_r^T (k_h GEMMs into overlapping row
//                     windows of the lowered buffer), then each lowered row is added back into
//                     the input row it came from (col2im's reverse, over |L| / i_n floats
//                     instead of im2col's k_h/s_h times larger matrix).
// With groups, each group's GEMMs cover its i_c/g channels of each kernel tap.
#include "mec.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "bias.h"
#include "blas.h"
#include "configs/igemm_config.h"
#include "env.h"
#include "igemm.h"
#include "isa.h"
#include "lowering.h"
#include "parallel.h"
#include "stream_stores.h"

namespace mec4j {

// --- Row lowering --------------------------------------------------------------------------

// Index of padded row h in the phase-grouped order: rows of phase 0 first, then phase 1, ...
int64_t phase_row(const Shape& s, int64_t h) {
  const int64_t p = h % s.sh, j = h / s.sh;
  int64_t before = 0;  // rows of phases < p: ceil((ihp - p') / s_h) each
  // ceil((ihp - q) / s_h), without forming ihp + s_h: a stride may be as large as int64 allows.
  for (int64_t q = 0; q < p; ++q) before += (s.ihp - q) / s.sh + ((s.ihp - q) % s.sh != 0);
  return before + j;
}

// Whether some kernel row reads padded rows of phase p (kernel row r reads phase r*d_h mod s_h).
bool phase_read(const Shape& s, int64_t p) {
  if (s.dh == 1) return p < s.kh;
  for (int64_t r = 0; r < s.kh; ++r)
    if (r * s.dh % s.sh == p) return true;
  return false;
}

// The lowered row that kernel row r reads for output row 0 (output row y reads y rows further).
int64_t kernel_row_start(const Shape& s, int64_t r) { return phase_row(s, r * s.dh); }

// interleaved == false: per image [row][w][k_w*i_c]; true: [row][n][w][k_w*i_c]. Rows of a phase
// that no kernel row reads (when k_h < s_h, or with dilation) are skipped.
void lower_rows(const Shape& s, const float* in, float* L, bool interleaved, int threads) {
  const int64_t piece = s.kw * s.ic;
  const int64_t row = s.ow * piece;  // one lowered row of one image
  parallel_for(s.n * s.rows_used, threads, [&](int64_t begin, int64_t end) {
    for (int64_t nh = begin; nh < end; ++nh) {
      const int64_t n = nh / s.rows_used, h = nh % s.rows_used;
      if (!phase_read(s, h % s.sh)) continue;
      const float* image = in + s.in_offset(n, 0);
      const int64_t r = phase_row(s, h);
      float* dst = interleaved ? L + (r * s.n + n) * row : L + (n * s.ihp + r) * row;
      for (int64_t w = 0; w < s.ow; ++w) copy_window_row(s, image, h - s.pt, w * s.sw, dst + w * piece);
    }
  });
}

namespace {

// --- Column lowering (the paper's) ---------------------------------------------------------

// L[n, w, h, :, :] = padded input row h, columns s_w*w .. s_w*w + k_w - 1. Rows that no output
// reads (h >= rows_used) are left unwritten: no GEMM window reaches them.
void lower_columns(const Shape& s, const float* in, float* L, int threads) {
  const int64_t row = s.kw * s.ic;
  const int64_t strip = s.ihp * row;  // one (n, w) strip
  parallel_for(s.n * s.ow, threads, [&](int64_t begin, int64_t end) {
    for (int64_t nw = begin; nw < end; ++nw) {
      const int64_t n = nw / s.ow, w = nw % s.ow;
      const float* image = in + n * s.ih * s.iw * s.ic;
      float* dst = L + nw * strip;
      for (int64_t h = 0; h < s.rows_used; ++h) copy_window_row(s, image, h - s.pt, w * s.sw, dst + h * row);
    }
  });
}

// Permutes O from (h, n, w, c) to (n, h, w, c) through L's buffer (|O| <= |L| checked by caller).
void unpermute_rows(const Shape& s, float* out, float* L, int threads) {
  std::memcpy(L, out, s.output_elems * sizeof(float));
  const int64_t run = s.ow * s.kc;
  parallel_for(s.oh * s.n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t hn = begin; hn < end; ++hn) {
      const int64_t h = hn / s.n, n = hn % s.n;
      std::memcpy(out + (n * s.oh + h) * run, L + hn * run, run * sizeof(float));
    }
  });
}

enum class GemmParallel { Auto, Blas, Split };

// MEC4J_GEMM_PARALLEL=blas|split overrides the default (auto) for experiments.
EnvSetting g_gemm_parallel{
    "MEC4J_GEMM_PARALLEL", [](const char* text) {
      return parse_env_choice(
          text, (int)GemmParallel::Auto,
          {{"auto", (int)GemmParallel::Auto}, {"blas", (int)GemmParallel::Blas}, {"split", (int)GemmParallel::Split}});
    }};

// A misspelt value never gets here: planning refuses it (gemm_parallel_status).
GemmParallel gemm_parallel() {
  const int mode = g_gemm_parallel.get();
  return mode == EnvSetting::kMisspelt ? GemmParallel::Auto : (GemmParallel)mode;
}

// Runs gemm(i) for i in [0, count): either one after another with the BLAS's own threads, or
// split across mec4j's threads with a single-threaded BLAS in each. By default (Auto) only
// `split_by_default` calls split: Solution B over a batch, i_n*o_h small GEMMs (M = o_w), where
// waking the BLAS's threads for every GEMM cost 10-35% on this project's 2-core machine (README,
// "Threads"); a few large GEMMs (A, ROWS) keep the BLAS's threads.
template <typename Gemm>
void run_gemms(int64_t count, int threads, bool split_by_default, Gemm gemm) {
  const GemmParallel mode = gemm_parallel();
  const bool split = mode == GemmParallel::Split || (mode == GemmParallel::Auto && split_by_default);
  if (threads <= 1 || !split || count < threads) {
    for (int64_t i = 0; i < count; ++i) gemm(i);
    return;
  }
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    SingleThreadedBlas single;
    for (int64_t i = begin; i < end; ++i) gemm(i);
  });
}

}  // namespace

mec4j_status gemm_parallel_status() { return g_gemm_parallel.misspelt() ? MEC4J_ERROR_BAD_ENVIRONMENT : MEC4J_OK; }

namespace {
// MEC_FUSED's GEMM over a lowered (or dense) tile: its sizes and row windows. Plain values, no
// memory of its own: building and running one cannot fail once an output is being written.
// The GEMM's K runs over segments of contiguous floats: per kernel row its k_w*i_c lowered floats,
// or with groups per kernel tap (r, q) the group's i_c/g channels; group j's windows are group
// 0's shifted by j*i_c/g floats.
struct RowWindows {
  Shape s;
  Lowering lowering;   // Mec: lowered rows; InPlace, Subsample: dense pixels; Direct: the input
  int64_t columns;     // windows per kernel row: k_w with groups, else 1
  int64_t row_floats;  // one lowered row (o_w*k_w*i_c), or one input row (i_w*i_c)
};

// Window r: kernel row r / columns at its lowered (or input) row for output row 0, tap r % columns.
int64_t window_offset(const void* context, int64_t r) {
  const RowWindows& w = *static_cast<const RowWindows*>(context);
  switch (w.lowering) {
    case Lowering::InPlace:
    case Lowering::Subsample:
      return 0;
    case Lowering::Direct:
      return r / w.columns * w.s.dh * w.row_floats + r % w.columns * w.s.dw * w.s.ic;
    case Lowering::Mec:
      break;
  }
  return kernel_row_start(w.s, r / w.columns) * w.row_floats + r % w.columns * w.s.ic;
}

struct FusedGemm {
  RowWindowGemm g;  // without origin, kernel, bias, output and row_context (the windows below)
  RowWindows windows;
};

// Sets g to skip the kernel rows of `padded` (the layer whose padded rows A holds) that read zero
// padding only (RowWindowGemm::padding): where `padded` has padding rows and every output row
// reads some row of the image (an output of the bias alone is no GEMM's).
void skip_padding_rows(RowWindowGemm& g, const Shape& padded, int64_t k_per_kernel_row) {
  g.padding = {};
  if (padded.pt == 0 && padded.pb == 0) return;
  const RowWindowGemm::PaddingRows pad{k_per_kernel_row, padded.kh, padded.pt, padded.ih, padded.sh, padded.dh};
  for (int64_t y = 0; y < padded.oh; ++y) {
    int64_t first, end;
    pad.rows_inside(y, y, &first, &end);
    if (first >= end) return;
  }
  g.padding = pad;
}

FusedGemm fused_gemm(const Shape& s, Lowering lowering) {
  const int64_t patch_row = s.kw * s.ic;
  const bool dense = lowering == Lowering::InPlace || lowering == Lowering::Subsample;
  FusedGemm f{};
  RowWindowGemm& g = f.g;
  g.m = s.n * s.oh * s.ow;
  g.n = s.kcg;
  g.ldc = s.kc;
  g.pixels = s.oh * s.ow;
  g.width = s.ow;
  const bool grouped = s.g > 1;
  const int64_t taps = dense ? 1 : s.kh, columns = grouped && !dense ? s.kw : 1;
  int64_t row_floats = s.ow * patch_row;
  if (dense) {  // NHWC pixels of i_c floats
    g.image_stride = s.oh * s.ow * s.ic;
    g.y_stride = s.ow * s.ic;
    g.x_stride = s.ic;
  } else if (lowering == Lowering::Direct) {
    // The NHWC input: output pixel (y, x) reads, for kernel row r, the k_w*i_c floats of input
    // row y*s_h + r*d_h from column x*s_w on (a tap's i_c/g of them with groups).
    // A stride is used only where there is a second output row (column), and then fits in the
    // input (a stride near 2^63 leaves one output row, whose step must not be computed).
    row_floats = s.iw * s.ic;
    g.image_stride = s.ih * row_floats;
    g.y_stride = s.oh > 1 ? s.sh * row_floats : 0;
    g.x_stride = s.ow > 1 ? s.sw * s.ic : 0;
  } else {
    // Per image [row][w][k_w*i_c]: output pixel (y, x) reads, for kernel row r, the window at
    // lowered row kernel_row_start(r) + y, column x. The GEMM gathers the k_h windows itself,
    // so the batch needs no interleaving and the output comes out in NHWC.
    g.image_stride = s.image_lowered();
    g.y_stride = s.ow * patch_row;
    g.x_stride = patch_row;
  }
  f.windows = RowWindows{s, lowering, columns, row_floats};
  g.kernel_rows = taps * columns;
  g.piece = grouped ? s.icg : dense ? s.ic : patch_row;
  g.row_offset = window_offset;
  if (lowering == Lowering::Mec) skip_padding_rows(g, s, columns * g.piece);
  return f;
}

// Whether s's output is larger than the caches hold (twice the L2 of every thread) and streaming
// stores pay on this machine (stream_stores.h): its final values then go straight to memory
// (RowWindowGemm::stream).
bool stream_output(const Shape& s, const IgemmConfig& igemm) {
  return s.output_elems > cache_sized_bound_elems() && stream_stores_pay(igemm, s.kcg);
}

// Runs f over A at origin, one GEMM per group. Allocates nothing: safe on any thread.
void run_fused(const Shape& s, const FusedGemm& f, const IgemmConfig& igemm, const float* origin, const float* k,
               const float* bias, float* out, const float* packed_kernel, int threads) {
  const int64_t packed_group = packed_group_floats(igemm, s.group_patch, s.kcg);
  // Many small groups: one thread per group; few: each group's GEMM uses every thread.
  const bool split_groups = s.g > 1 && threads > 1 && s.g >= 2 * threads;
  parallel_for(s.g, split_groups ? threads : 1, [&](int64_t begin, int64_t end) {
    for (int64_t grp = begin; grp < end; ++grp) {
      RowWindowGemm g = f.g;
      g.row_context = &f.windows;
      g.origin = origin + grp * s.icg;
      g.kernel = k ? k + grp * s.group_patch * s.kcg : nullptr;
      g.packed = packed_kernel ? packed_kernel + grp * packed_group : nullptr;
      g.bias = bias ? bias + grp * s.kcg : nullptr;
      g.clamp = s.clamp();
      g.out = out + grp * s.kcg;
      mec4j::igemm(igemm, g, split_groups ? 1 : threads);
    }
  });
}
}  // namespace

void mec_forward_columns(const Shape& s, int64_t w0, int64_t wt, const float* image, const float* k, float* image_out,
                         float* L) {
  const int threads = available_threads();
  const int64_t patch_row = s.kw * s.ic;
  const int64_t lda = s.ihp * patch_row;  // one strip per output column, as in lower_columns
  parallel_for(wt, threads, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w)
      for (int64_t h = 0; h < s.rows_used; ++h)
        copy_window_row(s, image, h - s.pt, (w0 + w) * s.sw, L + w * lda + h * patch_row);
  });
  run_gemms(s.oh, threads, false, [&](int64_t h) {
    sgemm(wt, s.kc, s.patch, L + h * s.sh * patch_row, lda, k, s.kc, image_out + (h * s.ow + w0) * s.kc, s.kc, 0.f);
  });
}

bool mec_rows_interleaved(const Shape& s) { return s.n > 1 && s.output_elems <= s.mec_lowered_elems; }

Lowering mec_lowering(const Shape& s, MecSolution solution) {
  const bool unpadded = s.pt == 0 && s.pb == 0 && s.pl == 0 && s.pr == 0;
  const bool pointwise = s.kh == 1 && s.kw == 1 && unpadded;
  const bool in_place = pointwise && s.sh == 1 && s.sw == 1;
  if (solution == MecSolution::Fused && unpadded && !in_place && (s.dw == 1 || s.g > 1)) return Lowering::Direct;
  if (!pointwise || (solution != MecSolution::Fused && solution != MecSolution::Rows)) return Lowering::Mec;
  if (s.sh == 1 && s.sw == 1) return Lowering::InPlace;
  const bool tiled = s.tile_n < s.n || s.banded || s.column_tiled();
  return tiled ? Lowering::Mec : Lowering::Subsample;
}

// A of a strided 1x1 layer: L[(n, y, x)] = the input pixel (n, y*s_h, x*s_w), i_c floats each.
void subsample(const Shape& s, const float* in, float* L, int threads) {
  parallel_for(s.n * s.oh, threads, [&](int64_t begin, int64_t end) {
    for (int64_t ny = begin; ny < end; ++ny) {
      const int64_t n = ny / s.oh, y = ny % s.oh;
      const float* row = in + (n * s.ih + y * s.sh) * s.iw * s.ic;
      for (int64_t x = 0; x < s.ow; ++x)
        std::memcpy(L + (ny * s.ow + x) * s.ic, row + x * s.sw * s.ic, s.ic * sizeof(float));
    }
  });
}

void mec_forward(const Shape& s, MecSolution solution, const IgemmConfig* igemm, const float* in, const float* k,
                 const float* bias, float* out, float* L, const float* packed_kernel) {
  const int threads = available_threads();
  const int64_t patch_row = s.kw * s.ic;
  const Lowering lowering = mec_lowering(s, solution);
  // Unpadded 1x1: A is the input (stride 1) or its subsample, dense NHWC pixels of i_c floats.
  const float* dense = lowering == Lowering::InPlace ? in : lowering == Lowering::Subsample ? L : nullptr;
  if (lowering == Lowering::Subsample) subsample(s, in, L, threads);
  if (solution == MecSolution::Fused) {
    const float* a = lowering == Lowering::Mec ? L : lowering == Lowering::Direct ? in : dense;
    if (lowering == Lowering::Mec) lower_rows(s, in, L, false, threads);
    FusedGemm f = fused_gemm(s, lowering);
    f.g.stream = stream_output(s, *igemm);
    run_fused(s, f, *igemm, a, k, bias, out, packed_kernel, threads);
    return;
  }
  if (solution == MecSolution::Rows && dense) {
    sgemm(s.n * s.oh * s.ow, s.kc, s.ic, dense, s.ic, k, s.kc, out, s.kc, 0.f);
    finish_output(s, bias, out);
    return;
  }
  if (solution == MecSolution::Rows) {
    const bool interleaved = mec_rows_interleaved(s);
    lower_rows(s, in, L, interleaved, threads);
    const int64_t images = interleaved ? 1 : s.n;  // GEMM groups
    const int64_t m = interleaved ? s.n * s.oh * s.ow : s.oh * s.ow;
    const int64_t rows_per_lowered_row = interleaved ? s.n * s.ow : s.ow;
    // Kernel rows accumulate into the same output, so split work over images, never over r.
    run_gemms(images, threads, false, [&](int64_t n) {
      const float* image_rows = L + n * s.image_lowered();
      float* c = out + n * s.oh * s.ow * s.kc;
      for (int64_t r = 0; r < s.kh; ++r) {
        const int64_t first = kernel_row_start(s, r);
        sgemm(m, s.kc, patch_row, image_rows + first * rows_per_lowered_row * patch_row, patch_row,
              k + r * patch_row * s.kc, s.kc, c, s.kc, r == 0 ? 0.f : 1.f);
      }
    });
    if (interleaved) unpermute_rows(s, out, L, threads);
    finish_output(s, bias, out);
    return;
  }

  lower_columns(s, in, L, threads);
  const int64_t lda = s.ihp * patch_row;
  // Output row h's window starts at column h * s_h * k_w * i_c (h * s_h first: a stride larger
  // than the input, which leaves one output row, times k_w * i_c could overflow).
  if (solution == MecSolution::B) {
    run_gemms(s.n * s.oh, threads, s.n > 1, [&](int64_t nh) {
      const int64_t n = nh / s.oh, h = nh % s.oh;
      sgemm(s.ow, s.kc, s.patch, L + n * s.ow * lda + h * s.sh * patch_row, lda, k, s.kc, out + nh * s.ow * s.kc, s.kc,
            0.f);
    });
  } else {
    // GEMM h writes rows (n, w) of output row h: O holds (h, n, w, c) afterwards.
    const int64_t plane = s.n * s.ow * s.kc;
    run_gemms(s.oh, threads, false, [&](int64_t h) {
      sgemm(s.n * s.ow, s.kc, s.patch, L + h * s.sh * patch_row, lda, k, s.kc, out + h * plane, s.kc, 0.f);
    });
    unpermute_rows(s, out, L, threads);
  }
  finish_output(s, bias, out);
}

namespace {
// One image's output rows in bands of `rows`, each lowered and multiplied on its own (a layer of
// its own over the input rows it reads, row_band).
void run_bands(const Shape& s, int64_t rows, MecSolution solution, const IgemmConfig* igemm, const float* in,
               const float* k, const float* bias, float* out, float* ws, const float* packed_kernel) {
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y0 = 0; y0 < s.oh; y0 += rows) {
      int64_t first_row;
      Shape t = row_band(s, y0, rows < s.oh - y0 ? rows : s.oh - y0, &first_row);
      mec_forward(t, solution, igemm, in + s.in_offset(n, first_row), k, bias, out + s.out_offset(n, y0), ws,
                  packed_kernel);
    }
}

// MEC_FUSED's cache bands: each thread lowers and multiplies bands of output rows on its own, in
// its own slot of the workspace, the band's lowered rows taking about twice its L2 (the rows being
// lowered and those being read stay in the caches instead of going through memory), with at least
// 4*(extent - 1) output rows so that re-lowering the rows shared by neighbouring bands stays below
// a quarter. Same products in the same order per output: the bits do not change.
struct CacheBands {
  int64_t rows, bands, slot_floats;
};

int64_t cache_budget_floats() { return 2 * l2_cache_bytes() / (int64_t)sizeof(float); }

// Floats of one input row in the workspace: lowered (o_w*k_w*i_c), or copied with its padding.
int64_t workspace_row_floats(const Shape& s, bool padded_copy) { return padded_copy ? s.iwp * s.ic : s.lowered_row(); }

// Bands for `threads` threads; rows >= o_h: one band per image.
CacheBands cache_bands(const Shape& s, int threads, bool padded_copy) {
  const int64_t row = workspace_row_floats(s, padded_copy);
  const int64_t budget = cache_budget_floats();
  int64_t rows = budget / row > s.ekh ? (budget / row - s.ekh) / s.sh + 1 : 1;
  const int64_t floor_rows = 4 * (s.ekh - 1) > 1 ? 4 * (s.ekh - 1) : 1;
  if (rows < floor_rows) rows = floor_rows;
  if (rows > s.oh) rows = s.oh;
  // Bands of equal height, as many per image as a multiple of the threads (no thread idles at the end).
  int64_t bands = (s.oh + rows - 1) / rows;
  if (s.n == 1) bands = (bands + threads - 1) / threads * threads;
  rows = (s.oh + bands - 1) / bands;
  bands = (s.oh + rows - 1) / rows;
  return {rows, bands, (((rows - 1) * s.sh + s.ekh) * row + 15) / 16 * 16};
}

// The input rows of s's images that any output reads (rows_used of each), with their padding: row
// h of an image is input row h - p_t between p_l and p_r zero pixels, or zeros in the padding.
void copy_padded(const Shape& s, const float* in, float* dst, int threads) {
  const int64_t width = s.iw * s.ic;
  parallel_for(s.n * s.rows_used, threads, [&](int64_t begin, int64_t end) {
    for (int64_t nh = begin; nh < end; ++nh) {
      const int64_t n = nh / s.rows_used, h = nh % s.rows_used - s.pt;
      padded_row(s, h, dst + nh * s.iwp * s.ic,
                 [&](float* d) { std::memcpy(d, in + (n * s.ih + h) * width, width * sizeof(float)); });
    }
  });
}

// s as a layer over its copy_padded rows: unpadded, i_h = rows_used, i_w = i_wp.
Shape over_padded_copy(const Shape& s) {
  Shape u = s;
  u.ih = u.ihp = s.rows_used;
  u.iw = u.iwp = s.iwp;
  u.pt = u.pb = u.pl = u.pr = 0;
  u.input_elems = s.n * u.ih * u.iw * s.ic;
  return u;
}

}  // namespace

void multiply_padded_rows(const Shape& s, const IgemmConfig& igemm, const float* rows, const float* k,
                          const float* bias, float* out, const float* packed_kernel, int threads, bool stream,
                          int64_t channels) {
  const Shape u = over_padded_copy(s);
  FusedGemm f = fused_gemm(u, Lowering::Direct);
  f.g.stream = stream;
  if (channels > 0) f.g.n = channels;
  skip_padding_rows(f.g, s, f.windows.columns * f.g.piece);
  run_fused(u, f, igemm, rows, k, bias, out, packed_kernel, threads);
}

namespace {

// The padded copy of s's images (or band) into ws, multiplied in place there.
void run_padded_copy(const Shape& s, const IgemmConfig& igemm, const float* in, const float* k, const float* bias,
                     float* out, float* ws, const float* packed_kernel, int threads, bool stream) {
  copy_padded(s, in, ws, threads);
  // One image on several threads: each multiplies a band of output rows, the one whose input rows
  // it copied (parallel_for runs chunk i on the same thread each time), so that its A is in its
  // own core's caches. The GEMM's own split (by channels, each thread reading all of A, half of it
  // from the other core) cost a 17x17 layer a fifth of its time on 2 threads. Only where whole
  // rows split evenly: the largest band at most 1/16 above the mean (17 rows as 9 + 8 ran 0.90 of
  // the channel split's time, 13 as 7 + 6 1.06x and 9 as 5 + 4 1.08x).
  const int64_t band_rows = (s.oh + threads - 1) / threads;
  if (s.n > 1 || threads < 2 || s.oh < threads || (band_rows * threads - s.oh) * 16 > s.oh) {
    multiply_padded_rows(s, igemm, ws, k, bias, out, packed_kernel, threads, stream);
    return;
  }
  const int64_t row_floats = s.iwp * s.ic;
  parallel_for(threads, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t y0 = s.oh * i / threads, y1 = s.oh * (i + 1) / threads;
      int64_t unused;
      const Shape band = row_band(s, y0, y1 - y0, &unused);
      multiply_padded_rows(band, igemm, ws + y0 * s.sh * row_floats, k, bias, out + y0 * s.ow * s.kc, packed_kernel, 1,
                           stream);
    }
  });
}

// Runs `b`'s bands on up to `slots` threads, slot i of the workspace being thread i's.
void run_cache_bands(const Shape& s, const CacheBands& b, int64_t slots, bool padded_copy, const IgemmConfig* igemm,
                     const float* in, const float* k, const float* bias, float* out, float* ws,
                     const float* packed_kernel) {
  const int threads = available_threads();
  const int64_t workers = std::min<int64_t>({threads, slots, s.n * b.bands});
  // The GEMMs of a full band and of the last one (shorter or not).
  const int64_t last_rows = s.oh - (b.bands - 1) * b.rows;
  int64_t unused;
  FusedGemm full = fused_gemm(row_band(s, 0, b.rows, &unused), Lowering::Mec);
  FusedGemm last = fused_gemm(row_band(s, 0, last_rows, &unused), Lowering::Mec);
  const bool stream = stream_output(s, *igemm);
  full.g.stream = last.g.stream = stream;
  const int inner_threads = workers > 1 ? 1 : threads;
  std::atomic<int64_t> next_slot{0};
  parallel_for(s.n * b.bands, (int)workers, [&](int64_t begin, int64_t end) {
    float* mine = ws + next_slot.fetch_add(1) * b.slot_floats;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t n = i / b.bands, y0 = i % b.bands * b.rows;
      int64_t first_row;
      const Shape t = row_band(s, y0, b.rows < s.oh - y0 ? b.rows : s.oh - y0, &first_row);
      if (padded_copy) {
        run_padded_copy(t, *igemm, in + s.in_offset(n, first_row), k, bias, out + s.out_offset(n, y0), mine,
                        packed_kernel, inner_threads, stream);
        continue;
      }
      lower_rows(t, in + s.in_offset(n, first_row), mine, false, inner_threads);
      FusedGemm f = t.oh == b.rows ? full : last;  // the band's strides; its own padding rows
      skip_padding_rows(f.g, t, f.windows.columns * f.g.piece);
      run_fused(t, f, *igemm, mine, k, bias, out + s.out_offset(n, y0), packed_kernel, inner_threads);
    }
  });
}

// Under a workspace of the whole lowering (a limit at least |L|): cache bands where one image is
// larger than the band budget and several bands fit, as many at once as the workspace holds.
// Returns false (nothing done) where bands would not help.
bool run_cache_bands_in_lowering(const Shape& s, const IgemmConfig* igemm, const float* in, const float* k,
                                 const float* bias, float* out, float* ws, const float* packed_kernel) {
  if (s.rows_used * s.lowered_row() <= cache_budget_floats()) return false;  // one image already fits
  const CacheBands b = cache_bands(s, available_threads(), false);
  if (b.bands == 1 && s.n == 1) return false;
  const int64_t slots = s.mec_tile_elems() / b.slot_floats;
  if (slots < 1) return false;
  run_cache_bands(s, b, slots, false, igemm, in, k, bias, out, ws, packed_kernel);
  return true;
}

}  // namespace

int64_t cache_sized_bound_elems() { return cache_budget_floats() * hardware_threads(); }

FusedTiles fused_tiles(const Shape& s) {
  const Lowering lowering = mec_lowering(s, MecSolution::Fused);
  if (lowering == Lowering::InPlace || lowering == Lowering::Direct)
    return {FusedTiles::Mode::Whole, false, s.n, 0, 0, 0, 0};
  // Padded, windows contiguous (as Direct's): copies of the padded rows instead of lowered ones,
  // where a padded row is no larger than a lowered one (not with a stride beyond the kernel, or a
  // padding near 2^63, whose row could not even be sized: i_wp <= o_w*k_w <= |L| keeps it in range).
  const bool copy = lowering == Lowering::Mec && (s.dw == 1 || s.g > 1) && s.iwp <= s.ow * s.kw;
  // One image's A: its dense subsample (strided 1x1), its padded rows, or its row lowering (the
  // layout of lower_rows: i_h padded rows per image).
  const int64_t image = lowering == Lowering::Subsample ? s.oh * s.ow * s.ic
                        : copy                          ? s.rows_used * s.iwp * s.ic
                                                        : s.image_lowered();
  const int64_t budget = cache_budget_floats(), threads = hardware_threads();
  if (lowering == Lowering::Mec && s.rows_used * workspace_row_floats(s, copy) > budget) {
    const CacheBands b = cache_bands(s, (int)threads, copy);
    const int64_t slots = std::min<int64_t>(threads, s.n * b.bands);
    if ((b.bands > 1 || s.n > 1) && slots * b.slot_floats < s.n * image)
      return {FusedTiles::Mode::Bands, copy, 1, b.rows, b.slot_floats, slots, slots * b.slot_floats};
  }
  // Chunks of whole images within every thread's budget (at least one image); the whole batch
  // when it fits.
  int64_t images = budget * threads / image;
  if (images < 1) images = 1;
  if (images >= s.n) return {FusedTiles::Mode::Whole, copy, s.n, 0, 0, 0, s.n * image};
  return {FusedTiles::Mode::Images, copy, images, 0, 0, 0, images * image};
}

// Solution A never reaches single-image tiles: resolve() refuses it there.
void mec_tiled(const Shape& s, MecSolution solution, const IgemmConfig* igemm, const float* in, const float* k,
               const float* bias, float* out, float* ws, const float* packed_kernel) {
  const int64_t image_in = s.ih * s.iw * s.ic, image_out = s.oh * s.ow * s.kc;
  if (solution == MecSolution::Fused && s.cache_sized && mec_lowering(s, solution) == Lowering::Mec) {
    const FusedTiles t = fused_tiles(s);
    if (t.mode == FusedTiles::Mode::Bands) {
      run_cache_bands(s, cache_bands(s, hardware_threads(), t.padded_copy), t.slots, t.padded_copy, igemm, in, k, bias,
                      out, ws, packed_kernel);
      return;
    }
    for (int64_t n0 = 0; n0 < s.n; n0 += t.images) {
      const Shape chunk = with_batch(s, t.images < s.n - n0 ? t.images : s.n - n0);
      if (t.padded_copy)
        run_padded_copy(chunk, *igemm, in + s.in_offset(n0, 0), k, bias, out + s.out_offset(n0, 0), ws, packed_kernel,
                        available_threads(), stream_output(chunk, *igemm));
      else
        mec_forward(chunk, solution, igemm, in + s.in_offset(n0, 0), k, bias, out + s.out_offset(n0, 0), ws,
                    packed_kernel);
    }
    return;
  }
  if (mec_lowering(s, solution) != Lowering::Mec) {  // untiled: no workspace, or a subsample
    mec_forward(with_batch(s, s.n), solution, igemm, in, k, bias, out, ws, packed_kernel);
    return;
  }
  if (s.banded) {
    run_bands(s, s.tile_oh, solution, igemm, in, k, bias, out, ws, packed_kernel);
    return;
  }
  if (s.tile_w == s.ow) {
    if (solution == MecSolution::Fused && run_cache_bands_in_lowering(s, igemm, in, k, bias, out, ws, packed_kernel))
      return;
    for (int64_t n0 = 0; n0 < s.n; n0 += s.tile_n) {
      Shape t = with_batch(s, s.tile_n < s.n - n0 ? s.tile_n : s.n - n0);
      mec_forward(t, solution, igemm, in + s.in_offset(n0, 0), k, bias, out + s.out_offset(n0, 0), ws, packed_kernel);
    }
    return;
  }
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t w0 = 0; w0 < s.ow; w0 += s.tile_w)
      mec_forward_columns(s, w0, s.tile_w < s.ow - w0 ? s.tile_w : s.ow - w0, in + n * image_in, k, out + n * image_out,
                          ws);
  finish_output(s, bias, out);
}

// --- Backward passes -----------------------------------------------------------------------------------

namespace {

// Images per GEMM. One image's windows give GEMMs of o_h*o_w rows; on small images (late layers)
// that is too few to amortise the pass over dK (or dL) that every GEMM makes, so images are
// taken `chunk` at a time, lowered interleaved ([row][image][w], as MEC_ROWS does for a batch),
// with their output gradients permuted to the same (y, image, x) order: one GEMM per kernel row
// over the chunk. The chunk aims at kChunkRows GEMM rows, within the forward MEC's workspace.
constexpr int64_t kChunkRows = 512;

int64_t image_output(const Shape& s) { return s.oh * s.ow * s.kc; }

int64_t backward_chunk(const Shape& s) {
  if (s.banded) return 1;
  int64_t c = std::min(s.n, (kChunkRows + s.oh * s.ow - 1) / (s.oh * s.ow));
  if (c <= 1) return 1;
  c = std::min(c, s.mec_tile_elems() / (s.image_lowered() + image_output(s)));
  return std::max<int64_t>(c, 1);
}

// One part of the work: `images` images from image n (interleaved when more than one), or one
// row band of image n under a workspace limit that bands. t is the part's own layer (with
// t.n = images; a band's from row_band), y0 its first output row and first_row the first input
// row it reads.
struct Part {
  Shape t;
  int64_t n, images, y0, first_row;
};

template <typename Body>
void for_each_part(const Shape& s, Body body) {
  if (s.banded) {
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t y0 = 0; y0 < s.oh; y0 += s.tile_oh) {
        int64_t first_row;
        const Shape t = row_band(s, y0, std::min(s.tile_oh, s.oh - y0), &first_row);
        body(Part{t, n, 1, y0, first_row});
      }
    return;
  }
  const int64_t chunk = backward_chunk(s);
  for (int64_t n = 0; n < s.n; n += chunk) {
    const int64_t images = std::min(chunk, s.n - n);
    body(Part{with_batch(s, images), n, images, 0, 0});
  }
}

// The part's output gradient as the GEMMs read it: in place for one image; else copied to
// `to` in (y, image, x) order.
const float* part_gradient(const Shape& s, const Part& p, const float* grad_out, float* to, int threads) {
  const float* first = grad_out + p.n * image_output(s) + p.y0 * s.ow * s.kc;
  if (p.images == 1) return first;
  const int64_t run = s.ow * s.kc;
  parallel_for(s.oh * p.images, threads, [&](int64_t begin, int64_t end) {
    for (int64_t yi = begin; yi < end; ++yi) {
      const int64_t y = yi / p.images, i = yi % p.images;
      std::memcpy(to + yi * run, first + i * image_output(s) + y * run, run * sizeof(float));
    }
  });
  return to;
}

// The GEMMs of one kernel row split per tap and group when grouped (a group's i_c/g channels of
// a tap are contiguous), one per kernel row otherwise.
struct TapBlocks {
  int64_t taps;   // column blocks per kernel row: k_w grouped, else 1
  int64_t width;  // floats of a block: i_c/g grouped, else k_w*i_c
};
TapBlocks tap_blocks(const Shape& s) { return s.g > 1 ? TapBlocks{s.kw, s.icg} : TapBlocks{1, s.kw * s.ic}; }

// Offset of block (r, q, group) in the kernel (g x k_h x k_w x i_c/g x k_c/g) and in a lowered row.
int64_t kernel_block(const Shape& s, int64_t r, int64_t q, int64_t grp) {
  return grp * s.group_patch * s.kcg + (r * s.kw + q) * s.icg * s.kcg;
}
int64_t lowered_block(const Shape& s, int64_t q, int64_t grp) { return q * s.ic + grp * s.icg; }

}  // namespace

int64_t mec_backward_elems(const Shape& s) {
  switch (mec_lowering(s, MecSolution::Rows)) {
    case Lowering::InPlace:
    case Lowering::Direct:  // (forward MEC_FUSED only)
      return 0;
    case Lowering::Subsample:
      return s.n * s.oh * s.ow * s.ic;
    case Lowering::Mec:
      break;
  }
  if (s.banded) return s.mec_tile_elems();
  const int64_t chunk = backward_chunk(s);
  return chunk == 1 ? s.image_lowered() : chunk * (s.image_lowered() + image_output(s));
}

void mec_backward_weights(const Shape& s, const IgemmConfig* igemm, const float* in, const float* grad_out,
                          float* grad_k, float* grad_bias, float* ws) {
  const int threads = available_threads();
  const Lowering lowering = mec_lowering(s, MecSolution::Rows);
  if (lowering != Lowering::Mec) {  // unpadded 1x1: dK = A^T * dO over the whole batch
    const float* a = in;
    if (lowering == Lowering::Subsample) {
      subsample(s, in, ws, threads);
      a = ws;
    }
    for (int64_t grp = 0; grp < s.g; ++grp)
      sgemm(Trans::Yes, Trans::No, s.icg, s.kcg, s.n * s.oh * s.ow, a + grp * s.icg, s.ic, grad_out + grp * s.kcg, s.kc,
            grad_k + grp * s.icg * s.kcg, s.kcg, 0.f);
    bias_gradient(s, grad_out, grad_bias);
    return;
  }
  const TapBlocks blocks = tap_blocks(s);
  const int64_t piece = s.kw * s.ic, image_in = s.ih * s.iw * s.ic;
  // mec4j's kernels: per group, dK = W^T * dO with W's row p the k_h row windows of pixel p (the
  // group's channels of each tap): one GEMM with M = k_h*k_w*i_c/g instead of k_h GEMMs with
  // M = k_w*i_c, the windows packed block by block (never an im2col matrix).
  IgemmWtScratch scratch;
  std::vector<Segment> runs;
  if (igemm) {
    scratch = igemm_transposed_scratch(*igemm, s.group_patch, s.kcg, threads);  // before any output is written
    runs.resize(s.kh * blocks.taps);
  }
  bool first = true;
  for_each_part(s, [&](const Part& p) {
    const Shape& t = p.t;
    lower_rows(t, in + p.n * image_in + p.first_row * s.iw * s.ic, ws, p.images > 1, threads);
    const float* g = part_gradient(s, p, grad_out, ws + p.images * s.image_lowered(), threads);
    const int64_t row = p.images * s.ow * piece;  // one lowered row of the part
    if (igemm) {
      for (int64_t grp = 0; grp < s.g; ++grp) {
        for (int64_t r = 0; r < s.kh; ++r)
          for (int64_t q = 0; q < blocks.taps; ++q)
            runs[r * blocks.taps + q] = {kernel_row_start(t, r) * row + lowered_block(s, q, grp), blocks.width};
        WindowGemmT w{s.group_patch,
                      s.kcg,
                      t.oh * p.images * s.ow,
                      s.kc,
                      s.kcg,
                      p.images * s.ow,
                      row,
                      piece,
                      ws,
                      runs.data(),
                      (int64_t)runs.size(),
                      g + grp * s.kcg,
                      grad_k + grp * s.group_patch * s.kcg,
                      !first};
        igemm_transposed(*igemm, w, scratch, threads);
      }
      first = false;
      return;
    }
    for (int64_t r = 0; r < s.kh; ++r) {
      const float* window = ws + kernel_row_start(t, r) * row;
      for (int64_t q = 0; q < blocks.taps; ++q)
        for (int64_t grp = 0; grp < s.g; ++grp)
          sgemm(Trans::Yes, Trans::No, blocks.width, s.kcg, t.oh * p.images * s.ow, window + lowered_block(s, q, grp),
                piece, g + grp * s.kcg, s.kc, grad_k + kernel_block(s, r, q, grp), s.kcg, first ? 0.f : 1.f);
    }
    first = false;
  });
  bias_gradient(s, grad_out, grad_bias);
}

namespace {
// Adds the lowered gradient dL of part p back into the input rows it was lowered from: lowered
// row h, column x, tap q of image i came from input row h - pad_top, column x*s_w + q*d_w -
// pad_left. One thread per input row. accumulate == false: each row is overwritten (rows no window
// reads become 0).
void unlower_rows(const Part& p, const float* dL, float* grad_in, bool accumulate, int threads) {
  const Shape& t = p.t;
  const int64_t piece = t.kw * t.ic, image_in = t.ih * t.iw * t.ic;
  parallel_for(p.images * t.ih, threads, [&](int64_t begin, int64_t end) {
    for (int64_t ii = begin; ii < end; ++ii) {
      const int64_t i = ii / t.ih, iy = ii % t.ih;
      float* dst = grad_in + i * image_in + iy * t.iw * t.ic;
      if (!accumulate) std::memset(dst, 0, t.iw * t.ic * sizeof(float));
      const int64_t h = iy + t.pt;
      if (h >= t.rows_used || !phase_read(t, h % t.sh)) continue;
      const float* src = dL + (phase_row(t, h) * p.images + i) * t.ow * piece;
      for (int64_t x = 0; x < t.ow; ++x)
        for (int64_t q = 0; q < t.kw; ++q) {
          const int64_t ix = x * t.sw + q * t.dw - t.pl;
          if (ix < 0 || ix >= t.iw) continue;
          const float* s = src + x * piece + q * t.ic;
          float* d = dst + ix * t.ic;
          for (int64_t c = 0; c < t.ic; ++c) d[c] += s[c];
        }
    }
  });
}
}  // namespace

void mec_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws) {
  const int threads = available_threads();
  const Lowering lowering = mec_lowering(s, MecSolution::Rows);
  if (lowering != Lowering::Mec) {  // unpadded 1x1: dA = dO * K^T, A the input or its subsample
    float* da = lowering == Lowering::InPlace ? grad_in : ws;
    for (int64_t grp = 0; grp < s.g; ++grp)
      sgemm(Trans::No, Trans::Yes, s.n * s.oh * s.ow, s.icg, s.kcg, grad_out + grp * s.kcg, s.kc,
            k + grp * s.icg * s.kcg, s.kcg, da + grp * s.icg, s.ic, 0.f);
    if (lowering == Lowering::InPlace) return;
    parallel_for(s.n * s.ih, threads, [&](int64_t begin, int64_t end) {  // pixels off the stride get 0
      for (int64_t ni = begin; ni < end; ++ni) {
        const int64_t n = ni / s.ih, iy = ni % s.ih;
        float* dst = grad_in + ni * s.iw * s.ic;
        std::memset(dst, 0, s.iw * s.ic * sizeof(float));
        if (iy % s.sh != 0 || iy / s.sh >= s.oh) continue;
        const float* src = ws + (n * s.oh + iy / s.sh) * s.ow * s.ic;
        for (int64_t x = 0; x < s.ow; ++x) std::memcpy(dst + x * s.sw * s.ic, src + x * s.ic, s.ic * sizeof(float));
      }
    });
    return;
  }
  // Bands share input rows: then every band adds into a zeroed gradient.
  if (s.banded) std::memset(grad_in, 0, s.input_elems * sizeof(float));
  const TapBlocks blocks = tap_blocks(s);
  const int64_t piece = s.kw * s.ic, image_in = s.ih * s.iw * s.ic;
  for_each_part(s, [&](const Part& p) {
    const Shape& t = p.t;
    const int64_t row = p.images * s.ow * piece;  // one lowered row of the part
    const float* g = part_gradient(s, p, grad_out, ws + p.images * s.image_lowered(), threads);
    // Kernel row 0 writes lowered rows [0, o_h) (beta = 0); the other rows start from zero.
    std::memset(ws + t.oh * row, 0, (t.ihp - t.oh) * row * sizeof(float));
    for (int64_t r = 0; r < s.kh; ++r) {
      float* window = ws + kernel_row_start(t, r) * row;
      for (int64_t q = 0; q < blocks.taps; ++q)
        for (int64_t grp = 0; grp < s.g; ++grp)
          sgemm(Trans::No, Trans::Yes, t.oh * p.images * s.ow, blocks.width, s.kcg, g + grp * s.kcg, s.kc,
                k + kernel_block(s, r, q, grp), s.kcg, window + lowered_block(s, q, grp), piece, r == 0 ? 0.f : 1.f);
    }
    unlower_rows(p, ws, grad_in + p.n * image_in + p.first_row * s.iw * s.ic, s.banded, threads);
  });
}

// --- Backward data as a forward convolution (MEC_FUSED, stride 1) ---------------------------

bool backward_data_as_forward(const Shape& s) {
  return s.sh == 1 && s.sw == 1 && s.cache_sized && s.pt <= (s.kh - 1) * s.dh && s.pb <= (s.kh - 1) * s.dh &&
         s.pl <= (s.kw - 1) * s.dw && s.pr <= (s.kw - 1) * s.dw;
}

namespace {
// The forward layer whose output is s's dI: dO as input (o_h x o_w x k_c), s's kernel turned,
// padded by (k - 1)*d - p on each side, the default (cache-sized) workspace.
Shape backward_data_layer(const Shape& s) {
  mec4j_conv2d c{};
  c.batch = s.n;
  c.in_height = s.oh;
  c.in_width = s.ow;
  c.in_channels = s.kc;
  c.kernel_height = s.kh;
  c.kernel_width = s.kw;
  c.out_channels = s.ic;
  c.stride_height = c.stride_width = 1;
  c.pad_top = (s.kh - 1) * s.dh - s.pt;
  c.pad_bottom = (s.kh - 1) * s.dh - s.pb;
  c.pad_left = (s.kw - 1) * s.dw - s.pl;
  c.pad_right = (s.kw - 1) * s.dw - s.pr;
  c.groups = s.g;
  c.dilation_height = s.dh;
  c.dilation_width = s.dw;
  Shape t;
  make_shape(&c, &t, nullptr);  // valid: its sizes are s's, its output s's input
  return t;
}

int64_t turned_kernel_floats(const Shape& s) { return (s.kernel_elems + 15) / 16 * 16; }

// Per group, kernel [r][q][i][j] (HWIO) to [k_h-1-r][k_w-1-q][j][i].
void turn_kernel(const Shape& s, const float* k, float* kt, int threads) {
  const int64_t block = s.icg * s.kcg;
  parallel_for(s.g * s.kh * s.kw, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t grp = b / (s.kh * s.kw), r = b / s.kw % s.kh, q = b % s.kw;
      const float* src = k + b * block;
      float* dst = kt + ((grp * s.kh + s.kh - 1 - r) * s.kw + s.kw - 1 - q) * block;
      // In 16 x 16 tiles: both sides then stay in a few cache lines (a 512 x 512 block read by
      // rows and written by columns would miss on every write).
      for (int64_t i0 = 0; i0 < s.icg; i0 += 16)
        for (int64_t j0 = 0; j0 < s.kcg; j0 += 16)
          for (int64_t i = i0; i < std::min(i0 + 16, s.icg); ++i)
            for (int64_t j = j0; j < std::min(j0 + 16, s.kcg); ++j) dst[j * s.icg + i] = src[i * s.kcg + j];
    }
  });
}
}  // namespace

bool fused_backward_data_pays(const Shape& s, mec4j_isa isa) {
  // The forward over dO padded by k - 1 - p multiplies the padding's zeros too: i_h*i_w outputs
  // against o_h*o_w of the layer itself (1.96x for an unpadded 3x3 layer on 7x7, none with "same"
  // padding); a few input channels would leave most of the tile's lanes idle; and turning the
  // kernel (a transposing copy, tens of FMAs' time per element) pays off over thousands of
  // pixels (M) only.
  return 10 * s.ih * s.iw <= 11 * s.oh * s.ow && 2 * s.icg >= igemm_config(isa, s.icg)->nr && s.n * s.ih * s.iw >= 4096;
}

int64_t fused_backward_data_elems(const Shape& s) {
  return turned_kernel_floats(s) + fused_tiles(backward_data_layer(s)).ws_elems;
}

void fused_backward_data(const Shape& s, mec4j_isa isa, const float* grad_out, const float* k, float* grad_in,
                         float* ws) {
  const Shape t = backward_data_layer(s);
  turn_kernel(s, k, ws, available_threads());
  mec_tiled(t, MecSolution::Fused, igemm_config(isa, t.kcg), grad_out, ws, nullptr, grad_in,
            ws + turned_kernel_floats(s));
}

}  // namespace mec4j
