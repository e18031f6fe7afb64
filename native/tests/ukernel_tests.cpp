// The micro-kernel tester: every GEMM micro-kernel this host runs against a double-precision product,
// and every transpose kernel against the definition.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "configs/igemm_config.h"
#include "configs/transpose_config.h"
#include "isa.h"
#include "mec4j.h"
#include "mec4j_tests.h"
#include "test_support.h"

MEC4J_DECLARE_F32_IGEMM(f32_igemm_12x32_on_avx2)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_6x64_on_avx2)
MEC4J_DECLARE_F32_IGEMM(f32_igemm_16x16_on_avx2)

// Every micro-kernel this host runs (and AVX-512's tile built for AVX2) against a double-precision
// product: full and edge tiles (rows < MR, cols < NR), first (bias or zero) and accumulating calls,
// and K split into segments that start inside a row window. Exact on small integers.
void test_ukernels_match_double_product(uint64_t seed) {
  using namespace mec4j;
  struct Kernel {
    const char* name;
    int mr, nr;
    IgemmUkernelFn run;
    IgemmStridedUkernelFn run_strided;
    IgemmStridedUkernelFn run_strided_stream;
    const IgemmUkernelFn* tails;
    PackPanelFn pack;
    IgemmWtUkernelFn run_wt;
  };
  std::vector<Kernel> kernels;
  const mec4j_isa host = mec4j_get_host_isa();
  for (mec4j_isa isa : isa_levels())
    if (isa <= host) {
      for (const IgemmConfig* c : igemm_configs(isa))
        kernels.push_back({c->name, c->mr, c->nr, c->ukernel, c->ukernel_strided, c->ukernel_strided_stream,
                           c->ukernel_tails, c->pack, c->ukernel_wt});
    }
#if defined(MEC4J_HAVE_X86_KERNELS)
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-12x32 (avx512 tile on avx2)", 12, 32, f32_igemm_12x32_on_avx2_ukernel,
                       f32_igemm_12x32_on_avx2_ukernel_strided, f32_igemm_12x32_on_avx2_ukernel_strided_stream,
                       f32_igemm_12x32_on_avx2_ukernel_tails, f32_igemm_12x32_on_avx2_pack,
                       f32_igemm_12x32_on_avx2_ukernel_wt});
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-6x64 (avx512 tile on avx2)", 6, 64, f32_igemm_6x64_on_avx2_ukernel,
                       f32_igemm_6x64_on_avx2_ukernel_strided, f32_igemm_6x64_on_avx2_ukernel_strided_stream,
                       f32_igemm_6x64_on_avx2_ukernel_tails, f32_igemm_6x64_on_avx2_pack,
                       f32_igemm_6x64_on_avx2_ukernel_wt});
  if (host >= MEC4J_ISA_AVX2)
    kernels.push_back({"f32-igemm-16x16 (avx512 tile on avx2)", 16, 16, f32_igemm_16x16_on_avx2_ukernel,
                       f32_igemm_16x16_on_avx2_ukernel_strided, f32_igemm_16x16_on_avx2_ukernel_strided_stream,
                       f32_igemm_16x16_on_avx2_ukernel_tails, f32_igemm_16x16_on_avx2_pack,
                       f32_igemm_16x16_on_avx2_ukernel_wt});
#endif
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  for (const Kernel& kern : kernels) {
    // Every row count (each has its own tail kernel), and edge columns.
    std::vector<std::array<int, 2>> tiles = {{kern.mr, 1}, {kern.mr - 1, kern.nr - 3}, {2, 5}};
    for (int r = 1; r <= kern.mr; ++r) tiles.push_back({r, kern.nr});
    for (const auto& t : tiles)
      for (int variant = 0; variant < 6; ++variant) {
        const int rows = std::max(1, t[0]), cols = std::max(1, t[1]);
        // Variants 4 and 5: the last K block of a layer with a fused activation, clamped.
        const bool first = variant < 2 || variant >= 4, with_bias = variant % 4 == 0;
        const float clamp_bounds[2] = {-6.f, 9.f};
        const float* clamp = variant >= 4 ? clamp_bounds : nullptr;
        // Row windows of 7 floats, 3 per row: segments (2, 5), (7 + 0, 7), (14 + 1, 3): K = 15.
        const std::vector<Segment> seg = {{2, 5}, {7, 7}, {15, 3}};
        const int64_t k_total = 15, stride = 24, ldc = cols + 3;
        std::vector<float> a_buf((size_t)kern.mr * stride), b((size_t)k_total * cols), bias(kern.nr, 0.f),
            c((size_t)kern.mr * ldc), panel((size_t)k_total * kern.nr + 16);
        for (auto& x : a_buf) x = (float)small(rng);
        for (auto& x : b) x = (float)small(rng);
        for (int j = 0; j < cols; ++j) bias[j] = (float)small(rng);
        for (auto& x : c) x = (float)small(rng);
        std::vector<const float*> a(kern.mr);
        for (int i = 0; i < kern.mr; ++i) a[i] = a_buf.data() + (i < rows ? i : 0) * stride;
        std::vector<double> expect((size_t)rows * cols);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) {
            double acc = first ? (with_bias ? bias[j] : 0.0) : c[(size_t)i * ldc + j];
            int64_t kk = 0;
            for (const Segment& s : seg)
              for (int64_t q = 0; q < s.length; ++q, ++kk) acc += (double)a[i][s.offset + q] * b[kk * cols + j];
            expect[(size_t)i * cols + j] = clamp ? std::min(std::max((float)acc, clamp[0]), clamp[1]) : acc;
          }
        const std::vector<float> before = c;
        kern.pack(b.data(), cols, k_total, cols, panel.data());
        kern.run(a.data(), seg.data(), (int64_t)seg.size(), panel.data(), kern.nr, c.data(), ldc, rows, cols, first,
                 with_bias ? bias.data() : nullptr, clamp);
        int bad = 0;
        for (int i = 0; i < kern.mr; ++i)
          for (int j = 0; j < ldc; ++j) {
            const size_t at = (size_t)i * ldc + j;
            const bool inside = i < rows && j < cols;
            const double want = inside ? expect[(size_t)i * cols + j] : before[at];
            if (c[at] != (float)want && bad++ < 3)
              CHECK(false, "%s tile %dx%d first=%d bias=%d: c[%d][%d] = %g, expected %g", kern.name, rows, cols, first,
                    with_bias, i, j, c[at], want);
          }
        // A full tile's rows at a constant stride: the strided form gives the same bits.
        if (rows == kern.mr) {
          std::vector<float> cs = before;
          kern.run_strided(a_buf.data(), stride, seg.data(), (int64_t)seg.size(), panel.data(), kern.nr, cs.data(), ldc,
                           cols, first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (size_t at = 0; at < cs.size(); ++at)
            if (cs[at] != c[at] && bad++ < 3)
              CHECK(false, "%s strided tile %dx%d first=%d bias=%d: c[%zu] = %g, indirect form %g", kern.name, rows,
                    cols, first, with_bias, at, cs[at], c[at]);
        }
        // The same with non-temporal stores (a full, final tile into 64-byte aligned rows).
        if (rows == kern.mr && cols == kern.nr && first) {
          const int64_t lds = (ldc + 15) / 16 * 16;
          float* cn = static_cast<float*>(mec4j_workspace_alloc(kern.mr * lds * (int64_t)sizeof(float)));
          kern.run_strided_stream(a_buf.data(), stride, seg.data(), (int64_t)seg.size(), panel.data(), kern.nr, cn, lds,
                                  cols, first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (int i = 0; i < kern.mr; ++i)
            for (int j = 0; j < cols; ++j)
              if (cn[i * lds + j] != c[(size_t)i * ldc + j] && bad++ < 3)
                CHECK(false, "%s streamed tile first=%d bias=%d: c[%d][%d] = %g, strided form %g", kern.name, first,
                      with_bias, i, j, cn[i * lds + j], c[(size_t)i * ldc + j]);
          mec4j_workspace_free(cn);
        }
        // A full-width panel read in place from a wider B (row stride ldb > NR, as the GEMM reads an
        // unpacked kernel): the same bits as through the packed panel, by every form.
        if (cols == kern.nr) {
          const int64_t ldb = kern.nr + 5;
          std::vector<float> wide((size_t)k_total * ldb, 1e30f);  // a value read from outside the panel shows
          for (int64_t k = 0; k < k_total; ++k)
            std::copy(b.begin() + k * cols, b.begin() + (k + 1) * cols, wide.begin() + k * ldb);
          std::vector<float> cb = before;
          if (rows == kern.mr)
            kern.run_strided(a_buf.data(), stride, seg.data(), (int64_t)seg.size(), wide.data(), ldb, cb.data(), ldc,
                             cols, first, with_bias ? bias.data() : nullptr, clamp);
          else
            kern.tails[rows](a.data(), seg.data(), (int64_t)seg.size(), wide.data(), ldb, cb.data(), ldc, rows, cols,
                             first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (size_t at = 0; at < cb.size(); ++at)
            if (cb[at] != c[at] && bad++ < 3)
              CHECK(false, "%s tile %dx%d, B in place (ldb %lld) first=%d bias=%d: c[%zu] = %g, packed panel %g",
                    kern.name, rows, cols, (long long)ldb, first, with_bias, at, cb[at], c[at]);
        }
        // Fewer rows than the tile: the tail kernel of exactly that many rows gives the same bits.
        if (rows < kern.mr) {
          std::vector<float> ct = before;
          kern.tails[rows](a.data(), seg.data(), (int64_t)seg.size(), panel.data(), kern.nr, ct.data(), ldc, rows, cols,
                           first, with_bias ? bias.data() : nullptr, clamp);
          bad = 0;
          for (size_t at = 0; at < ct.size(); ++at)
            if (ct[at] != c[at] && bad++ < 3)
              CHECK(false, "%s %d-row tail kernel, %d cols first=%d bias=%d: c[%zu] = %g, full kernel %g", kern.name,
                    rows, cols, first, with_bias, at, ct[at], c[at]);
        }
        // The weight-gradient form: c(i, j) (+)= sum over k of w[k][col[i]] * b(k, j), with K = 15
        // rows of W, 24 floats each, and the tile's columns scattered (as across row windows).
        std::vector<float> w_buf((size_t)k_total * stride);
        for (auto& x : w_buf) x = (float)small(rng);
        std::vector<const float*> w(k_total);
        for (int64_t k = 0; k < k_total; ++k) w[k] = w_buf.data() + k * stride;
        std::vector<int64_t> col(kern.mr);
        for (int i = 0; i < kern.mr; ++i) col[i] = (i < rows ? (i * 7) % 23 : 0);
        std::vector<float> cw = before;
        kern.run_wt(w.data(), col.data(), k_total, panel.data(), cw.data(), ldc, rows, cols, first);
        bad = 0;
        for (int i = 0; i < kern.mr; ++i)
          for (int j = 0; j < ldc; ++j) {
            const size_t at = (size_t)i * ldc + j;
            double want = before[at];
            if (i < rows && j < cols) {
              want = first ? 0.0 : before[at];
              for (int64_t k = 0; k < k_total; ++k) want += (double)w[k][col[i]] * b[k * cols + j];
            }
            if (cw[at] != (float)want && bad++ < 3)
              CHECK(false, "%s weight-gradient tile %dx%d first=%d: c[%d][%d] = %g, expected %g", kern.name, rows, cols,
                    first, i, j, cw[at], want);
          }
      }
  }
}

// Every transpose kernel this host runs against the definition: whole blocks, edge rows and
// columns, leading dimensions beyond the matrix (whose elements must stay untouched).
void test_transpose_ukernels(uint64_t seed) {
  using namespace mec4j;
  std::mt19937_64 rng(seed);
  const mec4j_isa host = mec4j_get_host_isa();
  for (mec4j_isa isa : isa_levels()) {
    if (isa > host) continue;
    const TransposeConfig* t = transpose_config(isa);
    for (const auto& [rows, cols] :
         std::vector<std::array<int64_t, 2>>{{1, 1}, {3, 5}, {16, 16}, {17, 33}, {64, 3}, {5, 70}, {48, 48}, {31, 16}})
      for (int64_t pad : {0, 7}) {
        const int64_t lds = cols + pad, ldd = rows + pad;
        std::vector<float> src((size_t)(rows * lds)), dst((size_t)(cols * ldd), -1.f);
        for (auto& x : src) x = (float)(rng() % 1000);
        t->transpose(src.data(), rows, cols, lds, dst.data(), ldd);
        int bad = 0;
        for (int64_t j = 0; j < cols; ++j)
          for (int64_t i = 0; i < ldd; ++i) {
            const float want = i < rows ? src[(size_t)(i * lds + j)] : -1.f;
            if (dst[(size_t)(j * ldd + i)] != want && bad++ < 3)
              CHECK(false, "%s %lldx%lld (lds %lld, ldd %lld): dst[%lld][%lld] = %g, expected %g", t->name,
                    (long long)rows, (long long)cols, (long long)lds, (long long)ldd, (long long)j, (long long)i,
                    dst[(size_t)(j * ldd + i)], want);
          }
      }
  }
}
