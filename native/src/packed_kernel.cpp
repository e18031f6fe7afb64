// The packed-kernel format: a header (what the kernel was packed for), then per group the kernel
// packed in panels of the micro-kernel's nr columns (pack_igemm_kernel).
#include "packed_kernel.h"

#include "igemm.h"

namespace mec4j {

namespace {
// The packed kernel's header: what it was packed for, checked by every forward with it.
struct alignas(MEC4J_WORKSPACE_ALIGNMENT) PackedHeader {
  uint64_t magic;
  int64_t isa, nr, kc, k, n, groups;
};
constexpr uint64_t kPackedMagic = 0x6d6563346a706b31ull;  // "mec4jpk1"

PackedHeader packed_header(const Plan& p) {
  return PackedHeader{kPackedMagic, p.isa, p.igemm->nr, p.igemm->kc, p.s.group_patch, p.s.kc, p.s.g};
}
}  // namespace

mec4j_status packed_kernel_bytes(const Plan& p, int64_t* bytes) {
  if (p.s.nchw) return MEC4J_ERROR_UNSUPPORTED;  // the OIHW kernel is read as it is
  int64_t floats;  // per group: k_h*k_w*i_c/g rows, k_c/g columns rounded up to the tile width
  if (!mul(p.s.group_patch, (p.s.kcg + p.igemm->nr - 1) / p.igemm->nr * p.igemm->nr, &floats) ||
      !mul(floats, p.s.g, &floats) || !mul(floats, (int64_t)sizeof(float), bytes) ||
      !add(*bytes, (int64_t)sizeof(PackedHeader), bytes))
    return MEC4J_ERROR_SIZE_OVERFLOW;
  return MEC4J_OK;
}

void pack_kernel(const Plan& p, const float* kernel, void* packed) {
  auto* header = static_cast<PackedHeader*>(packed);
  *header = packed_header(p);
  float* dst = reinterpret_cast<float*>(header + 1);
  const int64_t group_floats = packed_group_floats(*p.igemm, p.s.group_patch, p.s.kcg);
  for (int64_t grp = 0; grp < p.s.g; ++grp)
    pack_igemm_kernel(*p.igemm, kernel + grp * p.s.group_patch * p.s.kcg, p.s.group_patch, p.s.kcg,
                      dst + grp * group_floats);
}

mec4j_status packed_kernel_check(const Plan& p, const void* packed) {
  const auto* header = static_cast<const PackedHeader*>(packed);
  const PackedHeader want = packed_header(p);
  if (header->magic != want.magic || header->isa != want.isa || header->nr != want.nr || header->kc != want.kc ||
      header->k != want.k || header->n != want.n || header->groups != want.groups)
    return MEC4J_ERROR_INVALID_ARGUMENT;                   // another layer's, or another ISA's layout
  if (p.s.column_tiled()) return MEC4J_ERROR_UNSUPPORTED;  // column tiles run Solution B on the plain kernel
  if (p.s.nchw) return MEC4J_ERROR_UNSUPPORTED;
  return MEC4J_OK;
}

int64_t packed_workspace_elems(const Plan& p) { return mec_workspace_elems(p, MecSolution::Fused); }

const float* packed_floats(const void* packed) {
  return reinterpret_cast<const float*>(static_cast<const PackedHeader*>(packed) + 1);
}

}  // namespace mec4j
