// The C API: argument checks, size queries and the one place that maps algorithms to code.
#include <climits>
#include <initializer_list>
#include <new>

#include "fused_gemm.h"
#include "mec4j.h"
#include "shape.h"

namespace mec4j {

namespace {
mec4j_status fail(const char** bad_field, const char* field, mec4j_status status) {
  if (bad_field) *bad_field = field;
  return status;
}
}  // namespace

mec4j_status make_shape(const mec4j_conv2d* c, Shape* s, const char** bad) {
  if (!c) return fail(bad, "conv", MEC4J_ERROR_NULL_ARGUMENT);
  struct Positive { int64_t v; const char* name; } positives[] = {
      {c->batch, "batch"}, {c->in_height, "in_height"}, {c->in_width, "in_width"},
      {c->in_channels, "in_channels"}, {c->kernel_height, "kernel_height"},
      {c->kernel_width, "kernel_width"}, {c->out_channels, "out_channels"},
      {c->stride_height, "stride_height"}, {c->stride_width, "stride_width"}};
  for (const auto& p : positives)
    if (p.v < 1) return fail(bad, p.name, MEC4J_ERROR_INVALID_ARGUMENT);
  // Padding of a kernel's full extent or more would produce outputs that see only zeros.
  struct Pad { int64_t v, kernel; const char* name; } pads[] = {
      {c->pad_top, c->kernel_height, "pad_top"}, {c->pad_bottom, c->kernel_height, "pad_bottom"},
      {c->pad_left, c->kernel_width, "pad_left"}, {c->pad_right, c->kernel_width, "pad_right"}};
  for (const auto& p : pads)
    if (p.v < 0 || p.v >= p.kernel) return fail(bad, p.name, MEC4J_ERROR_INVALID_ARGUMENT);

  *s = Shape{};
  s->n = c->batch; s->ih = c->in_height; s->iw = c->in_width; s->ic = c->in_channels;
  s->kh = c->kernel_height; s->kw = c->kernel_width; s->kc = c->out_channels;
  s->sh = c->stride_height; s->sw = c->stride_width;
  s->pt = c->pad_top; s->pb = c->pad_bottom; s->pl = c->pad_left; s->pr = c->pad_right;
  s->threshold = c->mec_threshold > 0 ? c->mec_threshold : MEC4J_DEFAULT_MEC_THRESHOLD;
  // Paddings are below the kernel sizes, so these sums cannot overflow unless the input does.
  if (!add(s->ih, s->pt + s->pb, &s->ihp)) return fail(bad, "in_height", MEC4J_ERROR_SIZE_OVERFLOW);
  if (!add(s->iw, s->pl + s->pr, &s->iwp)) return fail(bad, "in_width", MEC4J_ERROR_SIZE_OVERFLOW);
  if (s->kh > s->ihp) return fail(bad, "kernel_height", MEC4J_ERROR_INVALID_ARGUMENT);
  if (s->kw > s->iwp) return fail(bad, "kernel_width", MEC4J_ERROR_INVALID_ARGUMENT);
  s->oh = (s->ihp - s->kh) / s->sh + 1;
  s->ow = (s->iwp - s->kw) / s->sw + 1;
  s->rows_used = (s->oh - 1) * s->sh + s->kh;

  int64_t t;
  bool ok = mul(s->n, s->ih, &t) && mul(t, s->iw, &t) && mul(t, s->ic, &s->input_elems) &&
            mul(s->kh, s->kw, &t) && mul(t, s->ic, &s->patch) &&
            mul(s->patch, s->kc, &s->kernel_elems) &&
            mul(s->n, s->oh, &t) && mul(t, s->ow, &t) && mul(t, s->kc, &s->output_elems) &&
            mul(s->n, s->ow, &t) && mul(t, s->ihp, &t) && mul(t, s->kw, &t) &&
            mul(t, s->ic, &s->mec_lowered_elems) &&
            mul(s->n, s->oh, &t) && mul(t, s->ow, &t) && mul(t, s->patch, &s->im2col_elems);
  // Byte counts (x4) must fit too.
  for (int64_t e : {s->input_elems, s->kernel_elems, s->output_elems, s->mec_lowered_elems,
                    s->im2col_elems})
    ok = ok && mul(e, (int64_t)sizeof(float), &t);
  if (!ok) return fail(bad, "conv", MEC4J_ERROR_SIZE_OVERFLOW);

  s->tile_n = s->n;
  s->tile_oh = s->oh;
  s->tile_w = s->ow;
  s->banded = false;
  if (c->mec_workspace_limit > 0) {
    const int64_t limit = c->mec_workspace_limit / (int64_t)sizeof(float);
    const int64_t strip = s->ihp * s->kw * s->ic;   // one (image, output column) of L
    const int64_t row = s->ow * s->kw * s->ic;      // one padded input row of one image
    if (s->mec_lowered_elems > limit) {
      if (strip > limit && s->kh * row > limit)
        return fail(bad, "mec_workspace_limit", MEC4J_ERROR_WORKSPACE_LIMIT);
      s->tile_n = 1;
      if (strip * s->ow <= limit) {
        s->tile_n = limit / (strip * s->ow);
      } else if (s->kh * row <= limit) {
        s->banded = true;
        s->tile_oh = (limit / row - s->kh) / s->sh + 1;  // bands keep the GEMMs' M = rows * o_w
        if (s->tile_oh > s->oh) s->tile_oh = s->oh;
      } else {
        s->tile_w = limit / strip;
      }
    }
  }
  return MEC4J_OK;
}

Shape row_band(const Shape& s, int64_t y0, int64_t rows, int64_t* input_row) {
  const int64_t first = y0 * s.sh;                 // first padded row the band reads
  const int64_t count = (rows - 1) * s.sh + s.kh;  // padded rows it reads
  const int64_t begin = first - s.pt < 0 ? 0 : first - s.pt;
  const int64_t end = first - s.pt + count < s.ih ? first - s.pt + count : s.ih;
  Shape t = with_batch(s, 1);
  t.pt = s.pt - first > 0 ? s.pt - first : 0;
  t.ih = end - begin;
  t.pb = count - t.pt - t.ih;
  t.ihp = count;
  t.oh = rows;
  t.rows_used = count;
  t.input_elems = t.ih * s.iw * s.ic;
  t.output_elems = rows * s.ow * s.kc;
  t.mec_lowered_elems = count * s.ow * s.kw * s.ic;
  t.im2col_elems = rows * s.ow * s.patch;
  t.tile_oh = rows;
  t.banded = false;
  *input_row = begin;
  return t;
}

Shape with_batch(const Shape& s, int64_t n) {
  Shape t = s;
  t.n = n;
  t.input_elems = s.input_elems / s.n * n;
  t.output_elems = s.output_elems / s.n * n;
  t.mec_lowered_elems = s.mec_lowered_elems / s.n * n;
  t.im2col_elems = s.im2col_elems / s.n * n;
  t.tile_n = n;
  t.tile_oh = s.oh;
  t.tile_w = s.ow;
  t.banded = false;
  return t;
}

namespace {

bool fits_blas_int(int64_t v) { return v <= INT_MAX; }

// Every GEMM dimension and leading dimension an algorithm passes to cblas must fit in an int.
bool gemm_dims_fit(const Shape& s, mec4j_algorithm a) {
  int64_t lda_mec = s.ihp * s.kw * s.ic;  // <= |L|, cannot overflow
  switch (a) {
    case MEC4J_ALGORITHM_IM2COL:
      return fits_blas_int(s.n * s.oh * s.ow) && fits_blas_int(s.patch) && fits_blas_int(s.kc);
    case MEC4J_ALGORITHM_MEC_A:
      return fits_blas_int(s.n * s.ow) && fits_blas_int(s.patch) && fits_blas_int(s.kc) &&
             fits_blas_int(lda_mec);
    case MEC4J_ALGORITHM_MEC_B:
      return fits_blas_int(s.ow) && fits_blas_int(s.patch) && fits_blas_int(s.kc) &&
             fits_blas_int(lda_mec);
    case MEC4J_ALGORITHM_MEC_ROWS:
      return fits_blas_int(s.n * s.oh * s.ow) && fits_blas_int(s.kw * s.ic) && fits_blas_int(s.kc);
    default:
      return true;
  }
}

// Runs MEC tile by tile under the workspace limit (see Shape::tile_n). Untiled layers are one tile.
// Solution A never reaches single-image tiles: resolve() refuses it there.
void mec_tiled(const Shape& s, MecSolution solution, const float* in, const float* k, const float* bias,
               float* out, float* ws) {
  const int64_t image_in = s.ih * s.iw * s.ic, image_out = s.oh * s.ow * s.kc;
  if (s.banded) {
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t y0 = 0; y0 < s.oh; y0 += s.tile_oh) {
        int64_t first_row;
        Shape t = row_band(s, y0, s.tile_oh < s.oh - y0 ? s.tile_oh : s.oh - y0, &first_row);
        mec_forward(t, solution,
                    in + n * image_in + first_row * s.iw * s.ic, k, bias, out + n * image_out + y0 * s.ow * s.kc, ws);
      }
    return;
  }
  if (s.tile_w == s.ow) {
    for (int64_t n0 = 0; n0 < s.n; n0 += s.tile_n) {
      Shape t = with_batch(s, s.tile_n < s.n - n0 ? s.tile_n : s.n - n0);
      mec_forward(t, solution, in + n0 * image_in, k, bias, out + n0 * image_out, ws);
    }
    return;
  }
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t w0 = 0; w0 < s.ow; w0 += s.tile_w)
      mec_forward_columns(s, w0, s.tile_w < s.ow - w0 ? s.tile_w : s.ow - w0, in + n * image_in, k,
                          out + n * image_out, ws);
  add_bias(s, bias, out);
}

mec4j_status resolve(const Shape& s, mec4j_algorithm a, mec4j_algorithm* out) {
  switch (a) {
    case MEC4J_ALGORITHM_MEC:
      if (s.tile_w < s.ow) {  // column tiles run Solution B
        *out = MEC4J_ALGORITHM_MEC_B;
        return MEC4J_OK;
      }
      switch (mec_choose(with_batch(s, s.tile_n))) {  // row bands: one image, as at batch 1
        case MecSolution::A: *out = MEC4J_ALGORITHM_MEC_A; break;
        case MecSolution::B: *out = MEC4J_ALGORITHM_MEC_B; break;
        case MecSolution::Rows: *out = MEC4J_ALGORITHM_MEC_ROWS; break;
        case MecSolution::Fused: *out = MEC4J_ALGORITHM_MEC_FUSED; break;
      }
      return MEC4J_OK;
    case MEC4J_ALGORITHM_MEC_A:
      // Solution A permutes O through L's buffer; single-image tiles gain nothing from it.
      if (s.output_elems > s.mec_lowered_elems || s.tile_w < s.ow || s.banded)
        return MEC4J_ERROR_UNSUPPORTED;
      *out = a;
      return MEC4J_OK;
    case MEC4J_ALGORITHM_MEC_FUSED:
      if (!fused_gemm_supported()) return MEC4J_ERROR_UNSUPPORTED;
      *out = a;
      return MEC4J_OK;
    case MEC4J_ALGORITHM_REFERENCE:
    case MEC4J_ALGORITHM_IM2COL:
    case MEC4J_ALGORITHM_MEC_B:
    case MEC4J_ALGORITHM_MEC_ROWS:
      *out = a;
      return MEC4J_OK;
  }
  return MEC4J_ERROR_UNKNOWN_ALGORITHM;
}

int64_t workspace_elems(const Shape& s, mec4j_algorithm resolved) {
  switch (resolved) {
    case MEC4J_ALGORITHM_IM2COL: return s.im2col_elems;
    case MEC4J_ALGORITHM_MEC_A:
    case MEC4J_ALGORITHM_MEC_B:
    case MEC4J_ALGORITHM_MEC_ROWS:
    case MEC4J_ALGORITHM_MEC_FUSED: return s.mec_tile_elems();
    default: return 0;
  }
}

}  // namespace
}  // namespace mec4j

using namespace mec4j;

extern "C" {

mec4j_status mec4j_conv2d_check(const mec4j_conv2d* conv, const char** bad_field) {
  Shape s;
  return make_shape(conv, &s, bad_field);
}

mec4j_status mec4j_output_size(const mec4j_conv2d* conv, int64_t* oh, int64_t* ow) {
  if (!oh || !ow) return MEC4J_ERROR_NULL_ARGUMENT;
  Shape s;
  mec4j_status st = make_shape(conv, &s, nullptr);
  if (st != MEC4J_OK) return st;
  *oh = s.oh;
  *ow = s.ow;
  return MEC4J_OK;
}

mec4j_status mec4j_resolve_algorithm(const mec4j_conv2d* conv, mec4j_algorithm a,
                                     mec4j_algorithm* resolved) {
  if (!resolved) return MEC4J_ERROR_NULL_ARGUMENT;
  Shape s;
  mec4j_status st = make_shape(conv, &s, nullptr);
  if (st != MEC4J_OK) return st;
  return resolve(s, a, resolved);
}

mec4j_status mec4j_workspace_size(const mec4j_conv2d* conv, mec4j_algorithm a, int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Shape s;
  mec4j_status st = make_shape(conv, &s, nullptr);
  if (st != MEC4J_OK) return st;
  mec4j_algorithm r = MEC4J_ALGORITHM_REFERENCE;
  if ((st = resolve(s, a, &r)) != MEC4J_OK) return st;
  *bytes = workspace_elems(s, r) * (int64_t)sizeof(float);  // overflow excluded by make_shape
  return MEC4J_OK;
}

mec4j_status mec4j_conv2d_forward(const mec4j_conv2d* conv, mec4j_algorithm a, const float* input,
                                  const float* kernel, const float* bias, float* output,
                                  void* workspace, int64_t workspace_bytes) {
  Shape s;
  mec4j_status st = make_shape(conv, &s, nullptr);
  if (st != MEC4J_OK) return st;
  mec4j_algorithm r = MEC4J_ALGORITHM_REFERENCE;
  if ((st = resolve(s, a, &r)) != MEC4J_OK) return st;
  if (!input || !kernel || !output) return MEC4J_ERROR_NULL_ARGUMENT;
  if (!gemm_dims_fit(s, r)) return MEC4J_ERROR_UNSUPPORTED;
  int64_t need = workspace_elems(s, r) * (int64_t)sizeof(float);
  if (need > 0) {
    if (!workspace) return MEC4J_ERROR_NULL_ARGUMENT;
    if (workspace_bytes < need) return MEC4J_ERROR_WORKSPACE_TOO_SMALL;
    if (reinterpret_cast<uintptr_t>(workspace) % MEC4J_WORKSPACE_ALIGNMENT != 0)
      return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  }
  float* ws = static_cast<float*>(workspace);
  try {
    switch (r) {
      case MEC4J_ALGORITHM_REFERENCE: reference_forward(s, input, kernel, bias, output); break;
      case MEC4J_ALGORITHM_IM2COL: im2col_forward(s, input, kernel, bias, output, ws); break;
      case MEC4J_ALGORITHM_MEC_A: mec_tiled(s, MecSolution::A, input, kernel, bias, output, ws); break;
      case MEC4J_ALGORITHM_MEC_B: mec_tiled(s, MecSolution::B, input, kernel, bias, output, ws); break;
      case MEC4J_ALGORITHM_MEC_ROWS: mec_tiled(s, MecSolution::Rows, input, kernel, bias, output, ws); break;
      case MEC4J_ALGORITHM_MEC_FUSED: mec_tiled(s, MecSolution::Fused, input, kernel, bias, output, ws); break;
      default: return MEC4J_ERROR_INTERNAL;
    }
  } catch (const std::bad_alloc&) {
    return MEC4J_ERROR_OUT_OF_MEMORY;
  } catch (...) {
    return MEC4J_ERROR_INTERNAL;
  }
  return MEC4J_OK;
}

const char* mec4j_status_string(mec4j_status st) {
  switch (st) {
    case MEC4J_OK: return "ok";
    case MEC4J_ERROR_NULL_ARGUMENT: return "a required pointer is null";
    case MEC4J_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case MEC4J_ERROR_SIZE_OVERFLOW: return "a size overflows 64 bits";
    case MEC4J_ERROR_UNSUPPORTED: return "unsupported by this algorithm (BLAS int range, Solution A with |O| > |L|, or MEC_FUSED on a CPU without AVX2+FMA)";
    case MEC4J_ERROR_WORKSPACE_TOO_SMALL: return "workspace too small";
    case MEC4J_ERROR_WORKSPACE_MISALIGNED: return "workspace not 64-byte aligned";
    case MEC4J_ERROR_OUT_OF_MEMORY: return "out of memory";
    case MEC4J_ERROR_UNKNOWN_ALGORITHM: return "unknown algorithm";
    case MEC4J_ERROR_INTERNAL: return "internal error";
    case MEC4J_ERROR_WORKSPACE_LIMIT: return "workspace limit below MEC's smallest tile (one output column of one image)";
  }
  return "unknown status";
}

const char* mec4j_algorithm_name(mec4j_algorithm a) {
  switch (a) {
    case MEC4J_ALGORITHM_REFERENCE: return "reference";
    case MEC4J_ALGORITHM_IM2COL: return "im2col";
    case MEC4J_ALGORITHM_MEC: return "mec";
    case MEC4J_ALGORITHM_MEC_A: return "mec-a";
    case MEC4J_ALGORITHM_MEC_B: return "mec-b";
    case MEC4J_ALGORITHM_MEC_ROWS: return "mec-rows";
    case MEC4J_ALGORITHM_MEC_FUSED: return "mec-fused";
  }
  return "unknown";
}

}  // extern "C"
