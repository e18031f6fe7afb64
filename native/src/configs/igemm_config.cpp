#include "configs/igemm_config.h"

#include <algorithm>
#include <vector>

#include "isa.h"

MEC4J_DECLARE_F32_IGEMM(f32_igemm_4x8_portable)
#if defined(MEC4J_HAVE_X86_KERNELS)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_6x16_avx2_fma)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_12x32_avx512f)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_6x64_avx512f)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_16x16_avx512f)
#endif
#if defined(MEC4J_HAVE_AARCH64_KERNELS)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_8x8_neon)
#endif

namespace mec4j {

namespace {

// A K block longer than this gains nothing: C's tile is loaded and stored once per block, under
// 0.5% of the block's FMAs at 384 steps.
constexpr int64_t kLongEnoughKc = 384;

// The B panel (kc x nr) as deep as the panel buffer holds, up to kLongEnoughKc steps; the block of
// A rows (mc x kc) takes half of L2. BLIS's rule gives the panel half of L1; the broadcast kernels
// here read their A rows in place (a few cache lines per step, not a packed block) and the panel
// in order, which the prefetchers follow from L2 as well: deeper blocks reload C's tiles less
// often. On AVX-512's 64-wide panels, kc 96 (half of a 48 KiB L1) -> 192 (all of it) measured
// 2.3% faster over cv1-cv12 (mb1 and mb32, Intel Xeon model 207), and 192 -> 256 (64 KiB, the
// buffer) 1.8% faster on seven 3x3 and 1x1 layers (AMD EPYC Zen 5, 1 MiB of L2); AVX2's 6x16
// keeps 384 (the cap: 512 measured 0.6% slower).
IgemmConfig blocked(IgemmConfig c) {
  const int64_t l2 = l2_cache_bytes();
  c.kc = std::min({kMaxKc, kMaxPanelFloats / c.nr, kLongEnoughKc}) / 16 * 16;
  c.mc = std::clamp<int64_t>(l2 / 2 / (c.kc * (int64_t)sizeof(float)) / c.mr * c.mr, 4 * c.mr, kMaxMc / c.mr * c.mr);
  return c;
}

}  // namespace

// Each ISA's tiles, preferred first: the one with the fewest loads (B vectors and broadcasts of A)
// per FMA. AVX-512's 6x64 (oneDNN's brgemm blocking) broadcasts each A value into 4 FMAs, 10 loads
// per 24 FMAs against 12x32's 14; 12x32 stays for layers of 32*(2j+1) output channels, which
// 64-wide panels would pad by half a panel, and 16x16 (17 loads per 16 FMAs, but no idle lanes)
// for 16*(2j+1) (UNet's 16-channel layers ran at half the lanes on 12x32).
std::vector<const IgemmConfig*> igemm_configs(mec4j_isa isa) {
  static const IgemmConfig portable =
      blocked({"f32-igemm-4x8-portable", MEC4J_ISA_PORTABLE, 4, 8, 0, 0, f32_igemm_4x8_portable_ukernel,
               f32_igemm_4x8_portable_ukernel_strided, f32_igemm_4x8_portable_ukernel_strided_stream,
               f32_igemm_4x8_portable_ukernel_tails, f32_igemm_4x8_portable_pack, f32_igemm_4x8_portable_ukernel_wt});
#if defined(MEC4J_HAVE_X86_KERNELS)
  static const IgemmConfig avx2 = blocked(
      {"f32-igemm-6x16-avx2-fma", MEC4J_ISA_AVX2, 6, 16, 0, 0, f32_igemm_6x16_avx2_fma_ukernel,
       f32_igemm_6x16_avx2_fma_ukernel_strided, f32_igemm_6x16_avx2_fma_ukernel_strided_stream,
       f32_igemm_6x16_avx2_fma_ukernel_tails, f32_igemm_6x16_avx2_fma_pack, f32_igemm_6x16_avx2_fma_ukernel_wt});
  static const IgemmConfig avx512_wide =
      blocked({"f32-igemm-6x64-avx512f", MEC4J_ISA_AVX512, 6, 64, 0, 0, f32_igemm_6x64_avx512f_ukernel,
               f32_igemm_6x64_avx512f_ukernel_strided, f32_igemm_6x64_avx512f_ukernel_strided_stream,
               f32_igemm_6x64_avx512f_ukernel_tails, f32_igemm_6x64_avx512f_pack, f32_igemm_6x64_avx512f_ukernel_wt});
  static const IgemmConfig avx512 = blocked(
      {"f32-igemm-12x32-avx512f", MEC4J_ISA_AVX512, 12, 32, 0, 0, f32_igemm_12x32_avx512f_ukernel,
       f32_igemm_12x32_avx512f_ukernel_strided, f32_igemm_12x32_avx512f_ukernel_strided_stream,
       f32_igemm_12x32_avx512f_ukernel_tails, f32_igemm_12x32_avx512f_pack, f32_igemm_12x32_avx512f_ukernel_wt});
  static const IgemmConfig avx512_narrow = blocked(
      {"f32-igemm-16x16-avx512f", MEC4J_ISA_AVX512, 16, 16, 0, 0, f32_igemm_16x16_avx512f_ukernel,
       f32_igemm_16x16_avx512f_ukernel_strided, f32_igemm_16x16_avx512f_ukernel_strided_stream,
       f32_igemm_16x16_avx512f_ukernel_tails, f32_igemm_16x16_avx512f_pack, f32_igemm_16x16_avx512f_ukernel_wt});
  if (isa >= MEC4J_ISA_AVX512) return {&avx512_wide, &avx512, &avx512_narrow};
  if (isa >= MEC4J_ISA_AVX2) return {&avx2};
#endif
#if defined(MEC4J_HAVE_AARCH64_KERNELS)
  // Not timed (built and tested under emulation only): the tile with the most accumulators that
  // the 32 registers hold without spilling, over the same 8-wide panels as the portable tile.
  static const IgemmConfig neon =
      blocked({"f32-igemm-8x8-neon", MEC4J_ISA_NEON, 8, 8, 0, 0, f32_igemm_8x8_neon_ukernel,
               f32_igemm_8x8_neon_ukernel_strided, f32_igemm_8x8_neon_ukernel_strided_stream,
               f32_igemm_8x8_neon_ukernel_tails, f32_igemm_8x8_neon_pack, f32_igemm_8x8_neon_ukernel_wt});
  if (isa == MEC4J_ISA_NEON) return {&neon};
#endif
  (void)isa;
  return {&portable};
}

const IgemmConfig* igemm_config(mec4j_isa isa, int64_t n) {
  // Each level's list, made once (igemm_configs holds the one choice of tiles per ISA).
  static const std::vector<const IgemmConfig*> by_isa[] = {
      igemm_configs(MEC4J_ISA_PORTABLE), igemm_configs(MEC4J_ISA_AVX2), igemm_configs(MEC4J_ISA_AVX512),
      igemm_configs(MEC4J_ISA_BEST), igemm_configs(MEC4J_ISA_NEON)};
  static_assert(MEC4J_ISA_NEON == 4, "by_isa is indexed by the ISA's value");
  const std::vector<const IgemmConfig*>& list = by_isa[std::clamp<int>(isa, 0, MEC4J_ISA_NEON)];
  const IgemmConfig* best = list.front();
  if (n <= 0) return best;
  auto padded = [n](const IgemmConfig* c) { return (n + c->nr - 1) / c->nr * c->nr; };
  for (const IgemmConfig* c : list)
    if (padded(c) < padded(best)) best = c;
  return best;
}

}  // namespace mec4j
