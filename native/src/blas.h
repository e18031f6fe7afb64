// Internal: the BLAS boundary: the GEMM calls, and run-time facts about the BLAS that is loaded.
#ifndef MEC4J_BLAS_H
#define MEC4J_BLAS_H

#include <cstdint>

#include "mec4j.h"

namespace mec4j {

// Row-major, no transposes: C[MxN] = A[MxK] * B[KxN] + beta * C.
void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
           int64_t ldc, float beta);
// The same with op(A) = A or its transpose (A then stored K x M), op(B) likewise (N x K).
enum class Trans { No, Yes };
void sgemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, float beta);
// Fills *info (mec4j_blas_query) with the loaded BLAS's vendor, version, library and threads.
void blas_query(mec4j_blas_info* info);
// Sets the BLAS's thread count through its vendor function; false when it has none.
bool blas_set_threads(int threads);

}  // namespace mec4j
#endif
