/*
 * mec4j: memory-efficient 2-D convolution (MEC, Cho & Brand, ICML 2017) over cblas_sgemm.
 *
 * One public header, a C API with status codes. Lifecycle (as in XNNPACK):
 *   1. describe the layer in a mec4j_conv2d and check it: mec4j_conv2d_check()
 *   2. ask how much scratch memory an algorithm needs: mec4j_workspace_size()
 *   3. supply that workspace (64-byte aligned; mec4j_workspace_alloc() gives one) and run
 *      mec4j_conv2d_forward() as often as you like.
 *
 * Layouts (row-major, fp32): input NHWC, kernel HWIO (k_h x k_w x i_c x k_c), output NHWC,
 * optional bias of k_c floats. Padding is implicit zeros, written during lowering.
 * All sizes are 64-bit; every size computation is overflow-checked.
 * No function aborts, throws or prints: each reports a mec4j_status.
 */
#ifndef MEC4J_H
#define MEC4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mec4j_status {
  MEC4J_OK = 0,
  MEC4J_ERROR_NULL_ARGUMENT = 1,      /* a required pointer is NULL */
  MEC4J_ERROR_INVALID_ARGUMENT = 2,   /* a size, stride or padding is out of range */
  MEC4J_ERROR_SIZE_OVERFLOW = 3,      /* an element count or byte size overflows 64 bits */
  MEC4J_ERROR_UNSUPPORTED = 4,        /* valid, but not for this algorithm: a GEMM dimension exceeds
                                         the BLAS int range, or Solution A with |O| > |L| */
  MEC4J_ERROR_WORKSPACE_TOO_SMALL = 5,
  MEC4J_ERROR_WORKSPACE_MISALIGNED = 6, /* the workspace is not MEC4J_WORKSPACE_ALIGNMENT-aligned */
  MEC4J_ERROR_OUT_OF_MEMORY = 7,
  MEC4J_ERROR_UNKNOWN_ALGORITHM = 8,
  MEC4J_ERROR_INTERNAL = 9,
  MEC4J_ERROR_WORKSPACE_LIMIT = 10    /* mec_workspace_limit is below MEC's smallest tile */
} mec4j_status;

/* Implementations, by role. MEC chooses among its variants per layer (mec4j_resolve_algorithm). */
typedef enum mec4j_algorithm {
  MEC4J_ALGORITHM_REFERENCE = 0, /* direct loops, double accumulation: the test oracle, no workspace */
  MEC4J_ALGORITHM_IM2COL = 1,    /* im2col of the whole mini-batch + one sgemm */
  MEC4J_ALGORITHM_MEC = 2,       /* MEC, the variant (A, B, ROWS or FUSED) chosen per layer */
  MEC4J_ALGORITHM_MEC_A = 3,     /* MEC, Solution A forced: o_h GEMMs over the whole batch */
  MEC4J_ALGORITHM_MEC_B = 4,     /* MEC, Solution B forced: i_n * o_h GEMMs, NHWC written directly */
  MEC4J_ALGORITHM_MEC_ROWS = 5,  /* MEC's workspace in row order: k_h GEMMs (M = o_h*o_w) per image,
                                    accumulated; the batch is folded in when |O| <= |L| */
  MEC4J_ALGORITHM_MEC_FUSED = 6  /* MEC_ROWS's workspace, multiplied by mec4j's own GEMM, which reads
                                    the k_h row windows in place as one K = k_h*k_w*i_c matrix
                                    (x86-64 with AVX2+FMA; MEC4J_ERROR_UNSUPPORTED elsewhere) */
} mec4j_algorithm;

/* Alignment, in bytes, that every workspace must have. */
#define MEC4J_WORKSPACE_ALIGNMENT 64

/* Default threshold T of the MEC A/B rule (see README, "Choosing the MEC variant (and T)"). */
#define MEC4J_DEFAULT_MEC_THRESHOLD 80

typedef struct mec4j_conv2d {
  int64_t batch;                 /* i_n */
  int64_t in_height, in_width;   /* i_h, i_w (unpadded) */
  int64_t in_channels;           /* i_c */
  int64_t kernel_height, kernel_width; /* k_h, k_w */
  int64_t out_channels;          /* k_c */
  int64_t stride_height, stride_width; /* s_h, s_w */
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  /* Solution A is used when o_w <= mec_threshold and |O| <= |L|; <= 0 means the default. */
  int64_t mec_threshold;
  /* MEC only: > 0 caps MEC's workspace at this many bytes. MEC then works on tiles: groups of
   * images, or, when one image is too large, groups of output columns (with Solution B).
   * mec4j_workspace_size() reports the capped size. <= 0: no cap. */
  int64_t mec_workspace_limit;
} mec4j_conv2d;

/* Checks every field. On failure, if bad_field is not NULL, it receives the offending field's
 * name (a static string, e.g. "stride_width"). */
mec4j_status mec4j_conv2d_check(const mec4j_conv2d* conv, const char** bad_field);

mec4j_status mec4j_output_size(const mec4j_conv2d* conv, int64_t* out_height, int64_t* out_width);

/* Scratch bytes the algorithm needs (0 for the reference). MEC: 4 * i_n*o_w*i_h*k_w*i_c
 * (i_h padded); im2col: 4 * i_n*o_h*o_w*k_h*k_w*i_c. */
mec4j_status mec4j_workspace_size(const mec4j_conv2d* conv, mec4j_algorithm algorithm,
                                  int64_t* bytes);

/* The variant the automatic MEC would run for this layer: MEC4J_ALGORITHM_MEC_A, _MEC_B,
 * _MEC_ROWS or _MEC_FUSED (other algorithms are returned unchanged). */
mec4j_status mec4j_resolve_algorithm(const mec4j_conv2d* conv, mec4j_algorithm algorithm,
                                     mec4j_algorithm* resolved);

/* output = conv(input, kernel) (+ bias if not NULL). workspace may be NULL only when the
 * algorithm needs 0 bytes. On any error status, output is left untouched. */
mec4j_status mec4j_conv2d_forward(const mec4j_conv2d* conv, mec4j_algorithm algorithm,
                                  const float* input, const float* kernel, const float* bias,
                                  float* output, void* workspace, int64_t workspace_bytes);

/* Aligned workspace memory (2 MiB huge pages are requested for large blocks). Returns NULL on
 * failure or for bytes <= 0. Free with mec4j_workspace_free. */
void* mec4j_workspace_alloc(int64_t bytes);
void mec4j_workspace_free(void* workspace);

const char* mec4j_status_string(mec4j_status status);
const char* mec4j_algorithm_name(mec4j_algorithm algorithm);

/* The BLAS actually loaded in this process (found at run time, not assumed). */
typedef struct mec4j_blas_info {
  char vendor[32];   /* "OpenBLAS", "Intel MKL" or "unknown" */
  char version[256]; /* openblas_get_config() or mkl_get_version_string() */
  char library[512]; /* file that provides cblas_sgemm (dladdr) */
  int32_t threads;   /* the BLAS's current thread count, or -1 if it cannot be asked */
} mec4j_blas_info;

mec4j_status mec4j_blas_query(mec4j_blas_info* info);

/* Sets the loaded BLAS's thread count (openblas_set_num_threads or MKL_Set_Num_Threads). */
mec4j_status mec4j_blas_set_threads(int32_t threads);

#ifdef __cplusplus
}
#endif
#endif /* MEC4J_H */
