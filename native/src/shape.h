// Internal: a validated convolution with its derived sizes (shape.cpp), and the sub-layers of it
// that tiles run on.
#ifndef MEC4J_SHAPE_H
#define MEC4J_SHAPE_H

#include <cstdint>

#include "mec4j.h"

namespace mec4j {

// Multiplies non-negative sizes; false on 64-bit overflow.
inline bool mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
inline bool add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

struct Shape {
  int64_t n, ih, iw, ic, kh, kw, kc, sh, sw, pt, pb, pl, pr;
  int64_t g;          // groups: g divides i_c and k_c; channels of a group are contiguous
  int64_t icg, kcg;   // i_c / g, k_c / g
  int64_t dh, dw;     // dilation (1 = none)
  int64_t ekh, ekw;   // extent of the dilated kernel: (k - 1) * d + 1
  int64_t ihp, iwp;   // padded input sizes
  int64_t oh, ow;     // output sizes
  int64_t threshold;  // T of the MEC A/B rule
  int64_t input_elems, kernel_elems, output_elems;
  int64_t mec_lowered_elems;  // |L| = n*ow*ihp*kw*ic
  int64_t im2col_elems;       // n*oh*ow*kh*kw*ic
  int64_t patch;              // kh*kw*ic: one im2col row (all groups)
  int64_t group_patch;        // kh*kw*icg: the GEMM K dimension of one group
  int64_t rows_used;          // padded rows any output reads: (oh-1)*sh + ekh
  // MEC's tiling under mec_workspace_limit, coarsest first: tile_n images at a time; else one
  // image in bands of tile_oh output rows; else one image in groups of tile_w output columns.
  // No cap: tile_n = n, tile_oh = oh, tile_w = ow.
  int64_t tile_n, tile_oh, tile_w;
  bool banded;  // row bands (tile_oh may still equal oh: a band skips the unread bottom rows)
  // No mec_workspace_limit given (0): MEC and MEC_FUSED size their workspace from the cache
  // (fused_tiles), the other MEC variants take the whole lowering.
  bool cache_sized;
  // The fused activation as a clamp of every output value to [act[0], act[1]] (ReLU: [0, inf]).
  bool activated;
  float act[2];
  const float* clamp() const { return activated ? act : nullptr; }
  // NCHW tensors (mec4j_conv2d::layout), with the input's and the output's channel and image
  // strides.
  bool nchw;
  int64_t in_cs, in_ns, out_cs, out_ns;
  // Offset of image n's input row `row` (column 0, channel 0), and of its output row y.
  int64_t in_offset(int64_t image, int64_t row) const {
    return nchw ? image * in_ns + row * iw : (image * ih + row) * iw * ic;
  }
  int64_t out_offset(int64_t image, int64_t y) const {
    return nchw ? image * out_ns + y * ow : (image * oh + y) * ow * kc;
  }
  bool depthwise() const { return g > 1 && icg == 1; }
  // One lowered row of one image (o_w*k_w*i_c floats), and one image's MEC lowering (|L| / i_n).
  int64_t lowered_row() const { return ow * kw * ic; }
  int64_t image_lowered() const { return ihp * lowered_row(); }
  // MEC under a workspace limit so small that it tiles single images' output columns.
  bool column_tiled() const { return tile_w < ow; }
  // One output column's strip of MEC's lowering of one image: i_hp*k_w*i_c floats (also the
  // leading dimension of Solutions A and B's GEMMs).
  int64_t lowered_column() const { return ihp * kw * ic; }
  // MEC's smallest tile under mec_workspace_limit, in floats: one output row band (the e_kh padded
  // rows one output row reads, lowered), or one output column of one image (a strip of L) where
  // column tiles apply (they run Solution B, which needs one contiguous window per output row: no
  // groups, no dilation across rows), whichever is smaller. Never more than L.
  int64_t smallest_mec_tile() const {
    const int64_t strip = lowered_column();
    const int64_t band = ekh * lowered_row();
    return g == 1 && dh == 1 && strip < band ? strip : band;
  }
  int64_t mec_tile_elems() const {
    if (column_tiled()) return tile_w * lowered_column();
    if (banded) return ((tile_oh - 1) * sh + ekh) * lowered_row();
    return tile_n * image_lowered();
  }
};

// The same layer restricted to images [0, n) (pointers are offset by the caller).
Shape with_batch(const Shape& s, int64_t n);
// One image restricted to output rows [y0, y0 + rows): a layer of its own over the input rows
// those outputs read, with the padding that falls inside them. *input_row is the first input
// row it reads.
Shape row_band(const Shape& s, int64_t y0, int64_t rows, int64_t* input_row);

// Fills *shape from *conv, or returns the failing status (and field name).
mec4j_status make_shape(const mec4j_conv2d* conv, Shape* shape, const char** bad_field);

}  // namespace mec4j
#endif
