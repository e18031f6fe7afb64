// The rule the automatic MEC uses to pick its variant. Calibrated on this project's reference
// machine (see README, "Choosing the MEC variant"); T is the paper's threshold.
#include "shape.h"

namespace mec4j {

MecSolution mec_choose(const Shape& s) {
  // The paper's rule: Solution A when o_w <= T and |O| <= |L|. At batch 1, A runs exactly B's
  // GEMMs plus a permutation, so B is never slower there.
  if (s.n > 1 && s.ow <= s.threshold && s.output_elems <= s.mec_lowered_elems) return MecSolution::A;
  return MecSolution::B;
}

}  // namespace mec4j
