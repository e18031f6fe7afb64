# Cross-compiles the native core for linux-arm64 with Debian's g++-aarch64-linux-gnu, and runs the
# built programs (ctest) through qemu-user: scripts/arm64-check.sh drives it, native/CMakePresets.json
# "linux-arm64" names it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MEC4J_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${MEC4J_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MEC4J_CROSS_TRIPLE}-g++)

# Debian's cross libc lives here; the BLAS comes from MEC4J_BLAS_ROOT (the preset's linux-arm64
# jar), found by path, so the host's libraries are never searched.
set(CMAKE_FIND_ROOT_PATH /usr/${MEC4J_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs every test program under qemu-user; -L lets the emulated loader find the cross libc.
find_program(MEC4J_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(MEC4J_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MEC4J_QEMU_AARCH64};-L;/usr/${MEC4J_CROSS_TRIPLE}")
endif()

# OpenBLAS's openblas_config.h declares hfloat16 as _Float16 for any GCC >= 12, but g++ 12 has
# _Float16 in C++ on x86-64 only: on aarch64 its half-precision type is __fp16 (mec4j never calls
# the half-precision BLAS; the typedef only has to compile).
set(CMAKE_CXX_FLAGS_INIT "-D_Float16=__fp16")
