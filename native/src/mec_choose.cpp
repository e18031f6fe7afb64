// The rule the automatic MEC uses to pick its variant, calibrated by measurement on this
// project's reference machine (2-core Zen 4, OpenBLAS 0.3.31 and MKL 2025.3; README, "Choosing
// the MEC variant", has the table behind each constant).
#include "fused_gemm.h"
#include "shape.h"

namespace mec4j {

namespace {
// MEC_FUSED computes 16 output channels per micro-tile: below that most of its lanes idle.
constexpr int64_t kFusedMinChannels = 16;
// Over a batch, with this many output channels and k_w*i_c >= kRowsMinPatch, ROWS's k_h GEMMs
// (batch folded in) are large in every dimension, and the BLAS's kernel beat FUSED by 3-7%:
// cv6 and cv12 at batch 32, 1 thread, in 7 of 8 runs (OpenBLAS and MKL; README table).
constexpr int64_t kRowsMinChannels = 512;
// MEC_ROWS runs GEMMs with K = k_w*i_c and re-reads its output once per kernel row (beta = 1):
// it needs a K this large to amortise that. At batch 1 its output tile is small and stays in
// cache, so a much smaller K suffices.
constexpr int64_t kRowsMinPatchBatch1 = 16;
constexpr int64_t kRowsMinPatch = 256;
}  // namespace

MecSolution mec_choose(const Shape& s) {
  const int64_t row_patch = s.kw * s.ic;
  if (s.n > 1 && s.kc >= kRowsMinChannels && row_patch >= kRowsMinPatch && mec_rows_interleaved(s))
    return MecSolution::Rows;
  // One long-K GEMM over MEC's workspace beat every BLAS variant on the other cv layers (README).
  if (s.kc >= kFusedMinChannels && fused_gemm_supported()) return MecSolution::Fused;
  if (s.n == 1) return row_patch >= kRowsMinPatchBatch1 ? MecSolution::Rows : MecSolution::B;
  if (row_patch >= kRowsMinPatch) return MecSolution::Rows;
  // The paper's rule: Solution A when o_w <= T and |O| <= |L|. (At batch 1, A would run exactly
  // B's GEMMs plus a permutation, hence the batch test above.)
  if (s.ow <= s.threshold && s.output_elems <= s.mec_lowered_elems) return MecSolution::A;
  return MecSolution::B;
}

}  // namespace mec4j
