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
#include <algorithm>
#include <cstring>
#include <vector>

#include "igemm.h"
#include "igemm_config.h"
#include "lowering.h"
#include "parallel.h"
#include "shape.h"

namespace mec4j {

void bias_gradient(const Shape& s, const float* grad_out, float* grad_bias) {
  if (!grad_bias) return;
  std::memset(grad_bias, 0, s.kc * sizeof(float));
  const int64_t pixels = s.n * s.oh * s.ow;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* g = grad_out + p * s.kc;
    for (int64_t c = 0; c < s.kc; ++c) grad_bias[c] += g[c];
  }
}

// --- Reference: direct loops, double accumulation ------------------------------------------

void reference_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in) {
  std::vector<double> acc(s.ic);  // allocated before grad_in is touched
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t iy = 0; iy < s.ih; ++iy)
      for (int64_t ix = 0; ix < s.iw; ++ix) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t yy = iy + s.pt - r * s.dh;  // = y * s_h for the output row that reads iy
          if (yy < 0 || yy % s.sh != 0 || yy / s.sh >= s.oh) continue;
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t xx = ix + s.pl - q * s.dw;
            if (xx < 0 || xx % s.sw != 0 || xx / s.sw >= s.ow) continue;
            const float* g = grad_out + ((n * s.oh + yy / s.sh) * s.ow + xx / s.sw) * s.kc;
            for (int64_t grp = 0; grp < s.g; ++grp) {
              const float* w = k + grp * s.group_patch * s.kcg + (r * s.kw + q) * s.icg * s.kcg;
              for (int64_t ci = 0; ci < s.icg; ++ci) {
                double sum = 0;
                for (int64_t o = 0; o < s.kcg; ++o) sum += (double)g[grp * s.kcg + o] * w[ci * s.kcg + o];
                acc[grp * s.icg + ci] += sum;
              }
            }
          }
        }
        float* d = grad_in + ((n * s.ih + iy) * s.iw + ix) * s.ic;
        for (int64_t c = 0; c < s.ic; ++c) d[c] = static_cast<float>(acc[c]);
      }
}

void reference_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k,
                                float* grad_bias) {
  std::vector<double> acc(s.kernel_elems), bias(s.kc);  // allocated before any output is touched
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x) {
        const float* g = grad_out + ((n * s.oh + y) * s.ow + x) * s.kc;
        for (int64_t c = 0; c < s.kc; ++c) bias[c] += g[c];
        for (int64_t r = 0; r < s.kh; ++r) {
          const int64_t iy = y * s.sh + r * s.dh - s.pt;
          if (iy < 0 || iy >= s.ih) continue;
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t ix = x * s.sw + q * s.dw - s.pl;
            if (ix < 0 || ix >= s.iw) continue;
            const float* pix = in + ((n * s.ih + iy) * s.iw + ix) * s.ic;
            for (int64_t grp = 0; grp < s.g; ++grp)
              for (int64_t ci = 0; ci < s.icg; ++ci) {
                double* a = acc.data() + grp * s.group_patch * s.kcg + ((r * s.kw + q) * s.icg + ci) * s.kcg;
                const double v = pix[grp * s.icg + ci];
                for (int64_t o = 0; o < s.kcg; ++o) a[o] += v * g[grp * s.kcg + o];
              }
          }
        }
      }
  for (int64_t i = 0; i < s.kernel_elems; ++i) grad_k[i] = static_cast<float>(acc[i]);
  if (grad_bias)
    for (int64_t c = 0; c < s.kc; ++c) grad_bias[c] = static_cast<float>(bias[c]);
}

// --- im2col --------------------------------------------------------------------------------

void im2col_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                             float* ws) {
  im2col_lower(s, in, ws);
  for (int64_t grp = 0; grp < s.g; ++grp)
    sgemm(Trans::Yes, Trans::No, s.group_patch, s.kcg, s.n * s.oh * s.ow, ws + grp * s.group_patch, s.patch,
          grad_out + grp * s.kcg, s.kc, grad_k + grp * s.group_patch * s.kcg, s.kcg, 0.f);
  bias_gradient(s, grad_out, grad_bias);
}

void im2col_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws) {
  for (int64_t grp = 0; grp < s.g; ++grp)
    sgemm(Trans::No, Trans::Yes, s.n * s.oh * s.ow, s.group_patch, s.kcg, grad_out + grp * s.kcg, s.kc,
          k + grp * s.group_patch * s.kcg, s.kcg, ws + grp * s.group_patch, s.patch, 0.f);
  // col2im, gathered per input row so that threads never write the same row.
  parallel_for(s.n * s.ih, available_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t ni = begin; ni < end; ++ni) {
      const int64_t n = ni / s.ih, iy = ni % s.ih;
      float* dst = grad_in + ni * s.iw * s.ic;
      std::memset(dst, 0, s.iw * s.ic * sizeof(float));
      for (int64_t r = 0; r < s.kh; ++r) {
        const int64_t yy = iy + s.pt - r * s.dh;
        if (yy < 0 || yy % s.sh != 0 || yy / s.sh >= s.oh) continue;
        const float* cols = ws + (n * s.oh + yy / s.sh) * s.ow * s.patch;
        for (int64_t x = 0; x < s.ow; ++x)
          for (int64_t q = 0; q < s.kw; ++q) {
            const int64_t ix = x * s.sw + q * s.dw - s.pl;
            if (ix < 0 || ix >= s.iw) continue;
            for (int64_t grp = 0; grp < s.g; ++grp) {
              const float* src = cols + x * s.patch + grp * s.group_patch + (r * s.kw + q) * s.icg;
              float* d = dst + ix * s.ic + grp * s.icg;
              for (int64_t c = 0; c < s.icg; ++c) d[c] += src[c];
            }
          }
      }
    }
  });
}

// --- MEC -----------------------------------------------------------------------------------

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
    scratch = igemm_transposed_scratch(*igemm, s.kcg, threads);  // before any output is written
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

// --- Depthwise -----------------------------------------------------------------------------

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
  parallel_for(s.n * s.ih, available_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t ni = begin; ni < end; ++ni) {
      const int64_t n = ni / s.ih, iy = ni % s.ih;
      float* dst = grad_in + ni * s.iw * s.ic;
      std::memset(dst, 0, s.iw * s.ic * sizeof(float));
      for (int64_t r = 0; r < s.kh; ++r) {
        const int64_t yy = iy + s.pt - r * s.dh;
        if (yy < 0 || yy % s.sh != 0 || yy / s.sh >= s.oh) continue;
        const float* g_row = grad_out + (n * s.oh + yy / s.sh) * s.ow * s.kc;
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
