// Internal: MEC (Cho & Brand 2017): its variants A, B, ROWS and FUSED (mec.cpp; FUSED on NCHW
// layers: mec_nchw.cpp), their lowerings, tiling and backward passes.
#ifndef MEC4J_MEC_H
#define MEC4J_MEC_H

#include <cstdint>

#include "mec4j.h"
#include "shape.h"

namespace mec4j {

struct IgemmConfig;
struct Plan;

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
// MEC_FUSED over s's padded input rows, NHWC, as copied into `rows` (i_wp*i_c floats each, the
// rows_used rows of each image): the GEMM reads its windows there as Direct does in an unpadded
// input. k: HWIO, or packed_kernel. channels > 0 (one group only): the first `channels` output
// channels, of a kernel whose rows are that long, into out's rows of k_c floats.
void multiply_padded_rows(const Shape& s, const IgemmConfig& igemm, const float* rows, const float* k,
                          const float* bias, float* out, const float* packed_kernel, int threads, bool stream,
                          int64_t channels = 0);
// MEC_FUSED on an NCHW layer (mec_nchw.cpp), one of two ways. Through NHWC: the kernel turned
// into HWIO and bands of output rows, each band's input rows transposed into NHWC rows,
// multiplied there, and its output transposed into the output planes (a workspace of the kernel
// and one band). Or the transposed GEMM: the OIHW kernel's rows times panels of output pixels
// gathered from the input planes (no workspace). Where both apply, the default measures them on
// the layer's first run (MEC4J_TUNING_MEASURE); else a rule over the data each moves.
// nchw_workspace_elems: the NHWC way's workspace where it applies, else 0.
int64_t nchw_workspace_elems(const Shape& s);
void nchw_forward(const Plan& p, const float* in, const float* oihw, const float* bias, float* out, float* ws);
enum class NchwWay { Auto, ThroughNhwc, TransposedGemm };
// Tests: force a way where both apply (Auto: the default choice).
void set_nchw_way_for_testing(NchwWay way);
// Solution B for one image and output columns [w0, w0 + wt): the column tiles of a capped MEC.
void mec_forward_columns(const Shape& s, int64_t w0, int64_t wt, const float* image, const float* k, float* image_out,
                         float* ws);

// MEC4J_ERROR_BAD_ENVIRONMENT when MEC4J_GEMM_PARALLEL (how the BLAS variants split their GEMMs
// over threads) has a value mec4j does not know.
mec4j_status gemm_parallel_status();

// Whether MEC_ROWS folds the batch into its GEMMs (then it permutes like Solution A).
bool mec_rows_interleaved(const Shape& s);

// --- Backward passes. Each overwrites its outputs completely. ---
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

}  // namespace mec4j
#endif
