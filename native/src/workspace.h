// Internal: workspace memory (mec4j_workspace_alloc). workspace.cpp is compiled once per core
// library: the test builds' mec4j_core_faults makes its allocations fail on demand.
#ifndef MEC4J_WORKSPACE_H
#define MEC4J_WORKSPACE_H

#include <cstdint>

#include "mec4j.h"

namespace mec4j {

// `bytes` of memory, 64-byte aligned (2 MiB, with huge pages asked for, from 2 MiB up), freed
// with std::free; null for bytes <= 0 or when the allocation fails.
void* workspace_alloc(int64_t bytes);

}  // namespace mec4j
#endif
