// Internal: the instruction sets mec4j has kernels for, what this CPU runs, and the process-wide
// cap (MEC4J_MAX_ISA / mec4j_set_max_isa), as oneDNN's ONEDNN_MAX_CPU_ISA.
#ifndef MEC4J_ISA_H
#define MEC4J_ISA_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mec4j.h"

namespace mec4j {

// This architecture's ISA levels, lowest first (x86-64: portable, avx2, avx512; aarch64:
// portable, neon); the caps mec4j_set_max_isa accepts are these and MEC4J_ISA_BEST.
const std::vector<mec4j_isa>& isa_levels();
// The best ISA this CPU (and its OS) runs, detected once.
mec4j_isa host_isa();
// min(host, cap): what kernels are chosen for. Fails only when MEC4J_MAX_ISA is misspelt and no
// cap was set through the API since.
mec4j_status effective_isa(mec4j_isa* isa);
// The cap: set (INVALID_ARGUMENT for a level this architecture does not have), and read
// (MEC4J_ISA_BEST: none; BAD_ENVIRONMENT as effective_isa).
mec4j_status set_max_isa(mec4j_isa isa);
mec4j_status max_isa(mec4j_isa* isa);
// "portable", "avx2", "avx512", "neon", "best" (the values of MEC4J_MAX_ISA), or "unknown".
const char* isa_name(mec4j_isa isa);

// Of a kernel's configs, listed lowest ISA first (each with its `isa`), the best that `isa` runs:
// the last one whose ISA is at most `isa` (the first where none is).
template <class Config, std::size_t N>
const Config* best_config(const Config (&configs)[N], mec4j_isa isa) {
  const Config* best = &configs[0];
  for (const Config& c : configs)
    if (c.isa <= isa) best = &c;
  return best;
}

// This CPU's L2 per core in bytes (sysconf; 512 KiB where the OS does not say), read once.
int64_t l2_cache_bytes();
// The L1 data cache of one core, in bytes (32 KiB when the system does not say).
int64_t l1_data_cache_bytes();
// Tests only: pretend the L2 has this many bytes (0: the real size), so that small layers take
// the paths of large ones. The micro-kernels' blocking, chosen once, does not change.
void set_l2_cache_bytes_for_testing(int64_t bytes);
// The hardware threads this process may run on (at least 1), read once.
int hardware_threads();

}  // namespace mec4j
#endif
