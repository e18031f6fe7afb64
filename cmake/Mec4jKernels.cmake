# The micro-kernel sources and the compile flags of each ISA. On x86-64 every ISA's kernels are
# built (MEC4J_HAVE_X86_KERNELS), whatever the build machine runs; on aarch64 the NEON tiles
# (MEC4J_HAVE_AARCH64_KERNELS, no flags: NEON is aarch64's baseline); elsewhere only the portable ones.
set(MEC4J_KERNEL_DIR "${CMAKE_CURRENT_LIST_DIR}/../native/src/ukernels")
set(MEC4J_X86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(MEC4J_X86 ON)
endif()
set(MEC4J_AARCH64 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(MEC4J_AARCH64 ON)
endif()
# Kernels contract a*b+c into FMA; the rest of the core keeps ISO rounding.
set(MEC4J_KERNEL_COMMON_FLAGS -ffp-contract=fast)
# The fuzzer's build: no comparison tracing in the kernels' loops (a callback per iteration
# would be most of the run time; their branches are still covered).
if(MEC4J_FUZZ)
  list(APPEND MEC4J_KERNEL_COMMON_FLAGS -fno-sanitize-coverage=trace-cmp)
endif()

function(mec4j_add_kernels target)
  target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-igemm-4x8-portable.cpp")
  set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-igemm-4x8-portable.cpp" PROPERTIES
    COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS}")
  target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-dwconv-4x8-portable.cpp"
                                   "${MEC4J_KERNEL_DIR}/f32-transpose-4x4-portable.cpp")
  set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-dwconv-4x8-portable.cpp"
                              "${MEC4J_KERNEL_DIR}/f32-transpose-4x4-portable.cpp" PROPERTIES
    COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS}")
  if(MEC4J_X86)
    target_compile_definitions(${target} PRIVATE MEC4J_HAVE_X86_KERNELS=1)
    target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-igemm-6x16-avx2-fma.cpp"
                                     "${MEC4J_KERNEL_DIR}/f32-igemm-12x32-avx512f.cpp"
                                     "${MEC4J_KERNEL_DIR}/f32-igemm-6x64-avx512f.cpp"
                                     "${MEC4J_KERNEL_DIR}/f32-igemm-16x16-avx512f.cpp")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-igemm-6x16-avx2-fma.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx2;-mfma")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-igemm-12x32-avx512f.cpp"
                                "${MEC4J_KERNEL_DIR}/f32-igemm-6x64-avx512f.cpp"
                                "${MEC4J_KERNEL_DIR}/f32-igemm-16x16-avx512f.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx512f;-mavx2;-mfma")
    target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-dwconv-3x32-avx2-fma.cpp"
                                     "${MEC4J_KERNEL_DIR}/f32-dwconv-6x32-avx512f.cpp")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-dwconv-3x32-avx2-fma.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx2;-mfma")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-dwconv-6x32-avx512f.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx512f;-mavx2;-mfma")
    target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-transpose-8x8-avx2.cpp"
                                     "${MEC4J_KERNEL_DIR}/f32-transpose-16x16-avx512f.cpp")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-transpose-8x8-avx2.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx2")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-transpose-16x16-avx512f.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx512f;-mavx2")
  endif()
  if(MEC4J_AARCH64)
    target_compile_definitions(${target} PRIVATE MEC4J_HAVE_AARCH64_KERNELS=1)
    target_sources(${target} PRIVATE "${MEC4J_KERNEL_DIR}/f32-igemm-8x8-neon.cpp")
    set_source_files_properties("${MEC4J_KERNEL_DIR}/f32-igemm-8x8-neon.cpp" PROPERTIES
      COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS}")
  endif()
endfunction()

# A test-only kernel: a wider tile built for the host's ISA (e.g. AVX-512's 12x32 igemm as two
# AVX2 halves), so that the tiling logic of an ISA this machine lacks runs here.
function(mec4j_add_kernel_emulation target file)
  if(MEC4J_X86)
    set(src "${CMAKE_CURRENT_LIST_DIR}/../native/tests/${file}")
    target_sources(${target} PRIVATE "${src}")
    # -Wno-psabi: 64-byte vectors pass through inlined helpers only, never across an ABI boundary.
    set_source_files_properties("${src}" PROPERTIES COMPILE_OPTIONS "${MEC4J_KERNEL_COMMON_FLAGS};-mavx2;-mfma;-Wno-psabi")
    target_compile_definitions(${target} PRIVATE MEC4J_HAVE_X86_KERNELS=1)
  endif()
endfunction()
