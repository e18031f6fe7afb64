// Test builds only (CMake option MEC4J_FAULT_INJECTION, library mec4j_core_faults): allocations
// that fail on demand, so that tests and the fuzzer can check that every allocation failure
// becomes MEC4J_ERROR_OUT_OF_MEMORY with the outputs untouched and nothing leaked. Counted are
// every form of operator new (replaced in that build: std::vector, std::map, std::thread, ...)
// and mec4j_workspace_alloc, over all threads. The BLAS's own allocations are not.
#ifndef MEC4J_FAULT_INJECTION_H
#define MEC4J_FAULT_INJECTION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* From now on, allocation number nth (0: the next one) fails: operator new throws
 * std::bad_alloc (its nothrow forms return NULL) and mec4j_workspace_alloc returns NULL. With
 * persistent != 0 every later one fails too (memory that stays exhausted). nth < 0: none fails.
 * Resets both counters below. */
void mec4j_test_fail_allocation(int64_t nth, int persistent);
/* on != 0: a failing allocation of the throwing operator new forms throws an exception other
 * than std::bad_alloc, standing in for any unexpected exception inside the library: the
 * call must then return MEC4J_ERROR_INTERNAL with its outputs untouched. */
void mec4j_test_fail_with_other_exception(int on);
/* Allocations made, and allocations made to fail, since the last mec4j_test_fail_allocation. */
int64_t mec4j_test_allocations(void);
int64_t mec4j_test_failed_allocations(void);

#ifdef __cplusplus
}

namespace mec4j {
// Counts one allocation; true if it is to fail.
bool allocation_fails();
}  // namespace mec4j
#endif
#endif
