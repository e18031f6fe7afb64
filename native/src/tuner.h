// Internal: the automatic MEC's measured choice (MEC4J_TUNING / mec4j_set_tuning): under MEASURE
// each layer's variants are timed on its first run and the winner kept, per layer, thread count
// and ISA, for the process's life.
#ifndef MEC4J_TUNER_H
#define MEC4J_TUNER_H

#include <cstdint>
#include <vector>

#include "impl_list.h"

namespace mec4j {

// The tuning mode in effect: MEC4J_TUNING (read once) until mec4j_set_tuning replaces it;
// MEC4J_ERROR_BAD_ENVIRONMENT when that variable is misspelt and no mode was set since.
mec4j_status tuning_mode(mec4j_tuning* tuning);
void set_tuning_mode(mec4j_tuning tuning);
// Under MEASURE, the variant measured for this layer (workspace_elems: the automatic MEC's
// workspace, which bounds the candidates), else null.
const ConvImpl* measured_choice(const Plan& p, int64_t workspace_elems);
// Runs `preferred`, or under MEASURE the measured choice among candidates(p), measuring them on
// this first call (the winner then runs last, so the output is its own).
void tuned_run(const Plan& p, int64_t workspace_elems, const ConvImpl* preferred,
               std::vector<const ConvImpl*> (*candidates)(const Plan&), const ConvBuffers& b);

// The choices inside implementations that tuned_option_run measures, each its own number.
constexpr int kTunedNchwWay = 1;  // MEC_FUSED on NCHW: through NHWC or the transposed GEMM

// Runs option `preferred` (of `options`, numbered from 0) of a choice inside an implementation
// (`what`: one of the numbers above), or under MEASURE the option measured fastest
// for this layer on its first call (each option run by run_option; the winner runs last).
void tuned_option_run(const Plan& p, int64_t workspace_elems, int what, int preferred, int options,
                      void (*run_option)(const void* context, int option), const void* context);

}  // namespace mec4j
#endif
