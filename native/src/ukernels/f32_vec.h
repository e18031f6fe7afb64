// Internal: the vector type of the micro-kernel templates (GCC vector extensions): VL floats, as
// one register of the ISA the including file is compiled for, with aligned and unaligned access.
#ifndef MEC4J_F32_VEC_H
#define MEC4J_F32_VEC_H

namespace mec4j {
namespace ukernel {

template <int VL>
struct F32Vec {
  typedef float Vec __attribute__((vector_size(VL * sizeof(float))));
  typedef float UnalignedVec __attribute__((vector_size(VL * sizeof(float)), aligned(sizeof(float))));

  static Vec load(const float* p) { return *reinterpret_cast<const UnalignedVec*>(p); }
  static Vec load_aligned(const float* p) { return *reinterpret_cast<const Vec*>(p); }
  static void store(float* p, Vec v) { *reinterpret_cast<UnalignedVec*>(p) = v; }
};

}  // namespace ukernel
}  // namespace mec4j
#endif
