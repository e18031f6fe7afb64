// Internal: the instruction sets mec4j has kernels for, what this CPU runs, and the process-wide
// cap (MEC4J_MAX_ISA / mec4j_set_max_isa), as oneDNN's ONEDNN_MAX_CPU_ISA.
#ifndef MEC4J_ISA_H
#define MEC4J_ISA_H

#include "mec4j.h"

namespace mec4j {

// The best ISA this CPU (and its OS) runs, detected once.
mec4j_isa host_isa();
// min(host, cap): what kernels are chosen for. Fails only when MEC4J_MAX_ISA is misspelt and no
// cap was set through the API since.
mec4j_status effective_isa(mec4j_isa* isa);

}  // namespace mec4j
#endif
