// Internal: a validated convolution with its derived sizes, and the implementations' signatures.
#ifndef MEC4J_SHAPE_H
#define MEC4J_SHAPE_H

#include <cstdint>

#include "mec4j.h"

namespace mec4j {

struct IgemmConfig;

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
  // MEC's smallest tile under mec_workspace_limit, in floats: one output row band (the e_kh padded
  // rows one output row reads, lowered), or one output column of one image (a strip of L) where
  // column tiles apply (they run Solution B, which needs one contiguous window per output row: no
  // groups, no dilation across rows), whichever is smaller. Never more than L.
  int64_t smallest_mec_tile() const {
    const int64_t strip = ihp * kw * ic;
    const int64_t band = ekh * lowered_row();
    return g == 1 && dh == 1 && strip < band ? strip : band;
  }
  int64_t mec_tile_elems() const {
    if (column_tiled()) return tile_w * ihp * kw * ic;
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

// Each implementation writes output (NHWC) completely; workspace is big enough and aligned.
void reference_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out);
void im2col_forward(const Shape& s, const float* in, const float* k, const float* bias, float* out, float* ws);
enum class MecSolution { A, B, Rows, Fused };
// Where a solution's A matrix comes from. Unpadded 1x1 layers need no MEC lowering: at stride 1
// the NHWC input is A itself (InPlace, no workspace); strided, A is the input's pixels at the
// stride, copied densely (Subsample, i_n*o_h*o_w*i_c floats: less than |L|, which also counts
// rows no output reads). Under a workspace limit that tiles the layer, strided ones lower as MEC.
// MEC_FUSED's GEMM reads its row windows wherever they are contiguous: in an unpadded layer
// (without dilation across a row, unless grouped, whose windows are one tap each) they are in the
// input itself, k_w*i_c floats at each kernel row: Direct, no lowering and no workspace (strided
// 1x1 layers too; the subsample is then MEC_ROWS's).
enum class Lowering { Mec, InPlace, Subsample, Direct };
Lowering mec_lowering(const Shape& s, MecSolution solution);
// One MEC run on the whole of s (s is not tiled). igemm: the micro-kernel config for Fused;
// packed_kernel: Fused only, k packed for that config (pack_igemm_kernel), or null.
void mec_forward(const Shape& s, MecSolution solution, const IgemmConfig* igemm, const float* in, const float* k,
                 const float* bias, float* out, float* ws, const float* packed_kernel = nullptr);
// MEC_ROWS's row lowering: per image [row][w][k_w*i_c], |L| / i_n floats, the padded rows grouped
// by phase (h mod s_h); interleaved: [row][n][w][k_w*i_c]. Rows no kernel row reads are skipped.
void lower_rows(const Shape& s, const float* in, float* L, bool interleaved, int threads);
// Index of padded row h in that order, whether kernel rows read phase p, and the lowered row that
// kernel row r reads for output row 0 (output row y reads y rows further).
int64_t phase_row(const Shape& s, int64_t h);
bool phase_read(const Shape& s, int64_t p);
int64_t kernel_row_start(const Shape& s, int64_t r);
// The input's pixels at the stride, densely (the A of a strided unpadded 1x1 layer).
void subsample(const Shape& s, const float* in, float* L, int threads);
// The im2col matrix of the whole batch: a row of k_h*k_w*i_c floats per output pixel, columns
// ordered (group, k_h, k_w, i_c/g).
void im2col_lower(const Shape& s, const float* in, float* cols);
// How MEC_FUSED runs a layer in its default, cache-sized workspace: the whole lowering when it is
// small; else chunks of whole images; else bands of output rows, one per thread at a time, each
// in its own slot of the workspace (see mec.cpp).
struct FusedTiles {
  enum class Mode { Whole, Images, Bands } mode;
  // A padded layer whose windows are contiguous: the workspace holds the input rows the outputs
  // read, copied with their padding (i_wp*i_c floats a row, k_w/s_w times less than lowered
  // rows), and the GEMM reads the windows there as Direct does in an unpadded input.
  bool padded_copy;
  int64_t images;       // Images: images per chunk
  int64_t rows;         // Bands: output rows per band (the last band may be shorter)
  int64_t slot_floats;  // Bands: one thread's slot
  int64_t slots;        // Bands: threads that can work at once
  int64_t ws_elems;     // the workspace, in floats
};
FusedTiles fused_tiles(const Shape& s);
// The default workspace's bound where whole images fit: twice the L2 per hardware thread, in floats.
int64_t cache_sized_bound_elems();
// MEC tile by tile under the workspace limit (see Shape::tile_n); untiled layers are one tile.
// Column tiles (tile_w < o_w) run Solution B and need k itself.
void mec_tiled(const Shape& s, MecSolution solution, const IgemmConfig* igemm, const float* in, const float* k,
               const float* bias, float* out, float* ws, const float* packed_kernel = nullptr);
// MEC_FUSED on an NCHW layer (mec_nchw.cpp): the transposed GEMM, the OIHW kernel's rows times
// panels of output pixels gathered from the input planes; no workspace.
void nchw_forward(const Shape& s, const IgemmConfig& igemm, const float* in, const float* oihw, const float* bias,
                  float* out, int threads);
// Solution B for one image and output columns [w0, w0 + wt): the column tiles of a capped MEC.
void mec_forward_columns(const Shape& s, int64_t w0, int64_t wt, const float* image, const float* k, float* image_out,
                         float* ws);

// MEC4J_ERROR_BAD_ENVIRONMENT when MEC4J_GEMM_PARALLEL (how the BLAS variants split their GEMMs
// over threads) has a value mec4j does not know.
mec4j_status gemm_parallel_status();

// Whether MEC_ROWS folds the batch into its GEMMs (then it permutes like Solution A).
bool mec_rows_interleaved(const Shape& s);
// The BLAS variants' last pass over their output: adds the bias (if any) and applies the fused
// activation (if any).
void finish_output(const Shape& s, const float* bias, float* out);

// Row-major, no transposes: C[MxN] = A[MxK] * B[KxN] + beta * C.
void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
           int64_t ldc, float beta);
// The same with op(A) = A or its transpose (A then stored K x M), op(B) likewise (N x K).
enum class Trans { No, Yes };
void sgemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, float beta);

// --- Backward passes (backward.cpp). Each overwrites its outputs completely. ---
// grad_in (NHWC, like the input) = the gradient of the loss with respect to the input, given
// grad_out (NHWC, like the output) and the kernel.
void reference_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in);
// grad_k (the kernel's layout) and grad_bias (k_c floats, or null) from the input and grad_out.
void reference_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k,
                                float* grad_bias);
void im2col_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws);
void im2col_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                             float* ws);
// MEC's backward passes over MEC_ROWS's row lowering of one image (or one row band under a
// workspace limit) at a time; unpadded 1x1 layers multiply the input (or its subsample) directly.
int64_t mec_backward_elems(const Shape& s);
void mec_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws);
// MEC_FUSED's backward data, at stride 1 (and padding below the kernel's extent, the default
// workspace): dI is the forward convolution of dO, padded by (k - 1)*d - p, with the kernel turned
// by 180 degrees and its channels swapped, run by MEC_FUSED's forward paths (micro-kernels of
// `isa`). Workspace: the turned kernel, then that forward's.
bool backward_data_as_forward(const Shape& s);
// Whether that beats MEC_ROWS's backward data: few extra outputs, enough input channels.
bool fused_backward_data_pays(const Shape& s, mec4j_isa isa);
int64_t fused_backward_data_elems(const Shape& s);
void fused_backward_data(const Shape& s, mec4j_isa isa, const float* grad_out, const float* k, float* grad_in,
                         float* ws);
// igemm: multiply with mec4j's micro-kernels (MEC_FUSED), else with the BLAS (MEC_ROWS).
void mec_backward_weights(const Shape& s, const IgemmConfig* igemm, const float* in, const float* grad_out,
                          float* grad_k, float* grad_bias, float* ws);
// Depthwise layers: direct loops vectorised over channels; ws holds a transposed kernel
// (kernel_elems floats).
void depthwise_backward_data(const Shape& s, const float* grad_out, const float* k, float* grad_in, float* ws);
void depthwise_backward_weights(const Shape& s, const float* in, const float* grad_out, float* grad_k, float* grad_bias,
                                float* ws);
// grad_bias[c] = the sum of grad_out over every pixel; nothing when grad_bias is null.
void bias_gradient(const Shape& s, const float* grad_out, float* grad_bias);

}  // namespace mec4j
#endif
