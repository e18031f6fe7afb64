// mec4j's indirect GEMM (see igemm.h). A BLIS-style blocked GEMM whose A operand is never packed:
// the micro-kernel (per ISA, igemm_config.h) broadcasts A straight from the row windows (each is
// contiguous), and B (the kernel) is packed nr columns at a time into a small L1-resident panel.
#include "igemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "isa.h"
#include "parallel.h"

namespace mec4j {

namespace {

// The row-window segments of K block [k0, k0 + length) into segs (at most length of them: length
// <= kc <= kMaxKc); returns their number.
int64_t block_segments(const RowWindowGemm& g, int64_t k0, int64_t length, Segment* segs) {
  int64_t count = 0;
  for (int64_t k = k0, k1 = k0 + length; k < k1; ++count) {
    const int64_t r = k / g.piece, j = k % g.piece;
    const int64_t len = std::min(g.piece - j, k1 - k);
    segs[count] = {g.row_offset(g.row_context, r) + j, len};
    k += len;
  }
  return count;
}

// At most this many floats of panels take the short-K loop order of compute_rect (16 KiB, which
// the panel buffer there holds). It takes tiles at least kMinNr wide, which bounds the panels'
// number.
constexpr int64_t kSmallBlockFloats = 4096;
constexpr int kMinNr = 8;
static_assert(kSmallBlockFloats <= kMaxPanelFloats, "the panel buffer holds a short K block's panels");

int64_t panels(const IgemmConfig& cfg, int64_t n) { return (n + cfg.nr - 1) / cfg.nr; }

// The K block of a GEMM of depth k: its K in the fewest blocks of at most kc, of equal depth (a
// short last block, as 576 = 256 + 256 + 64, cost VGG's 112x112 layer 2% against 3 x 192).
int64_t k_block(const IgemmConfig& cfg, int64_t k) {
  const int64_t blocks = (k + cfg.kc - 1) / cfg.kc;
  return blocks > 1 ? (k + blocks - 1) / blocks : cfg.kc;
}

// Panel q of the K block starting at k0 (length floats of K) in a packed kernel.
const float* packed_panel(const IgemmConfig& cfg, const float* packed, int64_t n, int64_t k0, int64_t length,
                          int64_t q) {
  return packed + k0 * panels(cfg, n) * cfg.nr + q * length * cfg.nr;
}

// Whether the n >= 2 rows lie at one stride from each other (the pixels of one image in MEC's row
// lowering, or in NHWC, do: a y step is o_w x steps), so that the strided micro-kernel applies.
bool equally_spaced(const float* const* rows, int n) {
  const std::ptrdiff_t step = rows[1] - rows[0];
  for (int i = 2; i < n; ++i)
    if (rows[i] - rows[i - 1] != step) return false;
  return true;
}

// rows[p - p0] = the start of A's row p for p in [p0, p1): one division for the first row, then
// steps along x, y and images (two 64-bit divisions a row cost as much as a short-K tile's FMAs).
void row_bases(const RowWindowGemm& g, int64_t p0, int64_t p1, const float** rows) {
  int64_t image = p0 / g.pixels, q = p0 % g.pixels, y = q / g.width, x = q % g.width;
  for (int64_t p = p0; p < p1; ++p) {
    rows[p - p0] = g.origin + image * g.image_stride + y * g.y_stride + x * g.x_stride;
    if (++q == g.pixels) {  // the next image
      q = y = x = 0;
      ++image;
    } else if (++x == g.width) {
      x = 0;
      ++y;
    }
  }
}

// Floats of all of a K block's panels below which each row tile meets every panel in turn (see
// compute_rect): a quarter of L1, beside the tile's A rows and C.
int64_t small_block_floats() {
  static const int64_t floats = std::min<int64_t>(kSmallBlockFloats, l1_data_cache_bytes() / 4 / sizeof(float));
  return floats;
}

// The K blocks [first, last] that a row tile over pixels [p, p_end) computes: those holding the
// kernel rows some of its pixels read inside the image (RowWindowGemm::padding), or all.
struct TileBlocks {
  int64_t first, last;
};

TileBlocks tile_blocks(const RowWindowGemm& g, int64_t kc, int64_t p, int64_t p_end) {
  const int64_t k_total = g.kernel_rows * g.piece;
  const TileBlocks all{0, (k_total - 1) / kc};
  const RowWindowGemm::PaddingRows& pad = g.padding;
  if (pad.k_per_kernel_row == 0 || p / g.pixels != (p_end - 1) / g.pixels) return all;
  int64_t r_first, r_end;
  pad.rows_inside(p % g.pixels / g.width, (p_end - 1) % g.pixels / g.width, &r_first, &r_end);
  if (r_first >= r_end) return all;  // not reached: every output row reads some image row
  return {r_first * pad.k_per_kernel_row / kc, (r_end * pad.k_per_kernel_row - 1) / kc};
}

// B's K block x NR columns as the micro-kernel reads it: row k at floats + k * ld.
struct Panel {
  const float* floats;
  int64_t ld;
};

// Row blocks of at most this many row tiles read full panels of B in place instead of packing
// them: packing a panel costs about a third of one tile's FMAs, while a panel read in place, at
// the kernel's row stride, partly misses L1 at each tile (its rows alias to few cache sets).
// Measured both ways on cv1-cv12 (1 thread, mb1 and mb32): in place was 3-7% faster up to ~24
// tiles (cv6, cv11, cv12 at mb1), even at ~110 (cv10), and up to 3.5% slower at 170 (mb32).
constexpr int64_t kInPlaceRowTiles = 32;

// Rows [m0, m1) x column panels [q0, q1) of the output, on the calling thread.
void compute_rect(const IgemmConfig& cfg, const RowWindowGemm& g, int64_t m0, int64_t m1, int64_t q0, int64_t q1) {
  alignas(64) float panel[kMaxPanelFloats];
  alignas(64) float bias_panel[kMaxNr];
  Segment segs[kMaxKc];
  const int64_t k_total = g.kernel_rows * g.piece, kc = k_block(cfg, k_total);
  const float* rows[kMaxMc];
  const float* a[kMaxNr];  // mr <= nr <= kMaxNr
  const int mr = cfg.mr, nr = cfg.nr;
  // Non-temporal stores: each value is final after the only K block, and every row of C is
  // aligned to 64 bytes (out and ldc; panels start at multiples of nr >= 16 floats on AVX-512).
  const bool stream =
      g.stream && k_total <= kc && reinterpret_cast<uintptr_t>(g.out) % 64 == 0 && g.ldc % 16 == 0 && nr % 16 == 0;
  // One row tile times one panel: rows [p, p + mr) (fewer at the end of the block), columns of
  // panel q.
  // tile_rows: the row pointers of rows [p, ...).
  auto tile = [&](int64_t p, int64_t me, const float* const* tile_rows, int64_t q, const Panel& b, int64_t count,
                  bool first, const float* clamp) {
    const int64_t col = q * nr;
    const int cols = (int)std::min<int64_t>(nr, g.n - col);
    const float* bias = first && g.bias ? g.bias + col : nullptr;
    if (bias && cols < nr) {  // the kernel reads nr floats of bias: a partial panel's, zero-padded
      std::memset(bias_panel, 0, sizeof bias_panel);
      std::memcpy(bias_panel, bias, cols * sizeof(float));
      bias = bias_panel;
    }
    const int n_rows = (int)std::min<int64_t>(mr, me - p);
    float* c = g.out + p * g.ldc + col;
    if (n_rows == mr && equally_spaced(tile_rows, mr)) {
      const IgemmStridedUkernelFn kernel = stream && cols == nr ? cfg.ukernel_strided_stream : cfg.ukernel_strided;
      kernel(tile_rows[0], tile_rows[1] - tile_rows[0], segs, count, b.floats, b.ld, c, g.ldc, cols, first, bias,
             clamp);
      return;
    }
    for (int i = 0; i < n_rows; ++i) a[i] = tile_rows[i];
    const IgemmUkernelFn kernel = n_rows == mr ? cfg.ukernel : cfg.ukernel_tails[n_rows];
    kernel(a, segs, count, b.floats, b.ld, c, g.ldc, n_rows, cols, first, bias, clamp);
  };
  // Too few row tiles meet each panel to repay packing it: full panels are read in place.
  const bool b_in_place = !g.packed && std::min(m1 - m0, cfg.mc) <= kInPlaceRowTiles * mr;
  auto pack_panel = [&](int64_t k0, int64_t length, int64_t q, float* into) -> Panel {
    if (g.packed) return {packed_panel(cfg, g.packed, g.n, k0, length, q), nr};
    const float* b = g.kernel + k0 * g.n + q * nr;
    const int cols = (int)std::min<int64_t>(nr, g.n - q * nr);
    if (b_in_place && cols == nr) return {b, g.n};
    cfg.pack(b, g.n, length, cols, into);
    return {into, nr};
  };
  // Tile p of row block [mb, me) on K block `block`: whether it computes it, and with which of
  // C's initialisation (its first block) and the activation (its last, on final values only).
  struct TileStep {
    bool runs, first;
    const float* clamp;
  };
  const int64_t last_block = (k_total - 1) / kc;
  auto tile_step = [&](int64_t p, int64_t me, int64_t block) -> TileStep {
    // Every tile every block, without a division per tile (short K's tiles are short): nothing is
    // skipped, or there is one block, which every tile's pixels need.
    if (g.padding.k_per_kernel_row == 0 || last_block == 0)
      return {true, block == 0, block == last_block ? g.clamp : nullptr};
    const TileBlocks t = tile_blocks(g, kc, p, std::min(p + mr, me));
    return {t.first <= block && block <= t.last, block == t.first, block == t.last ? g.clamp : nullptr};
  };
  for (int64_t mb = m0; mb < m1; mb += cfg.mc) {
    const int64_t me = std::min(mb + cfg.mc, m1);
    row_bases(g, mb, me, rows);
    for (int64_t k0 = 0; k0 < k_total; k0 += kc) {
      const int64_t length = std::min(kc, k_total - k0);
      const int64_t count = block_segments(g, k0, length, segs);
      const int64_t block = k0 / kc;
      if (nr >= kMinNr && q1 - q0 > 1 && length * nr * (q1 - q0) <= small_block_floats()) {
        // A short K block: with so few FMAs per tile, writing C bounds the kernel. Every panel is
        // packed first, and each row tile then meets all of them, writing its pixels' channels
        // at once (the usual order writes one panel's slice of every row, then comes back).
        Panel b[kSmallBlockFloats / kMinNr];
        for (int64_t q = q0; q < q1; ++q) b[q - q0] = pack_panel(k0, length, q, panel + (q - q0) * length * nr);
        for (int64_t p = mb; p < me; p += mr) {
          const TileStep t = tile_step(p, me, block);
          if (!t.runs) continue;
          for (int64_t q = q0; q < q1; ++q) tile(p, me, rows + (p - mb), q, b[q - q0], count, t.first, t.clamp);
        }
        continue;
      }
      for (int64_t q = q0; q < q1; ++q) {
        const Panel b = pack_panel(k0, length, q, panel);
        for (int64_t p = mb; p < me; p += mr) {
          const TileStep t = tile_step(p, me, block);
          if (t.runs) tile(p, me, rows + (p - mb), q, b, count, t.first, t.clamp);
        }
      }
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  // Non-temporal stores are weakly ordered: make them visible before the caller (or the thread
  // that joins this one) reads the output.
  if (stream) __builtin_ia32_sfence();
#endif
}

}  // namespace

void pack_igemm_kernel(const IgemmConfig& cfg, const float* kernel, int64_t k, int64_t n, float* packed) {
  const int64_t kc = k_block(cfg, k);
  for (int64_t k0 = 0; k0 < k; k0 += kc) {
    const int64_t length = std::min(kc, k - k0);
    for (int64_t q = 0; q < panels(cfg, n); ++q) {
      const int cols = (int)std::min<int64_t>(cfg.nr, n - q * cfg.nr);
      cfg.pack(kernel + k0 * n + q * cfg.nr, n, length, cols,
               const_cast<float*>(packed_panel(cfg, packed, n, k0, length, q)));
    }
  }
}

int64_t packed_group_floats(const IgemmConfig& cfg, int64_t k, int64_t n) { return k * panels(cfg, n) * cfg.nr; }

constexpr int64_t kUnitsPerThread = 4;

void igemm(const IgemmConfig& cfg, const RowWindowGemm& g, int threads) {
  const int64_t col_panels = (g.n + cfg.nr - 1) / cfg.nr;
  if (threads <= 1) {
    compute_rect(cfg, g, 0, g.m, 0, col_panels);
    return;
  }
  // Work units: a block of rows (at most mc) x a group of column panels, kUnitsPerThread per
  // thread where the layer has that many: groups only as fine as needed (each re-reads its
  // block's A rows). Where even one panel per unit makes fewer, the rows are cut into the fewest
  // blocks of equal size that give every thread as many units (ResNet's 56x56 64 -> 64 at
  // mini-batch 1 ran as 3 blocks of one panel: one of 2 threads took 2, the other 1); more would
  // only pack the panels again per block. The units are handed out one at a time, not split up
  // front: a thread that shares its core with another runtime's spinning threads (the BLAS's or
  // OpenMP's, after their own calls) then simply takes fewer units.
  const int64_t row_tiles = (g.m + cfg.mr - 1) / cfg.mr, wanted_units = kUnitsPerThread * threads;
  int64_t block_rows = cfg.mc;
  if ((g.m + cfg.mc - 1) / cfg.mc * col_panels < wanted_units) {
    int64_t blocks = (g.m + cfg.mc - 1) / cfg.mc;
    while (blocks * col_panels % threads != 0 && blocks < row_tiles) ++blocks;
    block_rows = (row_tiles + blocks - 1) / blocks * cfg.mr;
  }
  const int64_t row_blocks = (g.m + block_rows - 1) / block_rows;
  int64_t group = col_panels;
  while (group > 1 && row_blocks * ((col_panels + group - 1) / group) < wanted_units) group = (group + 1) / 2;
  const int64_t groups = (col_panels + group - 1) / group;
  const int64_t units = row_blocks * groups;
  const int workers = (int)std::min<int64_t>(threads, units);
  std::atomic<int64_t> next{0};
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const int64_t rb = u / groups, q0 = u % groups * group;
      compute_rect(cfg, g, rb * block_rows, std::min((rb + 1) * block_rows, g.m), q0, std::min(q0 + group, col_panels));
    }
  });
}

// --- W^T * B: weight gradients -------------------------------------------------------------

namespace {
int64_t padded_n(const IgemmConfig& cfg, int64_t n) { return panels(cfg, n) * cfg.nr; }
// Per thread: the packed block of W^T (mc x kc, tiles rounded up) and the K block's B panels; and
// two arrays of kc row pointers (W's rows, the packed tiles' rows).
int64_t floats_per_thread(const IgemmConfig& cfg, int64_t n) {
  return (cfg.mc + cfg.mr) * cfg.kc + cfg.kc * padded_n(cfg, n);
}
}  // namespace

namespace {
// A GEMM with fewer row blocks x panels than this (a layer of few channels: ResNet's 3x3 64 -> 64
// is 576 x 64, one unit) would leave threads idle: its K (the pixels) is cut into chunks, each
// summed on its own and the sums added in chunk order after. The count depends on the GEMM's
// shape only, never on the threads, so that any thread count gives the same bits.
constexpr int64_t kMinWtUnits = 8;
int64_t k_chunks(const IgemmConfig& cfg, int64_t m, int64_t n) {
  const int64_t units = (m + cfg.mc - 1) / cfg.mc * panels(cfg, n);
  return std::max<int64_t>(1, kMinWtUnits / units);
}
}  // namespace

IgemmWtScratch igemm_transposed_scratch(const IgemmConfig& cfg, int64_t m, int64_t n, int threads) {
  const int64_t t = std::max(threads, 1);
  return IgemmWtScratch{std::vector<float>(floats_per_thread(cfg, n) * t), std::vector<const float*>(2 * cfg.kc * t),
                        std::vector<float>((k_chunks(cfg, m, n) - 1) * m * n)};
}

// Loop order as BLIS's: per unit (a block of mc columns of W x a group of N panels) and K block,
// each B panel is packed once and (kc x nr, in L1) meets every MR-tile of the block (in L2). The
// tiles read W in place (each K step one pixel's row windows), or, when a unit has many panels,
// from a copy gathered once per K block into MR-wide k-major tiles (as BLIS packs A): the gather
// costs about one pass of the kernel over the block and saves the scattered reads of every other
// pass, which no prefetcher follows when the windows lie far apart (wide layers).
constexpr int64_t kPanelsToPack = 8;

void igemm_transposed(const IgemmConfig& cfg, const WindowGemmT& g, IgemmWtScratch& scratch, int threads) {
  const int mr = cfg.mr, nr = cfg.nr;
  const int64_t col_panels = panels(cfg, g.n);
  const int64_t row_blocks = (g.m + cfg.mc - 1) / cfg.mc;
  // Column groups as wide as two units per thread allow: each unit packs its block of W^T once
  // for all of its panels.
  int64_t group = col_panels;
  while (group > 1 && row_blocks * ((col_panels + group - 1) / group) < 2 * threads) group = (group + 1) / 2;
  const int64_t groups = (col_panels + group - 1) / group;
  // Chunk 0 sums into out; chunk c > 0 into partials + (c - 1) * m * n (row stride n).
  const int64_t chunks = std::min(k_chunks(cfg, g.m, g.n), std::max<int64_t>(g.k, 1));
  const int64_t units = row_blocks * groups * chunks;
  const int workers = (int)std::min<int64_t>(std::max(threads, 1), units);
  const bool pack_w = group >= kPanelsToPack;
  // Column j of W (j < m): run u's offset plus the position inside it.
  auto column = [&](int64_t j) {
    for (int64_t u = 0; u < g.nruns; ++u) {
      if (j < g.runs[u].length) return g.runs[u].offset + j;
      j -= g.runs[u].length;
    }
    return (int64_t)0;  // not reached: j < m
  };
  std::atomic<int64_t> next{0}, slot{0};
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    const int64_t me = slot.fetch_add(1);
    float* a_pack = scratch.floats.data() + me * floats_per_thread(cfg, g.n);
    float* b_pack = a_pack + (cfg.mc + cfg.mr) * cfg.kc;
    const float** w = scratch.rows.data() + me * 2 * cfg.kc;
    const float** packed_rows = w + cfg.kc;
    int64_t col[kMaxNr];
    for (int64_t v; (v = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const int64_t chunk = v / (row_blocks * groups), u = v % (row_blocks * groups);
      const int64_t m0 = u / groups * cfg.mc, m1 = std::min(m0 + cfg.mc, g.m);
      const int64_t q0 = u % groups * group, q1 = std::min(q0 + group, col_panels);
      const int64_t k_begin = g.k * chunk / chunks, k_end = g.k * (chunk + 1) / chunks;
      float* out = chunk == 0 ? g.out : scratch.partials.data() + (chunk - 1) * g.m * g.n;
      const int64_t ldc = chunk == 0 ? g.ldc : g.n;
      const bool accumulate = chunk == 0 && g.accumulate;
      for (int64_t k0 = k_begin; k0 < k_end; k0 += cfg.kc) {
        const int64_t kb = std::min(cfg.kc, k_end - k0);
        const bool first = k0 == k_begin && !accumulate;
        for (int64_t p = k0; p < k0 + kb; ++p)
          w[p - k0] = g.origin + p / g.width * g.y_stride + p % g.width * g.x_stride;
        // The tiles read W's rows in place (w), or the block gathered into tiles (packed_rows): tile t
        // holds columns m0 + t*mr .. of W^T as a_pack[t][k][0..mr).
        if (pack_w) {
          for (int64_t i0 = m0; i0 < m1; i0 += mr) {
            const int rows = (int)std::min<int64_t>(mr, m1 - i0);
            for (int i = 0; i < mr; ++i) col[i] = column(i0 + (i < rows ? i : 0));
            float* tile = a_pack + (i0 - m0) * kb;
            for (int64_t k = 0; k < kb; ++k)
              for (int i = 0; i < mr; ++i) tile[k * mr + i] = w[k][col[i]];
          }
          for (int64_t k = 0; k < kb; ++k) packed_rows[k] = a_pack + k * mr;
        }
        const float* const* a_rows = pack_w ? packed_rows : w;
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t c0 = q * nr;
          const int cols = (int)std::min<int64_t>(nr, g.n - c0);
          float* panel = b_pack + (q - q0) * kb * nr;
          cfg.pack(g.b + k0 * g.ldb + c0, g.ldb, kb, cols, panel);
          for (int64_t i0 = m0; i0 < m1; i0 += mr) {
            const int rows = (int)std::min<int64_t>(mr, m1 - i0);
            for (int i = 0; i < mr; ++i)
              col[i] = pack_w ? (i0 - m0) * kb + i : column(i0 + (i < rows ? i : 0));  // a_rows[k] + these
            cfg.ukernel_wt(a_rows, col, kb, panel, out + i0 * ldc + c0, ldc, rows, cols, first);
          }
        }
      }
    }
  });
  // The chunks' sums, in chunk order.
  for (int64_t c = 1; c < chunks; ++c) {
    const float* part = scratch.partials.data() + (c - 1) * g.m * g.n;
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) g.out[i * g.ldc + j] += part[i * g.n + j];
  }
}

}  // namespace mec4j
