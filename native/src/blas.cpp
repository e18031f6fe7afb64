// The BLAS boundary: the GEMM calls and run-time facts about the BLAS that is loaded.
// Vendor functions are looked up with dlsym so that one binary serves OpenBLAS and MKL.
#include "blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "blas_symbols.h"
#include "parallel.h"

namespace mec4j {

void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
           int64_t ldc, float beta) {
  sgemm(Trans::No, Trans::No, m, n, k, a, lda, b, ldb, c, ldc, beta);
}

void sgemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, float beta) {
  rest_workers();  // the BLAS's threads get the cores mec4j's idle workers would spin on
  cblas_sgemm(CblasRowMajor, ta == Trans::Yes ? CblasTrans : CblasNoTrans, tb == Trans::Yes ? CblasTrans : CblasNoTrans,
              (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

namespace {
template <typename F>
F find(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}
}  // namespace

const BlasSymbols& blas_symbols() {
  static const BlasSymbols symbols{find<void (*)(char*, int)>("mkl_get_version_string"),
                                   find<int (*)()>("MKL_Get_Max_Threads"),
                                   find<void (*)(int)>("MKL_Set_Num_Threads"),
                                   find<int (*)(int)>("MKL_Set_Num_Threads_Local"),
                                   find<char* (*)()>("openblas_get_config"),
                                   find<int (*)()>("openblas_get_num_threads"),
                                   find<void (*)(int)>("openblas_set_num_threads")};
  return symbols;
}

namespace {
void copy(char* dst, size_t cap, const char* src) { std::snprintf(dst, cap, "%s", src ? src : ""); }
}  // namespace
void blas_query(mec4j_blas_info* info) {
  std::memset(info, 0, sizeof(*info));
  // The file cblas_sgemm comes from cannot change while the process runs: looked up once (dladdr
  // walks every loaded object).
  static const struct Library {
    char path[sizeof info->library] = "";
    Library() {
      Dl_info where;
      if (dladdr(reinterpret_cast<void*>(&cblas_sgemm), &where) && where.dli_fname)
        copy(path, sizeof path, where.dli_fname);
    }
  } library;
  copy(info->library, sizeof info->library, library.path);
  info->threads = -1;
  // MKL first: MKL's runtime also answers some openblas_* names in compatibility layers.
  const BlasSymbols& b = blas_symbols();
  auto mkl_version = b.mkl_version;
  auto mkl_threads = b.mkl_get_max;
  auto ob_config = b.ob_config;
  auto ob_threads = b.ob_get;
  if (mkl_version) {
    copy(info->vendor, sizeof info->vendor, "Intel MKL");
    // MKL pads with blanks and does not terminate a full buffer.
    mkl_version(info->version, (int)sizeof info->version - 1);
    info->version[sizeof info->version - 1] = '\0';
    for (size_t i = std::strlen(info->version); i > 0 && info->version[i - 1] == ' '; --i) info->version[i - 1] = '\0';
    if (mkl_threads) info->threads = mkl_threads();
  } else if (ob_config) {
    copy(info->vendor, sizeof info->vendor, "OpenBLAS");
    copy(info->version, sizeof info->version, ob_config());
    if (ob_threads) info->threads = ob_threads();
  } else {
    copy(info->vendor, sizeof info->vendor, "unknown");
  }
}

bool blas_set_threads(int threads) {
  const BlasSymbols& b = blas_symbols();
  if (b.mkl_set) {
    b.mkl_set(threads);
    return true;
  }
  if (b.ob_set) {
    b.ob_set(threads);
    return true;
  }
  return false;
}

}  // namespace mec4j
