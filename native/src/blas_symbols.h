// Internal: the loaded BLAS's vendor functions, found once with dlsym so that one binary serves
// OpenBLAS and MKL (null when the loaded BLAS lacks them).
#ifndef MEC4J_BLAS_SYMBOLS_H
#define MEC4J_BLAS_SYMBOLS_H

#include "mec4j.h"

namespace mec4j {

struct BlasSymbols {
  void (*mkl_version)(char*, int);
  int (*mkl_get_max)();
  void (*mkl_set)(int);
  int (*mkl_set_local)(int);
  char* (*ob_config)();
  int (*ob_get)();
  void (*ob_set)(int);
};

const BlasSymbols& blas_symbols();

// Fills *info (mec4j_blas_query) with the loaded BLAS's vendor, version, library and threads.
void blas_query(mec4j_blas_info* info);
// Sets the BLAS's thread count through its vendor function; false when it has none.
bool blas_set_threads(int threads);

}  // namespace mec4j
#endif
