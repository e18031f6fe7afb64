// The C API (mec4j.h): every extern "C" function, each checking its arguments, planning the call
// (the checked layer, the ISA, the micro-kernel config, the threads) and handing it to the
// implementation list (impl_list.h), the tuner, the packed-kernel format or the BLAS probe.
#include <cstdint>
#include <cstdlib>
#include <new>

#include "blas.h"
#include "configs/igemm_config.h"
#include "depthwise.h"
#include "impl_list.h"
#include "isa.h"
#include "mec4j.h"
#include "packed_kernel.h"
#include "parallel.h"
#include "shape.h"
#include "stream_stores.h"
#include "tuner.h"
#include "workspace.h"

namespace mec4j {
namespace {

// The checked layer and what this call runs on; with impl, also the implementation that runs
// `algorithm` in `direction` on it (the MEC entry itself for MEC).
mec4j_status plan(const mec4j_conv2d* conv, Plan* p, mec4j_algorithm algorithm = MEC4J_ALGORITHM_MEC_FUSED,
                  const ConvImpl** impl = nullptr, mec4j_direction direction = MEC4J_DIRECTION_FORWARD) {
  mec4j_status st = make_shape(conv, &p->s, nullptr);
  if (st != MEC4J_OK) return st;
  if ((st = effective_isa(&p->isa)) != MEC4J_OK) return st;
  mec4j_tuning tuning;
  if ((st = tuning_mode(&tuning)) != MEC4J_OK) return st;
  if ((st = gemm_parallel_status()) != MEC4J_OK) return st;
  if ((st = stream_stores_status()) != MEC4J_OK) return st;
  p->igemm = igemm_config(p->isa, p->s.kcg);
  p->threads = available_threads();
  return impl ? impl_for(*p, algorithm, direction, impl) : MEC4J_OK;
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
}  // namespace mec4j

using namespace mec4j;

extern "C" {

mec4j_status mec4j_conv2d_check(const mec4j_conv2d* conv, const char** bad_field) {
  Shape s;
  return make_shape(conv, &s, bad_field);
}

mec4j_status mec4j_output_size(const mec4j_conv2d* conv, int64_t* oh, int64_t* ow) {
  if (!oh || !ow) return MEC4J_ERROR_NULL_ARGUMENT;
  Shape s;
  mec4j_status st = make_shape(conv, &s, nullptr);
  if (st != MEC4J_OK) return st;
  *oh = s.oh;
  *ow = s.ow;
  return MEC4J_OK;
}

mec4j_status mec4j_min_workspace_limit(const mec4j_conv2d* conv, int64_t* bytes) {
  if (!conv || !bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  mec4j_conv2d uncapped = *conv;  // the layer's own limit may be the one in question
  uncapped.mec_workspace_limit = -1;
  Shape s;
  mec4j_status st = make_shape(&uncapped, &s, nullptr);
  if (st != MEC4J_OK) return st;
  *bytes = s.smallest_mec_tile() * (int64_t)sizeof(float);  // at most L's bytes, which make_shape checked
  return MEC4J_OK;
}

const char* mec4j_status_string(mec4j_status st) {
  switch (st) {
    case MEC4J_OK:
      return "ok";
    case MEC4J_ERROR_NULL_ARGUMENT:
      return "a required pointer is null";
    case MEC4J_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case MEC4J_ERROR_SIZE_OVERFLOW:
      return "a size overflows 64 bits";
    case MEC4J_ERROR_UNSUPPORTED:
      return "unsupported by this algorithm (groups or dilation it does not take, a layer that is not depthwise for "
             "DEPTHWISE, a backward pass it does not have (MEC_A, MEC_B; MEC_FUSED's strided backward data; any "
             "algorithm's on a layer with a fused activation), NCHW tensors (forward passes of REFERENCE, MEC and "
             "MEC_FUSED only, without a workspace limit), a GEMM size beyond the BLAS int range, or Solution A with "
             "|O| > |L| or with single-image tiles)";
    case MEC4J_ERROR_WORKSPACE_TOO_SMALL:
      return "workspace too small";
    case MEC4J_ERROR_WORKSPACE_MISALIGNED:
      return "workspace not 64-byte aligned";
    case MEC4J_ERROR_OUT_OF_MEMORY:
      return "out of memory";
    case MEC4J_ERROR_UNKNOWN_ALGORITHM:
      return "unknown algorithm";
    case MEC4J_ERROR_INTERNAL:
      return "internal error";
    case MEC4J_ERROR_WORKSPACE_LIMIT:
      return "workspace limit below MEC's smallest tile (one output row band, or one output column, of one image)";
    case MEC4J_ERROR_BAD_ENVIRONMENT:
#if defined(__aarch64__)
      return "unknown value of MEC4J_MAX_ISA (accepted on aarch64: neon, portable, best; avx512 and avx2 are "
             "x86-64's), MEC4J_TUNING (accepted: measure, heuristic), MEC4J_GEMM_PARALLEL (accepted: auto, blas, "
             "split) or MEC4J_STREAM_STORES (accepted: auto, on, off)";
#else
      return "unknown value of MEC4J_MAX_ISA (accepted: avx512, avx2, portable, best), MEC4J_TUNING (accepted: "
             "measure, heuristic), MEC4J_GEMM_PARALLEL (accepted: auto, blas, split) or MEC4J_STREAM_STORES (accepted: "
             "auto, on, off)";
#endif
  }
  return "unknown status";
}

mec4j_status mec4j_resolve_algorithm_ex(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_algorithm* resolved,
                                        int32_t* measured) {
  if (!resolved) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, &p, a, &impl);
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
  mec4j_status st = plan(conv, &p, a, &impl, direction);
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
  mec4j_status st = plan(conv, &p, a, &impl);
  if (st != MEC4J_OK) return st;
  *bytes = impl->workspace_elems(p) * (int64_t)sizeof(float);  // overflow excluded by make_shape
  return MEC4J_OK;
}

mec4j_status mec4j_workspace_size_for(const mec4j_conv2d* conv, mec4j_algorithm a, mec4j_direction direction,
                                      int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  const ConvImpl* impl = nullptr;
  mec4j_status st = plan(conv, &p, a, &impl, direction);
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
  mec4j_status st = plan(conv, &p, a, &impl, MEC4J_DIRECTION_BACKWARD_DATA);
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
  mec4j_status st = plan(conv, &p, a, &impl, MEC4J_DIRECTION_BACKWARD_WEIGHTS);
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
  mec4j_status st = plan(conv, &p, a, &impl);
  if (st != MEC4J_OK) return st;
  if (!input || !kernel || !output) return MEC4J_ERROR_NULL_ARGUMENT;
  st = check_workspace(impl->workspace_elems(p), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] { impl->run(p, ConvBuffers{input, kernel, bias, output, static_cast<float*>(workspace)}); });
}

mec4j_status mec4j_packed_kernel_size(const mec4j_conv2d* conv, int64_t* bytes) {
  if (!bytes) return MEC4J_ERROR_NULL_ARGUMENT;
  Plan p;
  mec4j_status st = plan(conv, &p);
  return st != MEC4J_OK ? st : packed_kernel_bytes(p, bytes);
}

mec4j_status mec4j_pack_kernel(const mec4j_conv2d* conv, const float* kernel, void* packed, int64_t packed_size) {
  Plan p;
  int64_t need = 0;
  mec4j_status st = plan(conv, &p);
  if (st == MEC4J_OK) st = packed_kernel_bytes(p, &need);
  if (st != MEC4J_OK) return st;
  if (!kernel || !packed) return MEC4J_ERROR_NULL_ARGUMENT;
  if (packed_size < need) return MEC4J_ERROR_WORKSPACE_TOO_SMALL;
  if (reinterpret_cast<uintptr_t>(packed) % MEC4J_WORKSPACE_ALIGNMENT != 0) return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  pack_kernel(p, kernel, packed);
  return MEC4J_OK;
}

mec4j_status mec4j_conv2d_forward_packed(const mec4j_conv2d* conv, const float* input, const void* packed,
                                         const float* bias, float* output, void* workspace, int64_t workspace_bytes) {
  Plan p;
  mec4j_status st = plan(conv, &p);
  if (st != MEC4J_OK) return st;
  if (!input || !packed || !output) return MEC4J_ERROR_NULL_ARGUMENT;
  if (reinterpret_cast<uintptr_t>(packed) % MEC4J_WORKSPACE_ALIGNMENT != 0) return MEC4J_ERROR_WORKSPACE_MISALIGNED;
  if ((st = packed_kernel_check(p, packed)) != MEC4J_OK) return st;
  st = check_workspace(packed_workspace_elems(p), workspace, workspace_bytes);
  if (st != MEC4J_OK) return st;
  return run_guarded([&] {
    packed_impl()->run_packed(p,
                              ConvBuffers{input, packed_floats(packed), bias, output, static_cast<float*>(workspace)});
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
  set_tuning_mode(t);
  return MEC4J_OK;
}

mec4j_status mec4j_get_tuning(mec4j_tuning* t) {
  if (!t) return MEC4J_ERROR_NULL_ARGUMENT;
  return tuning_mode(t);
}

// --- Process-wide settings: the ISA cap, the BLAS, workspace memory ---

mec4j_status mec4j_set_max_isa(mec4j_isa isa) { return set_max_isa(isa); }

mec4j_status mec4j_get_max_isa(mec4j_isa* isa) {
  if (!isa) return MEC4J_ERROR_NULL_ARGUMENT;
  return max_isa(isa);
}

mec4j_status mec4j_get_effective_isa(mec4j_isa* isa) {
  if (!isa) return MEC4J_ERROR_NULL_ARGUMENT;
  return effective_isa(isa);
}

mec4j_isa mec4j_get_host_isa(void) { return host_isa(); }

const char* mec4j_isa_name(mec4j_isa isa) { return isa_name(isa); }

mec4j_status mec4j_blas_query(mec4j_blas_info* info) {
  if (!info) return MEC4J_ERROR_NULL_ARGUMENT;
  blas_query(info);
  return MEC4J_OK;
}

mec4j_status mec4j_blas_set_threads(int32_t threads) {
  if (threads < 1) return MEC4J_ERROR_INVALID_ARGUMENT;
  return blas_set_threads(threads) ? MEC4J_OK : MEC4J_ERROR_UNSUPPORTED;
}

void* mec4j_workspace_alloc(int64_t bytes) { return workspace_alloc(bytes); }

void mec4j_workspace_free(void* workspace) { std::free(workspace); }

}  // extern "C"
