// The test functions of mec4j_tests, one file per subject: forward_tests.cpp, ukernel_tests.cpp,
// api_tests.cpp; main (mec4j_tests.cpp) runs them.
#ifndef MEC4J_TESTS_MEC4J_TESTS_H
#define MEC4J_TESTS_MEC4J_TESTS_H

#include <cstdint>

// forward_tests.cpp
void test_forward_paper_example();
void test_workspace_formulas_on_cv_layers();
void test_forward_nchw_matches_nhwc(uint64_t seed, int cases);
void test_pointwise_layers_need_no_lowering();
void test_forward_large_shapes(uint64_t seed);
void test_forward_known_answers();
void test_forward_random_shapes(uint64_t seed, int cases);
// ukernel_tests.cpp
void test_ukernels_match_double_product(uint64_t seed);
void test_transpose_ukernels(uint64_t seed);
// api_tests.cpp
void test_api_refuses_bad_input();
void test_api_refuses_bad_activation();
void test_isa_cap();
void test_measured_choice_is_stable(uint64_t seed);
void test_packed_kernel_matches_mec_fused(uint64_t seed);
// Run with a misspelt variable (ctest's mec4j_tests_misspelt_*): the exit status.
int test_bad_environment();

#endif
