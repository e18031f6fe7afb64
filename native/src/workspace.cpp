// Workspace memory: 64-byte aligned always; large blocks on 2 MiB boundaries with transparent
// huge pages requested, which removes TLB-miss noise on the big lowered buffers.
#include "workspace.h"

#include <sys/mman.h>

#include <cstdlib>
#ifdef MEC4J_FAULT_INJECTION
#include "fault_injection.h"
#endif

namespace mec4j {

namespace {
constexpr int64_t kHugePage = int64_t{2} << 20;
}

void* workspace_alloc(int64_t bytes) {
  if (bytes <= 0) return nullptr;
#ifdef MEC4J_FAULT_INJECTION
  if (allocation_fails()) return nullptr;
#endif
  const int64_t align = bytes >= kHugePage ? kHugePage : MEC4J_WORKSPACE_ALIGNMENT;
  if (bytes > INT64_MAX - align) return nullptr;
  const int64_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(static_cast<size_t>(align), static_cast<size_t>(rounded));
#ifdef MADV_HUGEPAGE
  if (p && align == kHugePage) madvise(p, static_cast<size_t>(rounded), MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace mec4j
