// mec4j's GEMM over MEC's row lowering (see fused_gemm.h). A BLIS-style blocked GEMM whose A
// operand is never packed: a 6x16 AVX2/FMA micro-kernel broadcasts A straight from the lowered
// rows (each row window is contiguous), and B (the kernel) is packed 16 columns at a time into a
// small L1-resident panel on the stack.
#include "fused_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MEC4J_FUSED_X86 1
#endif

namespace mec4j {

namespace {

constexpr int kMr = 6;            // rows of the micro-tile (12 accumulators + 2 B + 1 A registers)
constexpr int kNr = 16;           // columns: two 8-float AVX registers
constexpr int64_t kKc = 256;      // K per block: a packed B panel is kKc*kNr*4 = 16 KiB (L1)
// Rows per block: the block's A rows (kMc x kKc floats, 288 KiB) stay in the 1 MiB L2 while
// every B panel passes over them. Measured on Zen 4 at 1 thread: cv5 b1 59 GFLOP/s with 96 rows,
// 70 with 288; at batch 32, 168 / 288 / 480 rows within 2% on cv5, cv6, cv12, 792 rows 10-25% worse.
constexpr int64_t kMc = 288;

// A stretch of K inside one row window: A(p, k0 + i) = row_base(p)[offset + i], i < length.
struct Segment {
  int64_t offset, length;
};

// One K block: segments[first, first + count) cover kernel rows k0 .. k0 + length - 1.
struct KBlock {
  int64_t k0, length, first, count;
};

#ifdef MEC4J_FUSED_X86

// c[rows x cols] (ldc) = (first ? bias or 0 : c) + A * B over the K block's segments. a[i] is
// the base of A's row i (rows beyond `rows` repeat a valid row; their results are dropped).
// b: the block's packed B panel, 16 floats per K step (zero-padded when cols < 16).
__attribute__((target("avx2,fma"))) void micro_kernel(const float* const* a, const Segment* seg,
                                                       int64_t nseg, const float* b, float* c,
                                                       int64_t ldc, int rows, int cols, bool first,
                                                       const float* bias16) {
  alignas(32) float tile[kMr * kNr];
  const bool full = rows == kMr && cols == kNr;
  // Twelve named accumulators, not an array: GCC keeps an array of __m256 on the stack and
  // stores it back on every iteration (measured: half the speed).
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (first) {
    const __m256 lo = bias16 ? _mm256_loadu_ps(bias16) : _mm256_setzero_ps();
    const __m256 hi = bias16 ? _mm256_loadu_ps(bias16 + 8) : _mm256_setzero_ps();
    c00 = c10 = c20 = c30 = c40 = c50 = lo;
    c01 = c11 = c21 = c31 = c41 = c51 = hi;
  } else {
    const float* src = c;
    int64_t lds = ldc;
    if (!full) {
      std::memset(tile, 0, sizeof tile);
      for (int i = 0; i < rows; ++i) std::memcpy(tile + i * kNr, c + i * ldc, cols * sizeof(float));
      src = tile;
      lds = kNr;
    }
    c00 = _mm256_loadu_ps(src + 0 * lds), c01 = _mm256_loadu_ps(src + 0 * lds + 8);
    c10 = _mm256_loadu_ps(src + 1 * lds), c11 = _mm256_loadu_ps(src + 1 * lds + 8);
    c20 = _mm256_loadu_ps(src + 2 * lds), c21 = _mm256_loadu_ps(src + 2 * lds + 8);
    c30 = _mm256_loadu_ps(src + 3 * lds), c31 = _mm256_loadu_ps(src + 3 * lds + 8);
    c40 = _mm256_loadu_ps(src + 4 * lds), c41 = _mm256_loadu_ps(src + 4 * lds + 8);
    c50 = _mm256_loadu_ps(src + 5 * lds), c51 = _mm256_loadu_ps(src + 5 * lds + 8);
  }
  for (int64_t s = 0; s < nseg; ++s) {
    const int64_t off = seg[s].offset, len = seg[s].length;
    const float *a0 = a[0] + off, *a1 = a[1] + off, *a2 = a[2] + off, *a3 = a[3] + off,
                *a4 = a[4] + off, *a5 = a[5] + off;
#pragma GCC unroll 4
    for (int64_t k = 0; k < len; ++k) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
      b += kNr;
      __m256 x = _mm256_broadcast_ss(a0 + k);
      c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
      x = _mm256_broadcast_ss(a1 + k);
      c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
      x = _mm256_broadcast_ss(a2 + k);
      c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
      x = _mm256_broadcast_ss(a3 + k);
      c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
      x = _mm256_broadcast_ss(a4 + k);
      c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
      x = _mm256_broadcast_ss(a5 + k);
      c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
    }
  }
  float* dst = full ? c : tile;
  const int64_t ldd = full ? ldc : kNr;
  _mm256_storeu_ps(dst + 0 * ldd, c00), _mm256_storeu_ps(dst + 0 * ldd + 8, c01);
  _mm256_storeu_ps(dst + 1 * ldd, c10), _mm256_storeu_ps(dst + 1 * ldd + 8, c11);
  _mm256_storeu_ps(dst + 2 * ldd, c20), _mm256_storeu_ps(dst + 2 * ldd + 8, c21);
  _mm256_storeu_ps(dst + 3 * ldd, c30), _mm256_storeu_ps(dst + 3 * ldd + 8, c31);
  _mm256_storeu_ps(dst + 4 * ldd, c40), _mm256_storeu_ps(dst + 4 * ldd + 8, c41);
  _mm256_storeu_ps(dst + 5 * ldd, c50), _mm256_storeu_ps(dst + 5 * ldd + 8, c51);
  if (!full)
    for (int i = 0; i < rows; ++i) std::memcpy(c + i * ldc, tile + i * kNr, cols * sizeof(float));
}

// panel[k][0..15] = b[k * ldb + 0..cols-1], zero-padded. Inline AVX copies: a memcpy call per
// 64-byte row cost as much as the micro-kernels using the panel (perf, cv12 at batch 1).
__attribute__((target("avx2,fma"))) void pack_panel(const float* b, int64_t ldb, int64_t rows, int cols,
                                                     float* panel) {
  if (cols == kNr) {
    for (int64_t k = 0; k < rows; ++k, b += ldb, panel += kNr) {
      _mm256_store_ps(panel, _mm256_loadu_ps(b));
      _mm256_store_ps(panel + 8, _mm256_loadu_ps(b + 8));
    }
    return;
  }
  for (int64_t k = 0; k < rows; ++k, b += ldb, panel += kNr) {
    std::memcpy(panel, b, cols * sizeof(float));
    std::memset(panel + cols, 0, (kNr - cols) * sizeof(float));
  }
}

// Splits K into blocks of at most kKc, each a list of row-window segments.
void plan_k_blocks(const RowWindowGemm& g, std::vector<KBlock>* blocks, std::vector<Segment>* segs) {
  const int64_t k_total = g.kernel_rows * g.piece;
  for (int64_t k0 = 0; k0 < k_total; k0 += kKc) {
    const int64_t k1 = std::min(k0 + kKc, k_total);
    KBlock blk{k0, k1 - k0, (int64_t)segs->size(), 0};
    for (int64_t k = k0; k < k1;) {
      const int64_t r = k / g.piece, j = k % g.piece;
      const int64_t len = std::min(g.piece - j, k1 - k);
      segs->push_back({g.row_offset[r] + j, len});
      ++blk.count;
      k += len;
    }
    blocks->push_back(blk);
  }
}

// Rows [m0, m1) x column panels [q0, q1) of the output, on the calling thread.
void compute_rect(const RowWindowGemm& g, const std::vector<KBlock>& blocks,
                  const std::vector<Segment>& segs, int64_t m0, int64_t m1, int64_t q0, int64_t q1) {
  alignas(64) float panel[kKc * kNr];
  alignas(32) float bias16[kNr];
  const float* rows[kMc];
  for (int64_t mb = m0; mb < m1; mb += kMc) {
    const int64_t me = std::min(mb + kMc, m1);
    for (int64_t p = mb; p < me; ++p)
      rows[p - mb] = g.lowered + (p / g.pixels) * g.image_stride + (p % g.pixels) * g.piece;
    for (size_t kb = 0; kb < blocks.size(); ++kb) {
      const KBlock& blk = blocks[kb];
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t col = q * kNr;
        const int cols = (int)std::min<int64_t>(kNr, g.n - col);
        pack_panel(g.kernel + blk.k0 * g.n + col, g.n, blk.length, cols, panel);
        const float* bias = nullptr;
        if (kb == 0 && g.bias) {
          std::memset(bias16, 0, sizeof bias16);
          std::memcpy(bias16, g.bias + col, cols * sizeof(float));
          bias = bias16;
        }
        for (int64_t p = mb; p < me; p += kMr) {
          const int n_rows = (int)std::min<int64_t>(kMr, me - p);
          const float* a[kMr];
          for (int i = 0; i < kMr; ++i) a[i] = rows[p - mb + (i < n_rows ? i : 0)];
          micro_kernel(a, segs.data() + blk.first, blk.count, panel, g.out + p * g.n + col, g.n,
                       n_rows, cols, kb == 0, bias);
        }
      }
    }
  }
}

#endif  // MEC4J_FUSED_X86

}  // namespace

bool fused_gemm_supported() {
#ifdef MEC4J_FUSED_X86
  // MEC4J_FUSED=0 turns it off: the automatic MEC then uses the BLAS variants only.
  static const bool ok = [] {
    const char* off = std::getenv("MEC4J_FUSED");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !(off && std::strcmp(off, "0") == 0);
  }();
  return ok;
#else
  return false;
#endif
}

void fused_gemm(const RowWindowGemm& g, int threads) {
#ifdef MEC4J_FUSED_X86
  std::vector<KBlock> blocks;
  std::vector<Segment> segs;
  plan_k_blocks(g, &blocks, &segs);
  const int64_t col_panels = (g.n + kNr - 1) / kNr;
  if (threads <= 1) {
    compute_rect(g, blocks, segs, 0, g.m, 0, col_panels);
    return;
  }
  // Work units: one row block x a group of column panels (groups only as fine as needed for ~4
  // units per thread: each group re-reads the block's A rows). They are handed out one at a time,
  // not split up front: a thread that shares its core with another runtime's spinning threads
  // (the BLAS's or OpenMP's, after their own calls) then simply takes fewer units. A static split
  // ran at 1-thread speed in that situation (measured: cv5 b1 48 GFLOP/s, 100 with the BLAS's
  // threads made to sleep at once).
  const int64_t row_blocks = (g.m + kMc - 1) / kMc;
  int64_t group = col_panels;
  while (group > 1 && row_blocks * ((col_panels + group - 1) / group) < 4 * threads) group = (group + 1) / 2;
  const int64_t groups = (col_panels + group - 1) / group;
  const int64_t units = row_blocks * groups;
  const int workers = (int)std::min<int64_t>(threads, units);
  std::atomic<int64_t> next{0};
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const int64_t rb = u / groups, q0 = u % groups * group;
      compute_rect(g, blocks, segs, rb * kMc, std::min((rb + 1) * kMc, g.m), q0,
                   std::min(q0 + group, col_panels));
    }
  });
#else
  (void)g;
  (void)threads;
#endif
}

}  // namespace mec4j
