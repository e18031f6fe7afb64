// Internal: the packed-kernel format (mec4j_pack_kernel): MEC_FUSED's kernel packed once for the
// micro-kernel of this call's ISA, behind a header that says what it was packed for.
#ifndef MEC4J_PACKED_KERNEL_H
#define MEC4J_PACKED_KERNEL_H

#include <cstdint>

#include "impl_list.h"

namespace mec4j {

// The packed kernel's size for the plan's layer, header included.
mec4j_status packed_kernel_bytes(const Plan& p, int64_t* bytes);
// Writes the header and the packed kernel (packed_kernel_bytes(p) bytes, aligned) into packed.
void pack_kernel(const Plan& p, const float* kernel, void* packed);
// MEC4J_OK if `packed` was packed for this layer, ISA and micro-kernel and packed_impl() runs the
// layer; else why not.
mec4j_status packed_kernel_check(const Plan& p, const void* packed);
// The workspace packed_impl()'s run_packed needs, in floats.
int64_t packed_workspace_elems(const Plan& p);
// The packed floats behind the header (what run_packed reads as the kernel).
const float* packed_floats(const void* packed);

}  // namespace mec4j
#endif
