// Internal: the one ordered list of convolution implementations (oneDNN's
// cpu_convolution_list.cpp). Each entry says whether it runs a layer on this CPU, how much
// workspace it needs and runs it; the C API (c_api.cpp) only asks this list.
#ifndef MEC4J_IMPL_LIST_H
#define MEC4J_IMPL_LIST_H

#include <cstddef>
#include <cstdint>

#include "configs/igemm_config.h"
#include "mec.h"
#include "shape.h"

namespace mec4j {

// A checked layer and what this call runs on: the kernel config follows the effective ISA.
struct Plan {
  Shape s;
  mec4j_isa isa;
  const IgemmConfig* igemm;
  int threads;
};

struct ConvBuffers {
  const float* in;
  const float* kernel;
  const float* bias;
  float* out;
  float* ws;
};

// The backward passes' buffers: data reads grad_out and kernel and writes grad_in; weights reads
// in and grad_out and writes grad_kernel and grad_bias (may be null).
struct BackwardBuffers {
  const float* in;
  const float* grad_out;
  const float* kernel;
  float* grad_in;
  float* grad_kernel;
  float* grad_bias;
  float* ws;
};

struct ConvImpl {
  mec4j_algorithm algorithm;
  const char* name;
  bool mec_variant;  // one of the variants the automatic MEC chooses among
  // Whether its forward pass reads NCHW tensors: not at all, in the default workspace only, or
  // under any workspace limit.
  enum class Nchw { No, DefaultWorkspace, AnyWorkspace } nchw;
  // MEC4J_OK if it runs this layer, else why not (checked before workspace_elems and run).
  mec4j_status (*check)(const Plan&);
  int64_t (*workspace_elems)(const Plan&);
  void (*run)(const Plan&, const ConvBuffers&);
  // The backward passes, as check, workspace and run; a null check: the implementation has none.
  struct Backward {
    mec4j_status (*check)(const Plan&);
    int64_t (*workspace_elems)(const Plan&);
    void (*run)(const Plan&, const BackwardBuffers&);
  } backward_data, backward_weights;
  // The forward pass with a kernel packed by mec4j_pack_kernel (packed_kernel.h), b.kernel then
  // the packed floats; null for an implementation that takes no packed kernel.
  void (*run_packed)(const Plan&, const ConvBuffers&);
  const Backward& backward(mec4j_direction d) const {
    return d == MEC4J_DIRECTION_BACKWARD_DATA ? backward_data : backward_weights;
  }
};

// The entry of an algorithm (the list itself, in preference order, is impl_list.cpp's).
const ConvImpl* find_impl(mec4j_algorithm algorithm);
// The implementation that runs `algorithm` in `direction` on the plan's layer (the MEC entry
// itself for MEC), or why none does.
mec4j_status impl_for(const Plan& p, mec4j_algorithm algorithm, mec4j_direction direction, const ConvImpl** impl);
// The implementation that runs packed kernels: the list's entry that has run_packed.
const ConvImpl* packed_impl();
// The workspace a MEC solution needs on the plan's layer, in floats.
int64_t mec_workspace_elems(const Plan& p, MecSolution solution);

// The automatic MEC's variant for the plan: the measured one when the layer has been measured
// (*measured = true), else the heuristic's.
const ConvImpl* mec_resolved(const Plan& p, bool* measured);
// The automatic MEC's implementation of a backward pass (as mec_resolved).
const ConvImpl* mec_backward_resolved(const Plan& p, mec4j_direction d, bool* measured);

}  // namespace mec4j
#endif
