// The implementation list, the automatic MEC's choice among its variants (heuristic or measured)
// and the C API calls that plan and run a convolution.
#include "impl_list.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "depthwise.h"
#include "igemm.h"
#include "isa.h"
#include "parallel.h"

namespace mec4j {

namespace {

bool fits_blas_int(int64_t v) { return v <= INT_MAX; }

// Every GEMM dimension and leading dimension passed to cblas must fit in an int.
mec4j_status blas_fit(bool fits) { return fits ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }

int64_t mec_lda(const Shape& s) { return s.ihp * s.kw * s.ic; }  // <= |L|, cannot overflow

int64_t whole_lowering_elems(const Plan& p, MecSolution solution) {
  switch (mec_lowering(p.s, solution)) {
    case Lowering::InPlace:
    case Lowering::Direct:
      return 0;
    case Lowering::Subsample:
      return p.s.n * p.s.oh * p.s.ow * p.s.ic;  // <= |L|: cannot overflow
    case Lowering::Mec:
      break;
  }
  return p.s.mec_tile_elems();
}

int64_t lowered_elems(const Plan& p, MecSolution solution) {
  // MEC_FUSED's default workspace is sized from the cache; the BLAS variants need their whole
  // lowering (or a tile of it under a limit).
  if (solution == MecSolution::Fused && p.s.cache_sized) return fused_tiles(p.s).ws_elems;
  return whole_lowering_elems(p, solution);
}

template <MecSolution S>
int64_t mec_workspace(const Plan& p) {
  if (S == MecSolution::Fused && p.s.nchw) return 0;  // nchw_forward gathers panels on the stack
  return lowered_elems(p, S);
}

template <MecSolution S>
void mec_run(const Plan& p, const ConvBuffers& b) {
  if (S == MecSolution::Fused && p.s.nchw) return nchw_forward(p.s, p.isa, b.in, b.kernel, b.bias, b.out, p.threads);
  mec_tiled(p.s, S, p.igemm, b.in, b.kernel, b.bias, b.out, b.ws);
}

// NCHW runs forward on REFERENCE, MEC and MEC_FUSED, in the default workspace (mec4j.h).
mec4j_status nchw_check(const Shape& s, mec4j_algorithm a, mec4j_direction d) {
  if (!s.nchw) return MEC4J_OK;
  const bool runs = d == MEC4J_DIRECTION_FORWARD &&
                    (a == MEC4J_ALGORITHM_REFERENCE || a == MEC4J_ALGORITHM_MEC || a == MEC4J_ALGORITHM_MEC_FUSED);
  return runs && (s.cache_sized || a == MEC4J_ALGORITHM_REFERENCE) ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED;
}

mec4j_status always(const Plan&) { return MEC4J_OK; }
// MEC_ROWS's BLAS GEMMs read each kernel row's k_w*i_c floats as one block: no groups.
mec4j_status ungrouped(const Plan& p) { return p.s.g == 1 ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
// Solutions A and B read one contiguous window of k_h*k_w*i_c floats per output row: no groups,
// no dilation across rows.
mec4j_status one_window(const Plan& p) { return p.s.g == 1 && p.s.dh == 1 ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
const ConvImpl* mec_heuristic(const Plan& p);
int64_t no_workspace(const Plan&) { return 0; }

// MEC's workspace: every variant fits in it (the lowered tile, or nothing where the input is
// read in place); none for depthwise layers, which run DEPTHWISE.
// By default, also the BLAS variants' whole lowering where it is within the cache-sized bound (small
// padded layers, where the heuristic or the measurement may pick them).
int64_t mec_auto_workspace(const Plan& p) {
  if (p.s.nchw) return mec_workspace<MecSolution::Fused>(p);
  if (p.s.depthwise()) return 0;
  const int64_t fused = mec_workspace<MecSolution::Fused>(p);
  if (!p.s.cache_sized || mec_lowering(p.s, MecSolution::Fused) != Lowering::Mec) return fused;
  const int64_t lowering = whole_lowering_elems(p, MecSolution::B);
  return lowering <= cache_sized_bound_elems() ? std::max(fused, lowering) : fused;
}

// --- Backward passes -------------------------------------------------------------------------

mec4j_status depthwise_only(const Plan& p) { return p.s.depthwise() ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
int64_t kernel_sized(const Plan& p) { return p.s.kernel_elems; }
void depthwise_bwd_data(const Plan& p, const BackwardBuffers& b) {
  depthwise_backward_data(p.s, b.grad_out, b.kernel, b.grad_in, b.ws);
}
void depthwise_bwd_weights(const Plan& p, const BackwardBuffers& b) {
  depthwise_backward_weights(p.s, b.in, b.grad_out, b.grad_kernel, b.grad_bias, b.ws);
}

// MEC's backward passes work on one image (or band) of the row lowering at a time; a limit that
// tiles single output columns leaves no band to work on.
mec4j_status mec_backward_check(const Plan& p) { return p.s.column_tiled() ? MEC4J_ERROR_WORKSPACE_LIMIT : MEC4J_OK; }
mec4j_status mec_rows_backward_check(const Plan& p) {
  const Shape& s = p.s;
  if (mec_backward_check(p) != MEC4J_OK) return mec_backward_check(p);
  return blas_fit(fits_blas_int(s.n * s.oh * s.ow) && fits_blas_int(s.kw * s.ic) && fits_blas_int(s.kc));
}
int64_t mec_backward_workspace(const Plan& p) { return mec_backward_elems(p.s); }
void mec_rows_bwd_data(const Plan& p, const BackwardBuffers& b) {
  mec_backward_data(p.s, b.grad_out, b.kernel, b.grad_in, b.ws);
}
void mec_rows_bwd_weights(const Plan& p, const BackwardBuffers& b) {
  mec_backward_weights(p.s, nullptr, b.in, b.grad_out, b.grad_kernel, b.grad_bias, b.ws);
}
void mec_fused_bwd_weights(const Plan& p, const BackwardBuffers& b) {
  mec_backward_weights(p.s, p.igemm, b.in, b.grad_out, b.grad_kernel, b.grad_bias, b.ws);
}
void mec_auto_backward_weights(const Plan& p, const BackwardBuffers& b);
mec4j_status mec_fused_bwd_data_check(const Plan& p) {
  return backward_data_as_forward(p.s) ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED;
}
int64_t mec_fused_bwd_data_workspace(const Plan& p) { return fused_backward_data_elems(p.s); }
void mec_fused_bwd_data(const Plan& p, const BackwardBuffers& b) {
  fused_backward_data(p.s, p.isa, b.grad_out, b.kernel, b.grad_in, b.ws);
}

// The automatic MEC's backward data: DEPTHWISE for depthwise layers; at stride 1 MEC_FUSED's (a
// forward convolution on the micro-kernels) where it pays (fused_backward_data_pays), except for
// unpadded 1x1 layers (one GEMM on dO in place); else MEC_ROWS's.
const ConvImpl* mec_backward_data_impl(const Plan& p) {
  if (p.s.depthwise()) return find_impl(MEC4J_ALGORITHM_DEPTHWISE);
  if (mec_fused_bwd_data_check(p) == MEC4J_OK && fused_backward_data_pays(p.s, p.isa) &&
      mec_lowering(p.s, MecSolution::Rows) == Lowering::Mec)
    return find_impl(MEC4J_ALGORITHM_MEC_FUSED);
  return find_impl(MEC4J_ALGORITHM_MEC_ROWS);
}

mec4j_status im2col_check(const Plan& p) {
  return blas_fit(fits_blas_int(p.s.n * p.s.oh * p.s.ow) && fits_blas_int(p.s.patch) && fits_blas_int(p.s.kc));
}
int64_t im2col_elems(const Plan& p) { return p.s.im2col_elems; }

const ConvImpl kImpls[] = {
    {MEC4J_ALGORITHM_DEPTHWISE,
     "depthwise",
     true,
     [](const Plan& p) { return p.s.depthwise() ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; },
     no_workspace,
     [](const Plan& p, const ConvBuffers& b) {
       depthwise_forward(p.s, p.isa, b.in, b.kernel, b.bias, b.out, p.threads);
     },
     {depthwise_only, kernel_sized, depthwise_bwd_data},
     {depthwise_only, kernel_sized, depthwise_bwd_weights}},
    {MEC4J_ALGORITHM_MEC_FUSED,
     "mec-fused",
     true,
     always,
     mec_workspace<MecSolution::Fused>,
     mec_run<MecSolution::Fused>,
     {mec_fused_bwd_data_check, mec_fused_bwd_data_workspace, mec_fused_bwd_data},
     {mec_backward_check, mec_backward_workspace, mec_fused_bwd_weights}},
    {MEC4J_ALGORITHM_MEC_ROWS,
     "mec-rows",
     true,
     [](const Plan& p) {
       if (ungrouped(p) != MEC4J_OK) return ungrouped(p);
       return blas_fit(fits_blas_int(p.s.n * p.s.oh * p.s.ow) && fits_blas_int(p.s.kw * p.s.ic) &&
                       fits_blas_int(p.s.kc));
     },
     mec_workspace<MecSolution::Rows>,
     mec_run<MecSolution::Rows>,
     {mec_rows_backward_check, mec_backward_workspace, mec_rows_bwd_data},
     {mec_rows_backward_check, mec_backward_workspace, mec_rows_bwd_weights}},
    {MEC4J_ALGORITHM_MEC_B,
     "mec-b",
     true,
     [](const Plan& p) {
       if (one_window(p) != MEC4J_OK) return one_window(p);
       return blas_fit(fits_blas_int(p.s.ow) && fits_blas_int(p.s.patch) && fits_blas_int(p.s.kc) &&
                       fits_blas_int(mec_lda(p.s)));
     },
     mec_workspace<MecSolution::B>,
     mec_run<MecSolution::B>,
     {},
     {}},
    {MEC4J_ALGORITHM_MEC_A,
     "mec-a",
     true,
     [](const Plan& p) {
       const Shape& s = p.s;
       if (one_window(p) != MEC4J_OK) return one_window(p);
       // Solution A permutes O through L's buffer; single-image tiles gain nothing from it.
       if (s.output_elems > s.mec_lowered_elems || s.column_tiled() || s.banded) return MEC4J_ERROR_UNSUPPORTED;
       return blas_fit(fits_blas_int(s.n * s.ow) && fits_blas_int(s.patch) && fits_blas_int(s.kc) &&
                       fits_blas_int(mec_lda(s)));
     },
     mec_workspace<MecSolution::A>,
     mec_run<MecSolution::A>,
     {},
     {}},
    {MEC4J_ALGORITHM_MEC,
     "mec",
     false,
     [](const Plan& p) { return mec_heuristic(p)->check(p); },
     mec_auto_workspace,
     mec_auto_run,
     {[](const Plan& p) { return mec_backward_data_impl(p)->backward_data.check(p); },
      [](const Plan& p) { return mec_backward_data_impl(p)->backward_data.workspace_elems(p); },
      [](const Plan& p, const BackwardBuffers& b) { mec_backward_data_impl(p)->backward_data.run(p, b); }},
     // Every candidate of the weights pass takes the same workspace: one image's lowering.
     {[](const Plan& p) {
        return p.s.depthwise() ? depthwise_only(p) : find_impl(MEC4J_ALGORITHM_MEC_FUSED)->backward_weights.check(p);
      },
      [](const Plan& p) { return p.s.depthwise() ? kernel_sized(p) : mec_backward_workspace(p); },
      mec_auto_backward_weights}},
    {MEC4J_ALGORITHM_IM2COL,
     "im2col",
     false,
     im2col_check,
     im2col_elems,
     [](const Plan& p, const ConvBuffers& b) { im2col_forward(p.s, b.in, b.kernel, b.bias, b.out, b.ws); },
     {im2col_check, im2col_elems,
      [](const Plan& p, const BackwardBuffers& b) {
        im2col_backward_data(p.s, b.grad_out, b.kernel, b.grad_in, b.ws);
      }},
     {im2col_check, im2col_elems,
      [](const Plan& p, const BackwardBuffers& b) {
        im2col_backward_weights(p.s, b.in, b.grad_out, b.grad_kernel, b.grad_bias, b.ws);
      }}},
    {MEC4J_ALGORITHM_REFERENCE,
     "reference",
     false,
     always,
     no_workspace,
     [](const Plan& p, const ConvBuffers& b) { reference_forward(p.s, b.in, b.kernel, b.bias, b.out); },
     {always, no_workspace,
      [](const Plan& p, const BackwardBuffers& b) { reference_backward_data(p.s, b.grad_out, b.kernel, b.grad_in); }},
     {always, no_workspace,
      [](const Plan& p, const BackwardBuffers& b) {
        reference_backward_weights(p.s, b.in, b.grad_out, b.grad_kernel, b.grad_bias);
      }}},
};

// The variants the automatic MEC may run: those that take this layer within MEC's workspace.
std::vector<const ConvImpl*> mec_candidates(const Plan& p) {
  const int64_t budget = find_impl(MEC4J_ALGORITHM_MEC)->workspace_elems(p);
  std::vector<const ConvImpl*> out;
  for (const ConvImpl& impl : kImpls)
    if (impl.mec_variant && impl.check(p) == MEC4J_OK && impl.workspace_elems(p) <= budget &&
        nchw_check(p.s, impl.algorithm, MEC4J_DIRECTION_FORWARD) == MEC4J_OK)
      out.push_back(&impl);
  return out;
}

const ConvImpl* mec_heuristic(const Plan& p) {
  const Shape& s = p.s;
  if (s.nchw) return find_impl(MEC4J_ALGORITHM_MEC_FUSED);  // the one variant that reads NCHW
  if (s.depthwise()) return find_impl(MEC4J_ALGORITHM_DEPTHWISE);
  // Unpadded layers: MEC_FUSED reads the input in place (no workspace for the others).
  if (mec_lowering(s, MecSolution::Fused) != Lowering::Mec) return find_impl(MEC4J_ALGORITHM_MEC_FUSED);
  if (s.column_tiled()) return find_impl(MEC4J_ALGORITHM_MEC_B);  // column tiles run Solution B
  // The BLAS variants split grouped or row-dilated layers into many small GEMMs, or do not apply.
  if (s.g > 1 || s.dh > 1) return find_impl(MEC4J_ALGORITHM_MEC_FUSED);
  // Row bands run one image at a time, as at batch 1.
  const ConvImpl* pick = find_impl(MEC4J_ALGORITHM_MEC_FUSED);
  switch (mec_choose(with_batch(s, s.tile_n), *p.igemm)) {
    case MecSolution::A:
      pick = find_impl(MEC4J_ALGORITHM_MEC_A);
      break;
    case MecSolution::B:
      pick = find_impl(MEC4J_ALGORITHM_MEC_B);
      break;
    case MecSolution::Rows:
      pick = find_impl(MEC4J_ALGORITHM_MEC_ROWS);
      break;
    case MecSolution::Fused:
      break;
  }
  // In the default, cache-sized workspace the BLAS variants run only where their whole lowering
  // fits in it.
  if (pick->check(p) != MEC4J_OK || pick->workspace_elems(p) > mec_auto_workspace(p))
    return find_impl(MEC4J_ALGORITHM_MEC_FUSED);
  return pick;
}

// --- Tuning: the measured choice, per layer, thread count and ISA, for the process's life ----

constexpr int kTuningFromEnvironment = -1, kTuningMisspelt = -2;
std::atomic<int> g_tuning{kTuningFromEnvironment};

int tuning() {
  int t = g_tuning.load(std::memory_order_acquire);
  if (t == kTuningFromEnvironment) {
    const char* e = std::getenv("MEC4J_TUNING");
    int parsed = !e || !*e || !strcasecmp(e, "measure") ? MEC4J_TUNING_MEASURE
                 : !strcasecmp(e, "heuristic")          ? MEC4J_TUNING_HEURISTIC
                                                        : kTuningMisspelt;
    if (g_tuning.compare_exchange_strong(t, parsed, std::memory_order_acq_rel)) t = parsed;
  }
  return t;
}

// Everything the choice depends on; an array, not a vector: it is built on every MEC call.
using TuningKey = std::array<int64_t, 26>;

TuningKey tuning_key(const Plan& p, mec4j_direction direction = MEC4J_DIRECTION_FORWARD) {
  const Shape& s = p.s;
  return {s.n, s.ih, s.iw, s.ic, s.kh, s.kw, s.kc, s.sh, s.sw, s.pt, s.pb, s.pl, s.pr, s.threshold, s.tile_n, s.tile_oh,
          s.tile_w, s.banded, s.g, s.dh, s.dw, p.isa, p.threads, direction,
          // The layout bounds them too (NCHW runs MEC_FUSED alone); a fused activation does not.
          s.nchw,
          // The workspace bounds the candidates (the cache-sized default's depends on the L2).
          direction == MEC4J_DIRECTION_FORWARD ? mec_auto_workspace(p) : 0};
}

std::mutex g_choices_mutex;  // guards g_choices (short lookups)
std::map<TuningKey, mec4j_algorithm> g_choices;
std::mutex g_measure_mutex;  // one measurement at a time: they would disturb each other

const ConvImpl* measured_choice(const TuningKey& key) {
  std::lock_guard<std::mutex> lock(g_choices_mutex);
  auto it = g_choices.find(key);
  return it == g_choices.end() ? nullptr : find_impl(it->second);
}

// Times each candidate kRounds times on the caller's buffers, interleaved with a rotating start
// (no candidate always runs right after the same other one: a BLAS's threads still spinning after
// its call would slow whatever comes next), and compares their best times. Another variant
// replaces the heuristic's pick only when it is faster by more than kMargin, twice: in this
// measurement and in a second one of the two alone (on a shared machine one measurement can be
// disturbed, and a wrong switch would stay for the process's life). The winner runs last, so the
// output is its own.
constexpr int kRounds = 3;
constexpr double kMargin = 0.03;

// Fills best[i] with candidates[i]'s best time. Allocates nothing: runs may have written the
// output already.
template <typename Run>
void best_times(const std::vector<const ConvImpl*>& candidates, Run& run, std::vector<double>& best) {
  const size_t n = candidates.size();
  std::fill(best.begin(), best.end(), 1e300);
  for (int round = 0; round < kRounds; ++round)
    for (size_t j = 0; j < n; ++j) {
      const size_t i = (j + round) % n;
      const auto t0 = std::chrono::steady_clock::now();
      run(candidates[i]);
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (t < best[i]) best[i] = t;
    }
}

template <typename Run>
const ConvImpl* measure(const std::vector<const ConvImpl*>& candidates, const ConvImpl* preferred, Run run) {
  const size_t n = candidates.size();
  // Everything allocated before the first run.
  std::vector<double> best(n), again(2);
  std::vector<const ConvImpl*> pair{preferred, preferred};
  best_times(candidates, run, best);
  size_t pick = n;
  for (size_t i = 0; i < n; ++i)
    if (candidates[i] == preferred) pick = i;
  if (pick == n) {  // the heuristic's pick does not fit: plain fastest
    size_t win = 0;
    for (size_t i = 1; i < n; ++i)
      if (best[i] < best[win]) win = i;
    return candidates[win];
  }
  size_t win = pick;
  for (size_t i = 0; i < n; ++i)
    if (best[i] < best[pick] * (1 - kMargin) && best[i] < best[win]) win = i;
  if (win == pick) return preferred;
  pair[1] = candidates[win];
  best_times(pair, run, again);
  return again[1] < again[0] * (1 - kMargin) ? candidates[win] : preferred;
}

// Runs what the automatic MEC chose for `key`: the heuristic's pick, or under MEASURE the
// measured one, measuring the candidates on this first call (then run(winner) comes last).
template <typename Run>
void auto_run(const TuningKey& key, const ConvImpl* preferred, std::vector<const ConvImpl*> (*candidates)(const Plan&),
              const Plan& p, Run run) {
  if (tuning() != MEC4J_TUNING_MEASURE) {
    run(preferred);
    return;
  }
  if (const ConvImpl* chosen = measured_choice(key)) {
    run(chosen);
    return;
  }
  std::lock_guard<std::mutex> measuring(g_measure_mutex);
  const ConvImpl* chosen = measured_choice(key);  // another thread may have measured it meanwhile
  if (!chosen) {
    // Everything this allocates comes before the first run writes the output (the runs allocate
    // nothing): the candidates, their timings and the table entry of the choice, whose node is
    // moved into the table afterwards.
    const std::vector<const ConvImpl*> options = candidates(p);
    std::map<TuningKey, mec4j_algorithm> entry{{key, MEC4J_ALGORITHM_MEC}};
    chosen = options.size() == 1 ? options[0] : measure(options, preferred, run);
    auto node = entry.extract(entry.begin());
    node.mapped() = chosen->algorithm;
    std::lock_guard<std::mutex> lock(g_choices_mutex);
    g_choices.insert(std::move(node));
  }
  run(chosen);
}

// --- The automatic MEC's backward weights: MEC_ROWS's BLAS GEMMs (one per kernel row, M = k_w*i_c)
// or MEC_FUSED's micro-kernels (one GEMM, M = k_h*k_w*i_c/g): the micro-kernels where the BLAS's
// GEMMs are thin (k_w*i_c below 256 rows: the measured crossover on cv1-cv12, docs/performance.md)
// or split per group.
constexpr int64_t kThinBlasRows = 256;

const ConvImpl* mec_backward_weights_heuristic(const Plan& p) {
  const Shape& s = p.s;
  if (s.depthwise()) return find_impl(MEC4J_ALGORITHM_DEPTHWISE);
  const bool blas_fits = find_impl(MEC4J_ALGORITHM_MEC_ROWS)->backward_weights.check(p) == MEC4J_OK;
  return blas_fits && s.g == 1 && s.kw * s.ic >= kThinBlasRows ? find_impl(MEC4J_ALGORITHM_MEC_ROWS)
                                                               : find_impl(MEC4J_ALGORITHM_MEC_FUSED);
}

// The heuristic's pick, in every tuning mode: MEC_FUSED's weight gradients allocate their packing
// scratch when they start, so timing the candidates one after another on the caller's buffers
// (as the forward's measurement does) would allocate after an earlier run wrote the output, and a
// failed allocation would leave it half-written (alloc_failure_tests).
void mec_auto_backward_weights(const Plan& p, const BackwardBuffers& b) {
  mec_backward_weights_heuristic(p)->backward_weights.run(p, b);
}

// The checked layer and what it runs on; with impl, also the implementation that runs `algorithm`
// on it (the MEC entry itself for MEC).
mec4j_status plan(const mec4j_conv2d* conv, mec4j_algorithm algorithm, Plan* p, const ConvImpl** impl,
                  mec4j_direction direction = MEC4J_DIRECTION_FORWARD) {
  mec4j_status st = make_shape(conv, &p->s, nullptr);
  if (st != MEC4J_OK) return st;
  if ((st = effective_isa(&p->isa)) != MEC4J_OK) return st;
  if (tuning() == kTuningMisspelt) return MEC4J_ERROR_BAD_ENVIRONMENT;
  p->igemm = igemm_config(p->isa, p->s.kcg);
  p->threads = available_threads();
  if (!impl) return MEC4J_OK;
  const ConvImpl* found = find_impl(algorithm);
  if (!found) return MEC4J_ERROR_UNKNOWN_ALGORITHM;
  if ((st = nchw_check(p->s, algorithm, direction)) != MEC4J_OK) return st;
  if (direction == MEC4J_DIRECTION_FORWARD)
    st = found->check(*p);
  else if (direction != MEC4J_DIRECTION_BACKWARD_DATA && direction != MEC4J_DIRECTION_BACKWARD_WEIGHTS)
    st = MEC4J_ERROR_INVALID_ARGUMENT;
  else if (p->s.activated)
    st = MEC4J_ERROR_UNSUPPORTED;  // the passes differentiate the convolution alone
  else
    st = found->backward(direction).check ? found->backward(direction).check(*p) : MEC4J_ERROR_UNSUPPORTED;
  if (st != MEC4J_OK) return st;
  *impl = found;
  return MEC4J_OK;
}

// A workspace of `elems` floats is needed: present, large enough, aligned.
mec4j_status check_workspace(int64_t elems, const void* workspace, int64_t workspace_bytes) {
  if (elems == 0) return MEC4J_OK;
  if (!workspace) return MEC4J_ERROR_NULL_ARGUMENT;
  if (workspace_bytes < elems * (int64_t)sizeof(float))
    return MEC4J_ERROR_WORKSPACE_TOO_SMALL;  // no overflow: make_shape
  if (reinterpret_cast<uintptr_t>(workspace) % MEC4J_WORKSPACE_ALIGNMENT != 0) return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  return MEC4J_OK;
}

// Runs a convolution; nothing may throw across the C boundary.
template <typename Run>
mec4j_status run_guarded(Run run) {
  try {
    run();
  } catch (const std::bad_alloc&) {
    return MEC4J_ERROR_OUT_OF_MEMORY;
  } catch (...) {
    return MEC4J_ERROR_INTERNAL;
  }
  return MEC4J_OK;
}

}  // namespace

const ConvImpl* find_impl(mec4j_algorithm algorithm) {
  for (const ConvImpl& impl : kImpls)
    if (impl.algorithm == algorithm) return &impl;
  return nullptr;
}

mec4j_status tuning_mode(mec4j_tuning* t) {
  const int v = tuning();
  if (v == kTuningMisspelt) return MEC4J_ERROR_BAD_ENVIRONMENT;
  *t = (mec4j_tuning)v;
  return MEC4J_OK;
}

const ConvImpl* mec_resolved(const Plan& p, bool* measured) {
  *measured = false;
  if (tuning() == MEC4J_TUNING_MEASURE)
    if (const ConvImpl* chosen = measured_choice(tuning_key(p))) {
      *measured = true;
      return chosen;
    }
  return mec_heuristic(p);
}

void mec_auto_run(const Plan& p, const ConvBuffers& b) {
  auto_run(tuning_key(p), mec_heuristic(p), mec_candidates, p, [&](const ConvImpl* impl) { impl->run(p, b); });
}

const ConvImpl* mec_backward_resolved(const Plan& p, mec4j_direction d, bool* measured) {
  *measured = false;
  return d == MEC4J_DIRECTION_BACKWARD_DATA ? mec_backward_data_impl(p) : mec_backward_weights_heuristic(p);
}

}  // namespace mec4j

using namespace mec4j;

extern "C" {

mec4j_status mec4j_resolve_algorithm_ex(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_algorithm* resolved,
                                        int32_t* measured) {
  if (!resolved) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl);
  if (st != MEC4J_OK) return st;
  bool was_measured = false;
  *resolved = a == MEC4J_ALGORITHM_MEC ? mec_resolved(p, &was_measured)->algorithm : a;
  if (measured) *measured = was_measured;
  return MEC4J_OK;
}

mec4j_status mec4j_resolve_algorithm_for(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_direction direction,
                                         mec4j_algorithm* resolved, int32_t* measured) {
  if (direction == MEC4J_DIRECTION_FORWARD) return mec4j_resolve_algorithm_ex(conv, a, resolved, measured);
  if (!resolved) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl, direction);
  if (st != MEC4J_OK) return st;
  bool was_measured = false;
  *resolved = a == MEC4J_ALGORITHM_MEC ? mec_backward_resolved(p, direction, &was_measured)->algorithm : a;
  if (measured) *measured = was_measured;
  return MEC4J_OK;
}

mec4j_status mec4j_resolve_algorithm(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_algorithm* resolved) {
  return mec4j_resolve_algorithm_ex(conv, a, resolved, nullptr);
}

mec4j_status mec4j_workspace_size(const mec4j_conv2d* conv, mec4j_algorithm a, int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl);
  if (st != MEC4J_OK) return st;
  *bytes = impl->workspace_elems(p) * (int64_t)sizeof(float);  // overflow excluded by make_shape
  return MEC4J_OK;
}

mec4j_status mec4j_workspace_size_for(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_direction direction,
                                      int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl, direction);
  if (st != MEC4J_OK) return st;
  const int64_t elems =
      direction == MEC4J_DIRECTION_FORWARD ? impl->workspace_elems(p) : impl->backward(direction).workspace_elems(p);
  *bytes = elems * (int64_t)sizeof(float);  // elems is |L|, im2col's or the kernel's: x4 checked by make_shape
  return MEC4J_OK;
}

mec4j_status mec4j_conv2d_backward_data(const mec4j_conv2d* conv, mec4j_algorithm a, const float* grad_output,
                                        const float* kernel, float* grad_input, void* workspace,
                                        int64_t workspace_bytes) {
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl, MEC4J_DIRECTION_BACKWARD_DATA);
  if (st != MEC4J_OK) return st;
  if (!grad_output || !kernel || !grad_input) return MEC4J_ERROR_NULL_ARGUMENT;
  st = check_workspace(impl->backward_data.workspace_elems(p), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] {
    impl->backward_data.run(
        p, BackwardBuffers{nullptr, grad_output, kernel, grad_input, nullptr, nullptr, static_cast<float*>(workspace)});
  });
}

mec4j_status mec4j_conv2d_backward_weights(const mec4j_conv2d* conv, mec4j_algorithm a, const float* input,
                                           const float* grad_output, float* grad_kernel, float* grad_bias,
                                           void* workspace, int64_t workspace_bytes) {
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl, MEC4J_DIRECTION_BACKWARD_WEIGHTS);
  if (st != MEC4J_OK) return st;
  if (!input || !grad_output || !grad_kernel) return MEC4J_ERROR_NULL_ARGUMENT;
  st = check_workspace(impl->backward_weights.workspace_elems(p), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] {
    impl->backward_weights.run(p, BackwardBuffers{input, grad_output, nullptr, nullptr, grad_kernel, grad_bias,
                                                  static_cast<float*>(workspace)});
  });
}

mec4j_status mec4j_conv2d_forward(const mec4j_conv2d* conv, mec4j_algorithm a, const float* input, const float* kernel,
                                  const float* bias, float* output, void* workspace, int64_t workspace_bytes) {
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, a, &p, &impl);
  if (st != MEC4J_OK) return st;
  if (!input || !kernel || !output) return MEC4J_ERROR_NULL_ARGUMENT;
  st = check_workspace(impl->workspace_elems(p), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] { impl->run(p, ConvBuffers{input, kernel, bias, output, static_cast<float*>(workspace)}); });
}

namespace {
// The packed kernel's header: what it was packed for, checked by every forward_packed.
struct alignas(MEC4J_WORKSPACE_ALIGNMENT) PackedHeader {
  uint64_t magic;
  int64_t isa, nr, kc, k, n, groups;
};
constexpr uint64_t kPackedMagic = 0x6d6563346a706b31ull;  // "mec4jpk1"

PackedHeader packed_header(const Plan& p) {
  return PackedHeader{kPackedMagic, p.isa, p.igemm->nr, p.igemm->kc, p.s.group_patch, p.s.kc, p.s.g};
}

mec4j_status packed_bytes(const Plan& p, int64_t* bytes) {
  int64_t floats;  // per group: k_h*k_w*i_c/g rows, k_c/g columns rounded up to the tile width
  if (!mul(p.s.group_patch, (p.s.kcg + p.igemm->nr - 1) / p.igemm->nr * p.igemm->nr, &floats) ||
      !mul(floats, p.s.g, &floats) || !mul(floats, (int64_t)sizeof(float), bytes) ||
      !add(*bytes, (int64_t)sizeof(PackedHeader), bytes))
    return MEC4J_ERROR_SIZE_OVERFLOW;
  return MEC4J_OK;
}
}  // namespace

mec4j_status mec4j_packed_kernel_size(const mec4j_conv2d* conv, int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  mec4j_status st = plan(conv, MEC4J_ALGORITHM_MEC_FUSED, &p, nullptr);
  if (st == MEC4J_OK && p.s.nchw) st = MEC4J_ERROR_UNSUPPORTED;  // the OIHW kernel is read as it is
  return st != MEC4J_OK ? st : packed_bytes(p, bytes);
}

mec4j_status mec4j_pack_kernel(const mec4j_conv2d* conv, const float* kernel, void* packed, int64_t packed_size) {
  Plan p;
  int64_t need = 0;
  mec4j_status st = plan(conv, MEC4J_ALGORITHM_MEC_FUSED, &p, nullptr);
  if (st == MEC4J_OK && p.s.nchw) st = MEC4J_ERROR_UNSUPPORTED;
  if (st == MEC4J_OK) st = packed_bytes(p, &need);
  if (st != MEC4J_OK) return st;
  if (!kernel || !packed) return MEC4J_ERROR_NULL_ARGUMENT;
  if (packed_size < need) return MEC4J_ERROR_WORKSPACE_TOO_SMALL;
  if (reinterpret_cast<uintptr_t>(packed) % MEC4J_WORKSPACE_ALIGNMENT != 0) return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  auto* header = static_cast<PackedHeader*>(packed);
  *header = packed_header(p);
  float* dst = reinterpret_cast<float*>(header + 1);
  const int64_t group_floats = packed_group_floats(*p.igemm, p.s.group_patch, p.s.kcg);
  for (int64_t grp = 0; grp < p.s.g; ++grp)
    pack_igemm_kernel(*p.igemm, kernel + grp * p.s.group_patch * p.s.kcg, p.s.group_patch, p.s.kcg,
                      dst + grp * group_floats);
  return MEC4J_OK;
}

mec4j_status mec4j_conv2d_forward_packed(const mec4j_conv2d* conv, const float* input, const void* packed,
                                         const float* bias, float* output, void* workspace, int64_t workspace_bytes) {
  Plan p;
  mec4j_status st = plan(conv, MEC4J_ALGORITHM_MEC_FUSED, &p, nullptr);
  if (st != MEC4J_OK) return st;
  if (!input || !packed || !output) return MEC4J_ERROR_NULL_ARGUMENT;
  if (reinterpret_cast<uintptr_t>(packed) % MEC4J_WORKSPACE_ALIGNMENT != 0) return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  const auto* header = static_cast<const PackedHeader*>(packed);
  const PackedHeader want = packed_header(p);
  if (header->magic != want.magic || header->isa != want.isa || header->nr != want.nr || header->kc != want.kc ||
      header->k != want.k || header->n != want.n || header->groups != want.groups)
    return MEC4J_ERROR_INVALID_ARGUMENT;                   // another layer's, or another ISA's layout
  if (p.s.column_tiled()) return MEC4J_ERROR_UNSUPPORTED;  // column tiles run Solution B on the plain kernel
  if (p.s.nchw) return MEC4J_ERROR_UNSUPPORTED;
  st = check_workspace(lowered_elems(p, MecSolution::Fused), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] {
    mec_tiled(p.s, MecSolution::Fused, p.igemm, input, nullptr, bias, output, static_cast<float*>(workspace),
              reinterpret_cast<const float*>(header + 1));
  });
}

const char* mec4j_algorithm_name(mec4j_algorithm a) {
  const ConvImpl* impl = find_impl(a);
  return impl ? impl->name : "unknown";
}

const char* mec4j_kernel_name(void) {
  mec4j_isa isa;
  return effective_isa(&isa) == MEC4J_OK ? igemm_config(isa)->name : "unknown";
}

const char* mec4j_depthwise_kernel_name(void) {
  mec4j_isa isa;
  return effective_isa(&isa) == MEC4J_OK ? depthwise_kernel_name(isa) : "unknown";
}

mec4j_status mec4j_set_tuning(mec4j_tuning t) {
  if (t != MEC4J_TUNING_MEASURE && t != MEC4J_TUNING_HEURISTIC) return MEC4J_ERROR_INVALID_ARGUMENT;
  g_tuning.store(t, std::memory_order_release);
  return MEC4J_OK;
}

mec4j_status mec4j_get_tuning(mec4j_tuning* t) {
  if (!t) return MEC4J_ERROR_NULL_ARGUMENT;
  return tuning_mode(t);
}

}  // extern "C"
