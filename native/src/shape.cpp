// A convolution's checks and derived sizes (make_shape), and the sub-layers MEC's tiles run on.
#include "shape.h"

#include <cmath>
#include <initializer_list>
#include <limits>

#include "mec4j.h"

namespace mec4j {

namespace {
mec4j_status fail(const char** bad_field, const char* field, mec4j_status status) {
  if (bad_field) *bad_field = field;
  return status;
}
}  // namespace

mec4j_status make_shape(const mec4j_conv2d* c, Shape* s, const char** bad) {
  if (!c) return fail(bad, "conv", MEC4J_ERROR_NULL_ARGUMENT);
  struct Positive {
    int64_t v;
    const char* name;
  } positives[] = {{c->batch, "batch"},
                   {c->in_height, "in_height"},
                   {c->in_width, "in_width"},
                   {c->in_channels, "in_channels"},
                   {c->kernel_height, "kernel_height"},
                   {c->kernel_width, "kernel_width"},
                   {c->out_channels, "out_channels"},
                   {c->stride_height, "stride_height"},
                   {c->stride_width, "stride_width"}};
  for (const auto& p : positives)
    if (p.v < 1) return fail(bad, p.name, MEC4J_ERROR_INVALID_ARGUMENT);
  struct NonNegative {
    int64_t v;
    const char* name;
  } pads[] = {{c->pad_top, "pad_top"},
              {c->pad_bottom, "pad_bottom"},
              {c->pad_left, "pad_left"},
              {c->pad_right, "pad_right"},
              {c->groups, "groups"},
              {c->dilation_height, "dilation_height"},
              {c->dilation_width, "dilation_width"}};
  for (const auto& p : pads)
    if (p.v < 0) return fail(bad, p.name, MEC4J_ERROR_INVALID_ARGUMENT);

  *s = Shape{};
  s->n = c->batch;
  s->ih = c->in_height;
  s->iw = c->in_width;
  s->ic = c->in_channels;
  s->kh = c->kernel_height;
  s->kw = c->kernel_width;
  s->kc = c->out_channels;
  s->sh = c->stride_height;
  s->sw = c->stride_width;
  s->pt = c->pad_top;
  s->pb = c->pad_bottom;
  s->pl = c->pad_left;
  s->pr = c->pad_right;
  s->g = c->groups > 1 ? c->groups : 1;
  s->dh = c->dilation_height > 1 ? c->dilation_height : 1;
  s->dw = c->dilation_width > 1 ? c->dilation_width : 1;
  if (s->ic % s->g != 0) return fail(bad, "groups", MEC4J_ERROR_INVALID_ARGUMENT);
  if (s->kc % s->g != 0) return fail(bad, "groups", MEC4J_ERROR_INVALID_ARGUMENT);
  s->icg = s->ic / s->g;
  s->kcg = s->kc / s->g;
  s->threshold = c->mec_threshold > 0 ? c->mec_threshold : MEC4J_DEFAULT_MEC_THRESHOLD;
  switch (c->activation) {
    case MEC4J_ACTIVATION_NONE:
      break;
    case MEC4J_ACTIVATION_RELU:
      s->activated = true;
      s->act[0] = 0.0f;
      s->act[1] = std::numeric_limits<float>::infinity();
      break;
    case MEC4J_ACTIVATION_CLAMP:
      if (std::isnan(c->activation_min)) return fail(bad, "activation_min", MEC4J_ERROR_INVALID_ARGUMENT);
      if (std::isnan(c->activation_max) || c->activation_max < c->activation_min)
        return fail(bad, "activation_max", MEC4J_ERROR_INVALID_ARGUMENT);
      s->activated = true;
      s->act[0] = c->activation_min;
      s->act[1] = c->activation_max;
      break;
    default:
      return fail(bad, "activation", MEC4J_ERROR_INVALID_ARGUMENT);
  }
  int64_t t;
  if (!mul(s->kh - 1, s->dh, &t) || !add(t, 1, &s->ekh)) return fail(bad, "dilation_height", MEC4J_ERROR_SIZE_OVERFLOW);
  if (!mul(s->kw - 1, s->dw, &t) || !add(t, 1, &s->ekw)) return fail(bad, "dilation_width", MEC4J_ERROR_SIZE_OVERFLOW);
  if (!add(s->pt, s->pb, &t) || !add(s->ih, t, &s->ihp)) return fail(bad, "in_height", MEC4J_ERROR_SIZE_OVERFLOW);
  if (!add(s->pl, s->pr, &t) || !add(s->iw, t, &s->iwp)) return fail(bad, "in_width", MEC4J_ERROR_SIZE_OVERFLOW);
  // The output must have at least one row and column.
  if (s->ekh > s->ihp) return fail(bad, "kernel_height", MEC4J_ERROR_INVALID_ARGUMENT);
  if (s->ekw > s->iwp) return fail(bad, "kernel_width", MEC4J_ERROR_INVALID_ARGUMENT);
  s->oh = (s->ihp - s->ekh) / s->sh + 1;
  s->ow = (s->iwp - s->ekw) / s->sw + 1;
  s->rows_used = (s->oh - 1) * s->sh + s->ekh;

  bool ok = mul(s->n, s->ih, &t) && mul(t, s->iw, &t) && mul(t, s->ic, &s->input_elems) && mul(s->kh, s->kw, &t) &&
            mul(t, s->ic, &s->patch) && mul(s->kh, s->kw, &t) && mul(t, s->icg, &s->group_patch) &&
            mul(s->group_patch, s->kc, &s->kernel_elems) && mul(s->n, s->oh, &t) && mul(t, s->ow, &t) &&
            mul(t, s->kc, &s->output_elems) && mul(s->n, s->ow, &t) && mul(t, s->ihp, &t) && mul(t, s->kw, &t) &&
            mul(t, s->ic, &s->mec_lowered_elems) && mul(s->n, s->oh, &t) && mul(t, s->ow, &t) &&
            mul(t, s->patch, &s->im2col_elems);
  // Byte counts (x4) must fit too.
  for (int64_t e : {s->input_elems, s->kernel_elems, s->output_elems, s->mec_lowered_elems, s->im2col_elems})
    ok = ok && mul(e, (int64_t)sizeof(float), &t);
  if (!ok) return fail(bad, "conv", MEC4J_ERROR_SIZE_OVERFLOW);

  if (c->layout != MEC4J_LAYOUT_NHWC && c->layout != MEC4J_LAYOUT_NCHW)
    return fail(bad, "layout", MEC4J_ERROR_INVALID_ARGUMENT);
  s->nchw = c->layout == MEC4J_LAYOUT_NCHW;
  s->in_cs = s->ih * s->iw;  // fit: input_elems does
  s->in_ns = s->in_cs * s->ic;
  s->out_cs = s->oh * s->ow;
  s->out_ns = s->out_cs * s->kc;

  s->tile_n = s->n;
  s->tile_oh = s->oh;
  s->tile_w = s->ow;
  s->banded = false;
  s->cache_sized = c->mec_workspace_limit == 0;
  if (c->mec_workspace_limit > 0) {
    const int64_t limit = c->mec_workspace_limit / (int64_t)sizeof(float);
    const int64_t strip = s->lowered_column();
    const int64_t row = s->lowered_row();  // one padded input row of one image
    if (s->mec_lowered_elems > limit) {
      if (s->smallest_mec_tile() > limit) return fail(bad, "mec_workspace_limit", MEC4J_ERROR_WORKSPACE_LIMIT);
      s->tile_n = 1;
      if (strip * s->ow <= limit) {
        s->tile_n = limit / (strip * s->ow);
      } else if (s->ekh * row <= limit) {
        s->banded = true;
        s->tile_oh = (limit / row - s->ekh) / s->sh + 1;  // bands keep the GEMMs' M = rows * o_w
        if (s->tile_oh > s->oh) s->tile_oh = s->oh;
      } else {
        s->tile_w = limit / strip;
      }
    }
  }
  return MEC4J_OK;
}

Shape row_band(const Shape& s, int64_t y0, int64_t rows, int64_t* input_row) {
  const int64_t first = y0 * s.sh;                  // first padded row the band reads
  const int64_t count = (rows - 1) * s.sh + s.ekh;  // padded rows it reads
  int64_t begin = first - s.pt < 0 ? 0 : first - s.pt;
  const int64_t end = first - s.pt + count < s.ih ? first - s.pt + count : s.ih;
  Shape t = with_batch(s, 1);
  t.pt = s.pt - first > 0 ? s.pt - first : 0;
  t.ih = end - begin;
  if (t.ih <= 0) {  // a band inside padding larger than the kernel reads zeros only
    t.ih = 0;
    t.pt = count;
    begin = 0;
  }
  t.pb = count - t.pt - t.ih;
  t.ihp = count;
  t.oh = rows;
  t.rows_used = count;
  t.input_elems = t.ih * s.iw * s.ic;
  t.output_elems = rows * s.ow * s.kc;
  t.mec_lowered_elems = count * s.lowered_row();
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

}  // namespace mec4j
