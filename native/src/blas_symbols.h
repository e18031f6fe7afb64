// Internal: the loaded BLAS's vendor functions, found once with dlsym so that one binary serves
// OpenBLAS and MKL (null when the loaded BLAS lacks them).
#ifndef MEC4J_BLAS_SYMBOLS_H
#define MEC4J_BLAS_SYMBOLS_H

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

}  // namespace mec4j
#endif
