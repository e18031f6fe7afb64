// mec4j_tests: the C API's native tests (forward_tests.cpp, ukernel_tests.cpp, api_tests.cpp).
// Arguments: [seed [random cases]], or --expect-bad-environment.
#include "mec4j_tests.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mec4j.h"
#include "test_support.h"

int main(int argc, char** argv) {
  if (argc > 1 && !std::strcmp(argv[1], "--expect-bad-environment")) return test_bad_environment();
  if (repeats_the_uncapped_run("mec4j_tests")) return SKIPPED;

  uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20170706;
  int cases = argc > 2 ? std::atoi(argv[2]) : 2000;
  test_forward_paper_example();
  test_workspace_formulas_on_cv_layers();
  test_api_refuses_bad_input();
  test_api_refuses_bad_activation();
  test_forward_nchw_matches_nhwc(seed, 300);
  test_isa_cap();
  test_ukernels_match_double_product(seed);
  test_transpose_ukernels(seed);
  test_pointwise_layers_need_no_lowering();
  test_measured_choice_is_stable(seed);
  test_packed_kernel_matches_mec_fused(seed);
  test_forward_large_shapes(seed);
  test_forward_known_answers();
  test_forward_random_shapes(seed, cases);
  mec4j_isa isa = MEC4J_ISA_BEST;
  mec4j_tuning tuning = MEC4J_TUNING_MEASURE;
  mec4j_get_effective_isa(&isa);
  mec4j_get_tuning(&tuning);
  std::printf("%s: %d failure(s); random shapes: %d (seed %llu); ISA %s (host %s), kernel %s, tuning %s\n",
              failures ? "FAILED" : "OK", failures, cases, (unsigned long long)seed, mec4j_isa_name(isa),
              mec4j_isa_name(mec4j_get_host_isa()), mec4j_kernel_name(),
              tuning == MEC4J_TUNING_MEASURE ? "measure" : "heuristic");
  return failures ? 1 : 0;
}
