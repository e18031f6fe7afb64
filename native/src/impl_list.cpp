// The implementation list: each algorithm's checks, workspace and passes, and the automatic MEC's
// choice among its variants (the heuristic's; the measured one is the tuner's).
#include "impl_list.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "depthwise.h"
#include "im2col.h"
#include "mec.h"
#include "reference.h"
#include "tuner.h"

namespace mec4j {

namespace {

bool fits_blas_int(int64_t v) { return v <= INT_MAX; }

// Every GEMM dimension and leading dimension passed to cblas must fit in an int.
mec4j_status blas_fit(bool fits) { return fits ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
// MEC_ROWS's GEMMs, forward and backward: M = i_n*o_h*o_w (at most), K or N = k_w*i_c, and k_c.
mec4j_status rows_blas_fit(const Shape& s) {
  return blas_fit(fits_blas_int(s.n * s.oh * s.ow) && fits_blas_int(s.kw * s.ic) && fits_blas_int(s.kc));
}

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
  if (S == MecSolution::Fused && p.s.nchw) return nchw_workspace_elems(p.s);
  return lowered_elems(p, S);
}

template <MecSolution S>
void mec_run(const Plan& p, const ConvBuffers& b) {
  if (S == MecSolution::Fused && p.s.nchw) return nchw_forward(p, b.in, b.kernel, b.bias, b.out, b.ws);
  mec_tiled(p.s, S, p.igemm, b.in, b.kernel, b.bias, b.out, b.ws);
}

// NCHW runs forward on the implementations that say so (mec4j.h).
mec4j_status nchw_check(const Shape& s, const ConvImpl& impl, mec4j_direction d) {
  if (!s.nchw) return MEC4J_OK;
  if (d != MEC4J_DIRECTION_FORWARD || impl.nchw == ConvImpl::Nchw::No) return MEC4J_ERROR_UNSUPPORTED;
  return impl.nchw == ConvImpl::Nchw::AnyWorkspace || s.cache_sized ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED;
}

mec4j_status always(const Plan&) { return MEC4J_OK; }
// MEC_ROWS's BLAS GEMMs read each kernel row's k_w*i_c floats as one block: no groups.
mec4j_status ungrouped(const Plan& p) { return p.s.g == 1 ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
// Solutions A and B read one contiguous window of k_h*k_w*i_c floats per output row: no groups,
// no dilation across rows.
mec4j_status one_window(const Plan& p) { return p.s.g == 1 && p.s.dh == 1 ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; }
const ConvImpl* mec_heuristic(const Plan& p);
std::vector<const ConvImpl*> mec_candidates(const Plan& p);
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

// Runs the automatic MEC: the heuristic's pick, or the measured one (tuner.h).
void mec_auto_run(const Plan& p, const ConvBuffers& b) {
  tuned_run(p, mec_auto_workspace(p), mec_heuristic(p), mec_candidates, b);
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
  return rows_blas_fit(s);
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

const ConvImpl* mec_backward_data_impl(const Plan& p);
const ConvImpl* mec_backward_weights_heuristic(const Plan& p);

mec4j_status im2col_check(const Plan& p) {
  return blas_fit(fits_blas_int(p.s.n * p.s.oh * p.s.ow) && fits_blas_int(p.s.patch) && fits_blas_int(p.s.kc));
}
int64_t im2col_elems(const Plan& p) { return p.s.im2col_elems; }

const ConvImpl kImpls[] = {
    {MEC4J_ALGORITHM_DEPTHWISE,
     "depthwise",
     true,
     ConvImpl::Nchw::No,
     [](const Plan& p) { return p.s.depthwise() ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED; },
     no_workspace,
     [](const Plan& p, const ConvBuffers& b) {
       depthwise_forward(p.s, p.isa, b.in, b.kernel, b.bias, b.out, p.threads);
     },
     {depthwise_only, kernel_sized, depthwise_bwd_data},
     {depthwise_only, kernel_sized, depthwise_bwd_weights},
     nullptr},
    {MEC4J_ALGORITHM_MEC_FUSED,
     "mec-fused",
     true,
     ConvImpl::Nchw::DefaultWorkspace,
     always,
     mec_workspace<MecSolution::Fused>,
     mec_run<MecSolution::Fused>,
     {mec_fused_bwd_data_check, mec_fused_bwd_data_workspace, mec_fused_bwd_data},
     {mec_backward_check, mec_backward_workspace, mec_fused_bwd_weights},
     [](const Plan& p, const ConvBuffers& b) {
       mec_tiled(p.s, MecSolution::Fused, p.igemm, b.in, nullptr, b.bias, b.out, b.ws, b.kernel);
     }},
    {MEC4J_ALGORITHM_MEC_ROWS,
     "mec-rows",
     true,
     ConvImpl::Nchw::No,
     [](const Plan& p) {
       if (ungrouped(p) != MEC4J_OK) return ungrouped(p);
       return rows_blas_fit(p.s);
     },
     mec_workspace<MecSolution::Rows>,
     mec_run<MecSolution::Rows>,
     {mec_rows_backward_check, mec_backward_workspace, mec_rows_bwd_data},
     {mec_rows_backward_check, mec_backward_workspace, mec_rows_bwd_weights},
     nullptr},
    {MEC4J_ALGORITHM_MEC_B,
     "mec-b",
     true,
     ConvImpl::Nchw::No,
     [](const Plan& p) {
       if (one_window(p) != MEC4J_OK) return one_window(p);
       return blas_fit(fits_blas_int(p.s.ow) && fits_blas_int(p.s.patch) && fits_blas_int(p.s.kc) &&
                       fits_blas_int(p.s.lowered_column()));
     },
     mec_workspace<MecSolution::B>,
     mec_run<MecSolution::B>,
     {},
     {},
     nullptr},
    {MEC4J_ALGORITHM_MEC_A,
     "mec-a",
     true,
     ConvImpl::Nchw::No,
     [](const Plan& p) {
       const Shape& s = p.s;
       if (one_window(p) != MEC4J_OK) return one_window(p);
       // Solution A permutes O through L's buffer; single-image tiles gain nothing from it.
       if (s.output_elems > s.mec_lowered_elems || s.column_tiled() || s.banded) return MEC4J_ERROR_UNSUPPORTED;
       return blas_fit(fits_blas_int(s.n * s.ow) && fits_blas_int(s.patch) && fits_blas_int(s.kc) &&
                       fits_blas_int(s.lowered_column()));
     },
     mec_workspace<MecSolution::A>,
     mec_run<MecSolution::A>,
     {},
     {},
     nullptr},
    {MEC4J_ALGORITHM_MEC,
     "mec",
     false,
     ConvImpl::Nchw::DefaultWorkspace,
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
      mec_auto_backward_weights},
     nullptr},
    {MEC4J_ALGORITHM_IM2COL,
     "im2col",
     false,
     ConvImpl::Nchw::No,
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
      }},
     nullptr},
    {MEC4J_ALGORITHM_REFERENCE,
     "reference",
     false,
     ConvImpl::Nchw::AnyWorkspace,
     always,
     no_workspace,
     [](const Plan& p, const ConvBuffers& b) { reference_forward(p.s, b.in, b.kernel, b.bias, b.out); },
     {always, no_workspace,
      [](const Plan& p, const BackwardBuffers& b) { reference_backward_data(p.s, b.grad_out, b.kernel, b.grad_in); }},
     {always, no_workspace,
      [](const Plan& p, const BackwardBuffers& b) {
        reference_backward_weights(p.s, b.in, b.grad_out, b.grad_kernel, b.grad_bias);
      }},
     nullptr},
};

// The variants the automatic MEC may run: those that take this layer within MEC's workspace.
std::vector<const ConvImpl*> mec_candidates(const Plan& p) {
  const int64_t budget = find_impl(MEC4J_ALGORITHM_MEC)->workspace_elems(p);
  std::vector<const ConvImpl*> out;
  for (const ConvImpl& impl : kImpls)
    if (impl.mec_variant && impl.check(p) == MEC4J_OK && impl.workspace_elems(p) <= budget &&
        nchw_check(p.s, impl, MEC4J_DIRECTION_FORWARD) == MEC4J_OK)
      out.push_back(&impl);
  return out;
}

// --- The automatic MEC's choice: per direction, one ordered list; the first entry whose rule
// takes the layer wins. Deterministic: the rules read the layer and the micro-kernel's tile only,
// so the same CPU and ISA cap always give the same variant (MEC4J_TUNING_HEURISTIC, and the
// forward's preferred variant under MEASURE, which the tuner replaces only when another is
// measurably faster).

struct Choice {
  mec4j_algorithm algorithm;
  bool (*takes)(const Plan&);
};

// MEC_ROWS runs GEMMs with K = k_w*i_c and re-reads its output once per kernel row (beta = 1):
// it needs a K this large to amortise that. At batch 1 its output tile is small and stays in
// cache, so a much smaller K suffices.
constexpr int64_t kRowsMinPatchBatch1 = 16;
constexpr int64_t kRowsMinPatch = 256;

// The layer the BLAS variants' rules look at: row bands run one image at a time, as at batch 1.
Shape blas_tile(const Plan& p) { return with_batch(p.s, p.s.tile_n); }
bool rows_pays(const Shape& t) { return t.kw * t.ic >= (t.n == 1 ? kRowsMinPatchBatch1 : kRowsMinPatch); }
// The paper's rule: Solution A when o_w <= T and |O| <= |L|. (At batch 1, A would run exactly
// B's GEMMs plus a permutation.)
bool a_pays(const Shape& t) {
  return t.n > 1 && !rows_pays(t) && t.ow <= t.threshold && t.output_elems <= t.mec_lowered_elems;
}
// In the default, cache-sized workspace the BLAS variants run only where their whole lowering
// fits in it.
bool fits(const Plan& p, mec4j_algorithm a) {
  const ConvImpl* impl = find_impl(a);
  return impl->check(p) == MEC4J_OK && impl->workspace_elems(p) <= mec_auto_workspace(p);
}

const Choice kForwardChoices[] = {
    // The one variant that reads NCHW.
    {MEC4J_ALGORITHM_MEC_FUSED, [](const Plan& p) { return p.s.nchw; }},
    {MEC4J_ALGORITHM_DEPTHWISE, [](const Plan& p) { return p.s.depthwise(); }},
    // Unpadded layers: MEC_FUSED reads the input in place (no workspace for the others).
    {MEC4J_ALGORITHM_MEC_FUSED, [](const Plan& p) { return mec_lowering(p.s, MecSolution::Fused) != Lowering::Mec; }},
    // Column tiles run Solution B.
    {MEC4J_ALGORITHM_MEC_B, [](const Plan& p) { return p.s.column_tiled(); }},
    // The BLAS variants split grouped or row-dilated layers into many small GEMMs, or do not
    // apply; one long-K GEMM with the widest kernel the CPU runs, unless most of its nr lanes
    // would idle on few output channels.
    {MEC4J_ALGORITHM_MEC_FUSED,
     [](const Plan& p) {
       return p.s.g > 1 || p.s.dh > 1 || mec_lowering(blas_tile(p), MecSolution::Fused) != Lowering::Mec ||
              2 * p.s.kc >= p.igemm->nr;
     }},
    {MEC4J_ALGORITHM_MEC_ROWS,
     [](const Plan& p) { return rows_pays(blas_tile(p)) && fits(p, MEC4J_ALGORITHM_MEC_ROWS); }},
    {MEC4J_ALGORITHM_MEC_A, [](const Plan& p) { return a_pays(blas_tile(p)) && fits(p, MEC4J_ALGORITHM_MEC_A); }},
    {MEC4J_ALGORITHM_MEC_B,
     [](const Plan& p) {
       const Shape t = blas_tile(p);
       return !rows_pays(t) && !a_pays(t) && fits(p, MEC4J_ALGORITHM_MEC_B);
     }},
    {MEC4J_ALGORITHM_MEC_FUSED, [](const Plan&) { return true; }},
};

// The automatic MEC's backward data: DEPTHWISE for depthwise layers; at stride 1 MEC_FUSED's (a
// forward convolution on the micro-kernels) where it pays (fused_backward_data_pays), except for
// unpadded 1x1 layers (one GEMM on dO in place); else MEC_ROWS's.
const Choice kBackwardDataChoices[] = {
    {MEC4J_ALGORITHM_DEPTHWISE, [](const Plan& p) { return p.s.depthwise(); }},
    {MEC4J_ALGORITHM_MEC_FUSED,
     [](const Plan& p) {
       return mec_fused_bwd_data_check(p) == MEC4J_OK && fused_backward_data_pays(p.s, p.isa) &&
              mec_lowering(p.s, MecSolution::Rows) == Lowering::Mec;
     }},
    {MEC4J_ALGORITHM_MEC_ROWS, [](const Plan&) { return true; }},
};

// The automatic MEC's backward weights: MEC_ROWS's BLAS GEMMs (one per kernel row, M = k_w*i_c)
// or MEC_FUSED's micro-kernels (one GEMM, M = k_h*k_w*i_c/g): the micro-kernels where the BLAS's
// GEMMs are thin or split per group. Thin: k_w*i_c below 256 rows with the AVX2 kernels (the
// measured crossover on cv1-cv12, AMD Zen 3), below 768 with AVX-512's, whose wider tiles moved it
// (Intel Xeon model 207, mb32, 1 thread: MEC_FUSED/MEC_ROWS 0.87 on cv4 (448 rows), 0.85 on cv10
// (384), 0.97-1.0 on cv5 (480) and cv11 (768), 1.14-1.19 on cv6 and cv12; docs/performance.md).
int64_t thin_blas_rows(mec4j_isa isa) { return isa == MEC4J_ISA_AVX512 ? 768 : 256; }

const Choice kBackwardWeightsChoices[] = {
    {MEC4J_ALGORITHM_DEPTHWISE, [](const Plan& p) { return p.s.depthwise(); }},
    {MEC4J_ALGORITHM_MEC_ROWS,
     [](const Plan& p) {
       return find_impl(MEC4J_ALGORITHM_MEC_ROWS)->backward_weights.check(p) == MEC4J_OK && p.s.g == 1 &&
              p.s.kw * p.s.ic >= thin_blas_rows(p.isa);
     }},
    {MEC4J_ALGORITHM_MEC_FUSED, [](const Plan&) { return true; }},
};

// The first choice of the list that takes the layer (the last one takes every layer).
template <size_t N>
const ConvImpl* first_taker(const Choice (&choices)[N], const Plan& p) {
  for (const Choice& c : choices)
    if (c.takes(p)) return find_impl(c.algorithm);
  return nullptr;
}

const ConvImpl* mec_heuristic(const Plan& p) { return first_taker(kForwardChoices, p); }
const ConvImpl* mec_backward_data_impl(const Plan& p) { return first_taker(kBackwardDataChoices, p); }
const ConvImpl* mec_backward_weights_heuristic(const Plan& p) { return first_taker(kBackwardWeightsChoices, p); }

// The heuristic's pick, in every tuning mode: MEC_FUSED's weight gradients allocate their packing
// scratch when they start, so timing the candidates one after another on the caller's buffers
// (as the forward's measurement does) would allocate after an earlier run wrote the output, and a
// failed allocation would leave it half-written (alloc_failure_tests).
void mec_auto_backward_weights(const Plan& p, const BackwardBuffers& b) {
  mec_backward_weights_heuristic(p)->backward_weights.run(p, b);
}

}  // namespace

const ConvImpl* find_impl(mec4j_algorithm algorithm) {
  for (const ConvImpl& impl : kImpls)
    if (impl.algorithm == algorithm) return &impl;
  return nullptr;
}

const ConvImpl* packed_impl() {
  for (const ConvImpl& impl : kImpls)
    if (impl.run_packed) return &impl;
  return nullptr;
}

mec4j_status impl_for(const Plan& p, mec4j_algorithm algorithm, mec4j_direction direction, const ConvImpl** impl) {
  const ConvImpl* found = find_impl(algorithm);
  if (!found) return MEC4J_ERROR_UNKNOWN_ALGORITHM;
  mec4j_status st = nchw_check(p.s, *found, direction);
  if (st != MEC4J_OK) return st;
  if (direction == MEC4J_DIRECTION_FORWARD)
    st = found->check(p);
  else if (direction != MEC4J_DIRECTION_BACKWARD_DATA && direction != MEC4J_DIRECTION_BACKWARD_WEIGHTS)
    st = MEC4J_ERROR_INVALID_ARGUMENT;
  else if (p.s.activated)
    st = MEC4J_ERROR_UNSUPPORTED;  // the passes differentiate the convolution alone
  else
    st = found->backward(direction).check ? found->backward(direction).check(p) : MEC4J_ERROR_UNSUPPORTED;
  if (st != MEC4J_OK) return st;
  *impl = found;
  return MEC4J_OK;
}

int64_t mec_workspace_elems(const Plan& p, MecSolution solution) { return lowered_elems(p, solution); }

const ConvImpl* mec_resolved(const Plan& p, bool* measured) {
  const ConvImpl* chosen = measured_choice(p, mec_auto_workspace(p));
  *measured = chosen != nullptr;
  return chosen ? chosen : mec_heuristic(p);
}

const ConvImpl* mec_backward_resolved(const Plan& p, mec4j_direction d, bool* measured) {
  *measured = false;
  return d == MEC4J_DIRECTION_BACKWARD_DATA ? mec_backward_data_impl(p) : mec_backward_weights_heuristic(p);
}

}  // namespace mec4j
