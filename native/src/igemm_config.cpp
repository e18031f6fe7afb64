#include "igemm_config.h"

#include <unistd.h>

#include <algorithm>

#include "isa.h"

MEC4J_DECLARE_F32_IGEMM(f32_igemm_4x8_portable)
#if defined(MEC4J_HAVE_X86_KERNELS)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_6x16_avx2_fma)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_12x32_avx512f)
#endif

namespace mec4j {

namespace {

int64_t cache_bytes(int name, int64_t fallback) {
  const long v = sysconf(name);
  return v > 0 ? v : fallback;
}

// BLIS's rule of thumb for a kernel that streams B panels past a resident block of A: the B panel
// (kc x nr) takes half of L1, the block of A rows (mc x kc) half of L2.
IgemmConfig blocked(IgemmConfig c) {
  const int64_t l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
  const int64_t l2 = l2_cache_bytes();
  c.kc = std::clamp<int64_t>(l1 / 2 / (c.nr * (int64_t)sizeof(float)) / 16 * 16, 64, kMaxKc);
  c.mc = std::clamp<int64_t>(l2 / 2 / (c.kc * (int64_t)sizeof(float)) / c.mr * c.mr, 4 * c.mr, kMaxMc / c.mr * c.mr);
  return c;
}

}  // namespace

const IgemmConfig* igemm_config(mec4j_isa isa) {
  static const IgemmConfig portable =
      blocked({"f32-igemm-4x8-portable", MEC4J_ISA_PORTABLE, 4, 8, 0, 0, f32_igemm_4x8_portable_ukernel,
               f32_igemm_4x8_portable_ukernel_strided, f32_igemm_4x8_portable_ukernel_tails,
               f32_igemm_4x8_portable_pack, f32_igemm_4x8_portable_ukernel_wt});
#if defined(MEC4J_HAVE_X86_KERNELS)
  static const IgemmConfig avx2 =
      blocked({"f32-igemm-6x16-avx2-fma", MEC4J_ISA_AVX2, 6, 16, 0, 0, f32_igemm_6x16_avx2_fma_ukernel,
               f32_igemm_6x16_avx2_fma_ukernel_strided, f32_igemm_6x16_avx2_fma_ukernel_tails,
               f32_igemm_6x16_avx2_fma_pack, f32_igemm_6x16_avx2_fma_ukernel_wt});
  static const IgemmConfig avx512 =
      blocked({"f32-igemm-12x32-avx512f", MEC4J_ISA_AVX512, 12, 32, 0, 0, f32_igemm_12x32_avx512f_ukernel,
               f32_igemm_12x32_avx512f_ukernel_strided, f32_igemm_12x32_avx512f_ukernel_tails,
               f32_igemm_12x32_avx512f_pack, f32_igemm_12x32_avx512f_ukernel_wt});
  if (isa >= MEC4J_ISA_AVX512) return &avx512;
  if (isa >= MEC4J_ISA_AVX2) return &avx2;
#endif
  (void)isa;
  return &portable;
}

}  // namespace mec4j
