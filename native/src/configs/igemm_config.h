// Internal: the igemm micro-kernel and its blocking per ISA (XNNPACK's gemm-config, BLIS's
// cntx_init): chosen once per ISA, the blocking sized from this CPU's caches.
#ifndef MEC4J_IGEMM_CONFIG_H
#define MEC4J_IGEMM_CONFIG_H

#include <cstdint>
#include <vector>

#include "mec4j.h"
#include "ukernels/f32_igemm.h"

namespace mec4j {

struct IgemmConfig {
  const char* name;  // operation-tile-ISA, e.g. "f32-igemm-6x16-avx2-fma"
  mec4j_isa isa;
  int mr, nr;  // the micro-tile
  int64_t kc;  // K per block: a packed B panel (kc x nr) as deep as the panel buffer holds, up to 384 steps
  int64_t mc;  // A rows per block: mc rows of kc floats take half of L2
  IgemmUkernelFn ukernel;
  IgemmStridedUkernelFn ukernel_strided;         // the same tile for full tiles whose rows lie at a constant stride
  IgemmStridedUkernelFn ukernel_strided_stream;  // the same with non-temporal stores (final C, 64-byte rows)
  const IgemmUkernelFn* ukernel_tails;           // [r]: the kernel of r < mr rows
  PackPanelFn pack;
  IgemmWtUkernelFn ukernel_wt;  // the same tile for weight gradients (W^T * B, W read by rows)
};

constexpr int kMaxNr = 64;
constexpr int kMaxMr = 16;  // rows of the tallest tile
constexpr int64_t kMaxKc = 512;
// A packed B panel (kc x nr) never takes more (kc is clamped to it): the GEMM keeps one on its stack.
constexpr int64_t kMaxPanelFloats = 512 * 32;
constexpr int64_t kMaxMc = 1024;

// The tile for this ISA and a GEMM of n output columns (k_c/g): of the ISA's tiles (preferred
// first), the first that pads n the least (n <= 0: the preferred one). Each ISA falls back to the
// next lower one it has, so the effective ISA always has a config.
const IgemmConfig* igemm_config(mec4j_isa isa, int64_t n = 0);
// All of the ISA's tiles, preferred first (tests).
std::vector<const IgemmConfig*> igemm_configs(mec4j_isa isa);

}  // namespace mec4j
#endif
