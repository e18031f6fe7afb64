# Finds the CBLAS header and library mec4j compiles and links against.
#
# The Maven build passes the OpenBLAS preset's unpacked folder as MEC4J_BLAS_ROOT (it holds
# include/cblas.h and libopenblas.so.0). Without it, a system OpenBLAS is searched
# (e.g. Debian's libopenblas-dev), so the native core also builds on its own.
#
# Defines the imported target mec4j::blas, and MEC4J_BLAS_LINK_DIR: a folder holding a GNU ld
# script libopenblas.so -> libopenblas.so.0, because the preset ships only the versioned file and
# JavaCPP links with -lopenblas.

set(MEC4J_BLAS_ROOT "" CACHE PATH "Folder with include/cblas.h and libopenblas.so.0")

if(MEC4J_BLAS_ROOT)
  # NO_CMAKE_FIND_ROOT_PATH: a cross toolchain's sysroot must not be prefixed to this folder.
  find_path(MEC4J_BLAS_INCLUDE_DIR cblas.h PATHS "${MEC4J_BLAS_ROOT}/include" NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  find_file(MEC4J_BLAS_LIBRARY NAMES libopenblas.so.0 libopenblas.so PATHS "${MEC4J_BLAS_ROOT}"
            "${MEC4J_BLAS_ROOT}/lib" NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
else()
  find_path(MEC4J_BLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu/openblas-pthread)
  find_library(MEC4J_BLAS_LIBRARY NAMES openblas)
endif()

if(NOT MEC4J_BLAS_INCLUDE_DIR OR NOT MEC4J_BLAS_LIBRARY)
  message(FATAL_ERROR "mec4j: no CBLAS found (header: '${MEC4J_BLAS_INCLUDE_DIR}', library: "
                      "'${MEC4J_BLAS_LIBRARY}'). Set MEC4J_BLAS_ROOT to a folder with "
                      "include/cblas.h and libopenblas.so.0, or install libopenblas-dev.")
endif()
message(STATUS "mec4j: CBLAS header ${MEC4J_BLAS_INCLUDE_DIR}, library ${MEC4J_BLAS_LIBRARY}")

add_library(mec4j::blas UNKNOWN IMPORTED)
set_target_properties(mec4j::blas PROPERTIES
  IMPORTED_LOCATION "${MEC4J_BLAS_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${MEC4J_BLAS_INCLUDE_DIR}")

get_filename_component(_mec4j_blas_dir "${MEC4J_BLAS_LIBRARY}" DIRECTORY)
get_filename_component(_mec4j_blas_name "${MEC4J_BLAS_LIBRARY}" NAME)
set(MEC4J_BLAS_LINK_DIR "${CMAKE_BINARY_DIR}/blas-link")
file(WRITE "${MEC4J_BLAS_LINK_DIR}/libopenblas.so" "INPUT(${_mec4j_blas_name})\n")
file(CREATE_LINK "${MEC4J_BLAS_LIBRARY}" "${MEC4J_BLAS_LINK_DIR}/${_mec4j_blas_name}" SYMBOLIC)
