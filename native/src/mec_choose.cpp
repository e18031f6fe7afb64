// The heuristic the automatic MEC uses when it does not measure (MEC4J_TUNING_HEURISTIC, or
// before a layer's first run): it depends on the layer and on the micro-kernel's tile only, so
// the same CPU and ISA cap always give the same variant.
#include "igemm_config.h"
#include "shape.h"

namespace mec4j {

namespace {
// MEC_ROWS runs GEMMs with K = k_w*i_c and re-reads its output once per kernel row (beta = 1):
// it needs a K this large to amortise that. At batch 1 its output tile is small and stays in
// cache, so a much smaller K suffices.
constexpr int64_t kRowsMinPatchBatch1 = 16;
constexpr int64_t kRowsMinPatch = 256;
}  // namespace

MecSolution mec_choose(const Shape& s, const IgemmConfig& igemm) {
  // One long-K GEMM over MEC's workspace (or the input itself, or its subsample), with the widest
  // kernel the CPU runs, unless most of its nr lanes would idle on few output channels.
  if (mec_lowering(s, MecSolution::Fused) != Lowering::Mec || 2 * s.kc >= igemm.nr) return MecSolution::Fused;
  const int64_t row_patch = s.kw * s.ic;
  if (s.n == 1) return row_patch >= kRowsMinPatchBatch1 ? MecSolution::Rows : MecSolution::B;
  if (row_patch >= kRowsMinPatch) return MecSolution::Rows;
  // The paper's rule: Solution A when o_w <= T and |O| <= |L|. (At batch 1, A would run exactly
  // B's GEMMs plus a permutation, hence the batch test above.)
  if (s.ow <= s.threshold && s.output_elems <= s.mec_lowered_elems) return MecSolution::A;
  return MecSolution::B;
}

}  // namespace mec4j
