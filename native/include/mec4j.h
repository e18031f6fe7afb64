/*
 * mec4j: memory-efficient 2-D convolution (MEC, Cho & Brand, ICML 2017): its own per-ISA
 * micro-kernels over MEC's lowering (or the input itself), or strided cblas_sgemm calls.
 *
 * One public header, a C API with status codes, no state between calls but the process-wide
 * settings (ISA cap, tuning mode, measured choices): every call plans and runs.
 *   1. describe the layer in a mec4j_conv2d and check it: mec4j_conv2d_check()
 *   2. ask how much scratch memory an algorithm needs: mec4j_workspace_size()
 *   3. supply that workspace (64-byte aligned; mec4j_workspace_alloc() gives one) and run
 *      mec4j_conv2d_forward() as often as you like (mec4j_pack_kernel packs the weights once).
 *
 * Layouts (row-major, fp32): input NHWC, kernel HWIO (k_h x k_w x i_c x k_c), output NHWC,
 * optional bias of k_c floats; or NCHW with an OIHW kernel (mec4j_conv2d::layout). With groups g, the kernel is g x k_h
 * x k_w x (i_c/g) x (k_c/g): each group's HWIO kernel in turn. Padding is implicit zeros, of any size >= 0 (outputs
 * that see only padding get the bias). All sizes are 64-bit; every size computation is overflow-checked. No function
 * aborts, throws or prints: each reports a mec4j_status.
 */
#ifndef MEC4J_H
#define MEC4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The enums below have int as their underlying type in C++ too (in C an enum holds any int
 * anyway): a caller may pass any int where one is expected (an unknown algorithm, say), and the
 * library, compiled as C++, must be able to hold that value to refuse it. Without a fixed type a
 * C++ enum's values stop at its enumerators' bit width, and holding another is undefined. */
#ifdef __cplusplus
#define MEC4J_ENUM(name) enum name : int
#else
#define MEC4J_ENUM(name) enum name
#endif

typedef MEC4J_ENUM(mec4j_status){
    MEC4J_OK = 0,
    MEC4J_ERROR_NULL_ARGUMENT = 1,    /* a required pointer is NULL */
    MEC4J_ERROR_INVALID_ARGUMENT = 2, /* a size, stride or padding is out of range */
    MEC4J_ERROR_SIZE_OVERFLOW = 3,    /* an element count or byte size overflows 64 bits */
    MEC4J_ERROR_UNSUPPORTED = 4,      /* valid, but not for this algorithm: groups or dilation it
                                         does not take, DEPTHWISE on a layer that is not depthwise, a
                                         backward pass it does not have (or of a layer with a fused
                                         activation), a GEMM dimension beyond the
                                         BLAS int range, or Solution A with |O| > |L| or tiles */
    MEC4J_ERROR_WORKSPACE_TOO_SMALL = 5,
    MEC4J_ERROR_WORKSPACE_MISALIGNED = 6, /* the workspace is not MEC4J_WORKSPACE_ALIGNMENT-aligned */
    MEC4J_ERROR_OUT_OF_MEMORY = 7,
    MEC4J_ERROR_UNKNOWN_ALGORITHM = 8,
    MEC4J_ERROR_INTERNAL = 9,
    MEC4J_ERROR_WORKSPACE_LIMIT = 10, /* mec_workspace_limit is below MEC's smallest tile */
    MEC4J_ERROR_BAD_ENVIRONMENT = 11  /* MEC4J_MAX_ISA, MEC4J_TUNING, MEC4J_GEMM_PARALLEL or
                                         MEC4J_STREAM_STORES has a value mec4j does not know
                                         (mec4j_status_string names the accepted ones) */
} mec4j_status;

/* Which pass of a convolution: the forward, or one of the two backward passes of training. */
typedef MEC4J_ENUM(mec4j_direction){
    MEC4J_DIRECTION_FORWARD = 0, MEC4J_DIRECTION_BACKWARD_DATA = 1, /* the gradient with respect to the input */
    MEC4J_DIRECTION_BACKWARD_WEIGHTS = 2 /* the gradients with respect to the kernel and the bias */
} mec4j_direction;

/* Implementations, by role. MEC chooses among its variants per layer (mec4j_resolve_algorithm). */
typedef MEC4J_ENUM(mec4j_algorithm){
    MEC4J_ALGORITHM_REFERENCE = 0, /* direct loops, double accumulation: the test oracle, no workspace */
    MEC4J_ALGORITHM_IM2COL = 1,    /* im2col of the whole mini-batch + one sgemm */
    MEC4J_ALGORITHM_MEC = 2,       /* MEC, the variant (A, B, ROWS or FUSED) chosen per layer */
    MEC4J_ALGORITHM_MEC_A = 3,     /* MEC, Solution A forced: o_h GEMMs over the whole batch */
    MEC4J_ALGORITHM_MEC_B = 4,     /* MEC, Solution B forced: i_n * o_h GEMMs, NHWC written directly */
    MEC4J_ALGORITHM_MEC_ROWS = 5,  /* MEC's workspace in row order: k_h GEMMs (M = o_h*o_w) per image,
                                      accumulated; the batch is folded in when |O| <= |L| */
    MEC4J_ALGORITHM_MEC_FUSED = 6, /* MEC_ROWS's workspace, multiplied by mec4j's own indirect GEMM
                                      (per-ISA micro-kernels, mec4j_kernel_name), which reads the k_h
                                      row windows in place as one K = k_h*k_w*i_c matrix. Unpadded
                                      layers need no lowering: the windows are read in the input itself
                                      (strided 1x1 layers: its dense subsample). Takes groups and
                                      dilation (each group's windows in turn). */
    MEC4J_ALGORITHM_DEPTHWISE = 7  /* depthwise layers only (groups == in_channels, any channel
                                      multiplier): a direct convolution with per-ISA kernels
                                      vectorised over channels, no workspace. The automatic MEC runs
                                      it for depthwise layers: with one input channel per group, a
                                      lowering would copy each input pixel k_h*k_w/s_h times to feed
                                      GEMMs with K = k_h*k_w, which no GEMM runs near its peak. */
} mec4j_algorithm;

/* Instruction sets mec4j has micro-kernels for. Each architecture has its own levels, in
 * increasing order: x86-64 portable < avx2 < avx512; aarch64 portable < neon. */
typedef MEC4J_ENUM(mec4j_isa){
    MEC4J_ISA_PORTABLE = 0, /* portable C++ (SSE2 on x86-64, NEON on aarch64) */
    MEC4J_ISA_AVX2 = 1,     /* x86-64: AVX2 + FMA */
    MEC4J_ISA_AVX512 = 2,   /* x86-64: AVX-512F */
    MEC4J_ISA_BEST = 3,     /* as a cap: none, the best the CPU has */
    MEC4J_ISA_NEON = 4      /* aarch64: NEON (Advanced SIMD) tiles sized for its 32 vector registers */
} mec4j_isa;

/* Alignment, in bytes, that every workspace must have. */
#define MEC4J_WORKSPACE_ALIGNMENT 64

/* Default threshold T of the MEC A/B rule (see docs/tuning.md). */
#define MEC4J_DEFAULT_MEC_THRESHOLD 80

typedef struct mec4j_conv2d {
  int64_t batch;                       /* i_n */
  int64_t in_height, in_width;         /* i_h, i_w (unpadded) */
  int64_t in_channels;                 /* i_c */
  int64_t kernel_height, kernel_width; /* k_h, k_w */
  int64_t out_channels;                /* k_c */
  int64_t stride_height, stride_width; /* s_h, s_w */
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  /* Solution A is used when o_w <= mec_threshold and |O| <= |L|; <= 0 means the default. */
  int64_t mec_threshold;
  /* MEC only. 0 (the default): MEC and MEC_FUSED size their workspace from the cache: at most
   * twice the L2 per hardware thread (chunks of images, or bands of output rows lowered and
   * multiplied by each thread on its own), or the whole lowering where that is smaller, or one
   * band of 4*(k_h - 1) output rows where that is larger; MEC_A, MEC_B and MEC_ROWS (forced)
   * take their whole lowering. > 0 caps every MEC variant's workspace at this many bytes: MEC
   * then works on tiles (groups of images, bands of output rows, or, when one image is too
   * large, groups of output columns with Solution B). < 0: no cap, the whole lowering (MEC
   * then chooses among all its variants). mec4j_workspace_size() reports the size in effect,
   * mec4j_min_workspace_limit() the smallest cap accepted. */
  int64_t mec_workspace_limit;
  /* Grouped convolution: groups divides in_channels and out_channels; group j reads input
   * channels [j*i_c/g, (j+1)*i_c/g) and writes output channels [j*k_c/g, (j+1)*k_c/g). The kernel
   * is then g x k_h x k_w x (i_c/g) x (k_c/g) (HWIO per group). groups == in_channels is a
   * depthwise convolution (any channel multiplier k_c/i_c). 0 or 1: none. */
  int64_t groups;
  /* Dilation (1 = none, as PyTorch; 0 is read as 1): kernel tap (r, q) reads input row
   * y*s_h + r*d_h - pad_top, column x*s_w + q*d_w - pad_left. */
  int64_t dilation_height, dilation_width;
  /* An activation applied to every output value as it is stored (forward passes only: a backward
   * pass of a layer with one fails with MEC4J_ERROR_UNSUPPORTED; apply the activation's derivative
   * to grad_output yourself). NONE (0, the default): none. RELU: max(x, 0). CLAMP (ReLU6 with 0
   * and 6): min(max(x, activation_min), activation_max); activation_min <= activation_max, neither
   * NaN (infinities allowed). The result equals the activation applied after an unfused forward,
   * bit for bit: mec4j's micro-kernels (MEC_FUSED, DEPTHWISE, the packed forward) apply it to their
   * registers before the store, the BLAS variants in their pass that adds the bias. */
  int32_t activation; /* mec4j_activation */
  float activation_min, activation_max;
  /* The tensors' layout (mec4j_layout). NHWC (0, the default): input i_n x i_h x i_w x i_c, output
   * i_n x o_h x o_w x k_c, kernel HWIO (per group k_h x k_w x i_c/g x k_c/g, groups in turn).
   * NCHW: input i_n x i_c x i_h x i_w, output i_n x k_c x o_h x o_w, kernel OIHW (k_c x i_c/g x k_h
   * x k_w: PyTorch's and ONNX's weight). Forward passes of REFERENCE, MEC and MEC_FUSED (MEC runs
   * MEC_FUSED) with the default workspace limit (0). MEC_FUSED runs one of two ways: where the
   * input, the output and the kernel are small beside the layer's im2col volume (early layers,
   * large batches), through NHWC: the kernel turned into HWIO, and per band of output rows the
   * input rows transposed into NHWC, multiplied, and the output transposed into its planes (a
   * workspace of the kernel and one band, within half of L2); else the transposed GEMM, the OIHW
   * kernel's rows (read in place) times panels of output pixels gathered from the input planes,
   * writing each channel's plane contiguously (no workspace). Other algorithms, backward passes,
   * workspace limits and packed kernels fail with MEC4J_ERROR_UNSUPPORTED. */
  int32_t layout;
} mec4j_conv2d;

typedef MEC4J_ENUM(mec4j_layout){MEC4J_LAYOUT_NHWC = 0, MEC4J_LAYOUT_NCHW = 1} mec4j_layout;

typedef MEC4J_ENUM(mec4j_activation){MEC4J_ACTIVATION_NONE = 0, MEC4J_ACTIVATION_RELU = 1,
                                     MEC4J_ACTIVATION_CLAMP = 2} mec4j_activation;

/* Checks every field. On failure, if bad_field is not NULL, it receives the offending field's
 * name (a static string, e.g. "stride_width"). */
mec4j_status mec4j_conv2d_check(const mec4j_conv2d* conv, const char** bad_field);

mec4j_status mec4j_output_size(const mec4j_conv2d* conv, int64_t* out_height, int64_t* out_width);

/* Scratch bytes the algorithm needs (0 for the reference). MEC's whole lowering is
 * 4 * i_n*o_w*i_h*k_w*i_c (i_h padded; with groups too: i_c/g per group, summed); MEC and
 * MEC_FUSED take a cache-sized part of it by default, any variant a tile of it under
 * mec_workspace_limit (see there); 0 for depthwise layers (MEC runs DEPTHWISE). Unpadded layers
 * (without dilation across a row, unless grouped), for MEC and MEC_FUSED: 0 (the row windows are
 * read in the input). Unpadded 1x1 layers, for MEC, MEC_FUSED and MEC_ROWS: 0 at stride 1 (the
 * input is multiplied in place), 4 * i_n*o_h*o_w*i_c strided for MEC_ROWS (a dense subsample;
 * under a limit that tiles the layer, MEC's lowering). im2col:
 * 4 * i_n*o_h*o_w*k_h*k_w*i_c. */
mec4j_status mec4j_workspace_size(const mec4j_conv2d* conv, mec4j_algorithm algorithm, int64_t* bytes);

/* The smallest mec_workspace_limit the layer accepts, whatever conv's own (a smaller one fails
 * with MEC4J_ERROR_WORKSPACE_LIMIT): MEC's smallest tile, one output row band of one image,
 * 4 * e_h*o_w*k_w*i_c bytes (e_h = (k_h-1)*d_h + 1), or, if smaller and the layer has neither
 * groups nor dilation across rows, one output column of one image, 4 * i_h*k_w*i_c (i_h padded). */
mec4j_status mec4j_min_workspace_limit(const mec4j_conv2d* conv, int64_t* bytes);

/* The variant the automatic MEC runs for this layer: MEC4J_ALGORITHM_MEC_A, _MEC_B, _MEC_ROWS or
 * _MEC_FUSED (other algorithms are returned unchanged). Under MEC4J_TUNING_MEASURE this is the
 * measured choice once the layer has run (with the same threads and ISA cap), the heuristic's
 * before; *measured (may be NULL) tells which. */
mec4j_status mec4j_resolve_algorithm(const mec4j_conv2d* conv, mec4j_algorithm algorithm, mec4j_algorithm* resolved);
mec4j_status mec4j_resolve_algorithm_ex(const mec4j_conv2d* conv, mec4j_algorithm algorithm, mec4j_algorithm* resolved,
                                        int32_t* measured);

/* How the automatic MEC picks its variant.
 * MEASURE (the default): the first forward of a layer (its sizes, the thread count and the ISA
 *   cap) times the variants that fit its workspace on the caller's data, three times each,
 *   interleaved, and keeps the fastest (the heuristic's pick unless another beats it by more than
 *   3%) for the rest of the process (as cudnnFind or FFTW's MEASURE planner).
 *   That first call takes a few times longer; its output is the chosen variant's, so results
 *   never change from call to call within a process, but may differ in the last bits between
 *   processes if another variant wins there.
 * HEURISTIC: a fixed rule from the layer's sizes and the micro-kernel's tile: the same variant,
 *   hence the same bits, in every run on the same CPU and ISA cap (cuDNN's deterministic mode).
 * The environment variable MEC4J_TUNING (measure|heuristic) sets the initial mode. */
typedef MEC4J_ENUM(mec4j_tuning){MEC4J_TUNING_MEASURE = 0, MEC4J_TUNING_HEURISTIC = 1} mec4j_tuning;
mec4j_status mec4j_set_tuning(mec4j_tuning tuning);
mec4j_status mec4j_get_tuning(mec4j_tuning* tuning);

/* The ISA cap (as oneDNN's ONEDNN_MAX_CPU_ISA / dnnl_set_max_cpu_isa): kernels above it are never
 * used. It starts from the environment variable MEC4J_MAX_ISA (x86-64: avx512, avx2, portable or
 * best; aarch64: neon, portable or best; any case; unset = best); a misspelt value, or another
 * architecture's ISA, makes every call that runs or plans a convolution fail with
 * MEC4J_ERROR_BAD_ENVIRONMENT until mec4j_set_max_isa is called, which refuses another
 * architecture's ISA with MEC4J_ERROR_INVALID_ARGUMENT. A cap above what the CPU has caps at what
 * it has. Process-wide; calls already running keep the kernel they started with. */
mec4j_status mec4j_set_max_isa(mec4j_isa isa);
mec4j_status mec4j_get_max_isa(mec4j_isa* isa);
/* min(cap, what this CPU runs): the ISA whose kernels run. */
mec4j_status mec4j_get_effective_isa(mec4j_isa* isa);
/* What this CPU runs, whatever the cap. */
mec4j_isa mec4j_get_host_isa(void);
const char* mec4j_isa_name(mec4j_isa isa);
/* The indirect-GEMM micro-kernel for the effective ISA, e.g. "f32-igemm-6x16-avx2-fma"
 * ("unknown" while MEC4J_MAX_ISA is misspelt): its preferred tile. A layer whose output channels
 * (per group) another of the ISA's tiles pads less runs that one (AVX-512: 12x32 for 32*(2j+1),
 * 16x16 for 16*(2j+1)). */
const char* mec4j_kernel_name(void);
/* The depthwise kernel for the effective ISA, e.g. "f32-dwconv-3x32-avx2-fma". */
const char* mec4j_depthwise_kernel_name(void);

/* output = conv(input, kernel) (+ bias if not NULL). workspace may be NULL only when the
 * algorithm needs 0 bytes. On any error status, output is left untouched. */
mec4j_status mec4j_conv2d_forward(const mec4j_conv2d* conv, mec4j_algorithm algorithm, const float* input,
                                  const float* kernel, const float* bias, float* output, void* workspace,
                                  int64_t workspace_bytes);

/* --- Training: the backward passes ---------------------------------------------------------
 * Algorithms that run them: REFERENCE, IM2COL (im2col of the batch; backward data multiplies into
 * an im2col-sized matrix and adds it back, col2im), MEC_ROWS (MEC's row lowering, see below, with
 * BLAS GEMMs), MEC_FUSED (backward weights: the same lowering read by mec4j's micro-kernels;
 * backward data at stride 1 only, with padding within the kernel's extent and the default
 * workspace: the forward convolution of dO, padded by (k - 1)*d - p, with the kernel turned by 180
 * degrees and its channels swapped, on MEC_FUSED's forward paths; workspace: the turned kernel and
 * that forward's), DEPTHWISE (depthwise layers: direct loops), and MEC (DEPTHWISE on depthwise
 * layers, else MEC_FUSED or MEC_ROWS for backward data and MEC_ROWS or MEC_FUSED for backward
 * weights: mec4j_resolve_algorithm_for). MEC_A and MEC_B return MEC4J_ERROR_UNSUPPORTED, as
 * MEC_FUSED for a strided backward data.
 * MEC's row lowering, one image at a time (or c small images interleaved): backward weights
 * lowers as the forward does and computes dK_r = L_r^T * dO per kernel row r (MEC_ROWS: k_h BLAS
 * GEMMs with M = k_w*i_c) or dK = W^T * dO with W's rows the k_h windows of each pixel (MEC_FUSED:
 * one GEMM with M = k_h*k_w*i_c/g); backward data multiplies dL_r = dO * K_r^T into the
 * overlapping row windows of the same buffer and adds each lowered row back into its input row.
 * Workspace 4 * o_w*i_h*k_w*i_c bytes (one image's |L|; i_h padded), 4 * c*(o_w*i_h*k_w*i_c +
 * o_h*o_w*k_c) when c images go together, or one row band's
 * under mec_workspace_limit (a limit that needs column tiles is refused with
 * MEC4J_ERROR_WORKSPACE_LIMIT); unpadded 1x1 layers: none at stride 1, else 4 * i_n*o_h*o_w*i_c.
 * DEPTHWISE: a kernel-sized transposed copy. Same status and no-partial-output rules as forward. */

/* The implementation the automatic MEC runs for a pass (as mec4j_resolve_algorithm_ex): backward
 * data runs DEPTHWISE, MEC_FUSED (stride 1, where the padding of dO adds at most a tenth more
 * outputs, with enough input channels for the tile and at least 4096 input pixels over the batch)
 * or MEC_ROWS; backward weights DEPTHWISE, or MEC_FUSED's micro-kernels where
 * MEC_ROWS's BLAS GEMMs would be thin (k_w*i_c < 256 with the AVX2 kernels, < 768 with AVX-512's)
 * or split per group, else MEC_ROWS (a fixed rule in every tuning mode; *measured is 0). */
mec4j_status mec4j_resolve_algorithm_for(const mec4j_conv2d* conv, mec4j_algorithm algorithm, mec4j_direction direction,
                                         mec4j_algorithm* resolved, int32_t* measured);

/* Scratch bytes of one pass (FORWARD: as mec4j_workspace_size). */
mec4j_status mec4j_workspace_size_for(const mec4j_conv2d* conv, mec4j_algorithm algorithm, mec4j_direction direction,
                                      int64_t* bytes);

/* grad_input (NHWC, like the input) = dLoss/dinput from grad_output (NHWC, like the output) and
 * the kernel. grad_input is overwritten. */
mec4j_status mec4j_conv2d_backward_data(const mec4j_conv2d* conv, mec4j_algorithm algorithm, const float* grad_output,
                                        const float* kernel, float* grad_input, void* workspace,
                                        int64_t workspace_bytes);

/* grad_kernel (the kernel's layout) = dLoss/dkernel and, if grad_bias is not NULL, grad_bias
 * (k_c floats) = dLoss/dbias, summed over the mini-batch, from the input and grad_output. Both
 * are overwritten (add them to running sums yourself to accumulate over several calls). */
mec4j_status mec4j_conv2d_backward_weights(const mec4j_conv2d* conv, mec4j_algorithm algorithm, const float* input,
                                           const float* grad_output, float* grad_kernel, float* grad_bias,
                                           void* workspace, int64_t workspace_bytes);

/* Weights packed once (the inference case, as XNNPACK's create step): the kernel in the layout of
 * the MEC_FUSED micro-kernel that runs now (effective ISA and blocking), so that later forwards
 * skip MEC_FUSED's per-call packing. The packed kernel takes about the kernel's own size (columns
 * rounded up to the tile width) plus a 64-byte header; it must be MEC4J_WORKSPACE_ALIGNMENT-
 * aligned. It fits only the layer's k_h, k_w, i_c, k_c and the ISA it was packed for: after a
 * change of the ISA cap, forward_packed fails with MEC4J_ERROR_INVALID_ARGUMENT (pack again). */
mec4j_status mec4j_packed_kernel_size(const mec4j_conv2d* conv, int64_t* bytes);
mec4j_status mec4j_pack_kernel(const mec4j_conv2d* conv, const float* kernel, void* packed, int64_t packed_bytes);
/* output = conv(input, packed kernel) (+ bias), computed by MEC_FUSED; workspace as for
 * mec4j_workspace_size(conv, MEC4J_ALGORITHM_MEC_FUSED). Not with a workspace limit so small that
 * MEC tiles single output columns (MEC4J_ERROR_UNSUPPORTED). */
mec4j_status mec4j_conv2d_forward_packed(const mec4j_conv2d* conv, const float* input, const void* packed,
                                         const float* bias, float* output, void* workspace, int64_t workspace_bytes);

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
