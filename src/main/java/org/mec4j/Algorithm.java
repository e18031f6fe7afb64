package org.mec4j;

/**
 * The convolution implementations, by role. Their workspace needs (floats; i_h and i_w padded):
 *
 * <ul>
 *   <li>{@link #REFERENCE}: direct loops with double accumulation, the test oracle. No workspace;
 *       slow.
 *   <li>{@link #IM2COL}: the whole mini-batch lowered to one (i_n·o_h·o_w) x (k_h·k_w·i_c) matrix,
 *       one sgemm. Workspace i_n·o_h·o_w·k_h·k_w·i_c.
 *   <li>{@link #MEC}: MEC's lowering, i_n x o_w x i_h x k_w x i_c, then strided sgemm calls over
 *       overlapping windows of it; the variant (A, B, ROWS or FUSED) chosen per layer, by
 *       measurement on the layer's first run or by a heuristic ({@link Tuning}). Workspace
 *       i_n·o_w·i_h·k_w·i_c, about k_h/s_h times less than im2col; for unpadded 1x1 layers none at
 *       stride 1 (multiplied in place) and i_n·o_h·o_w·i_c strided (a dense subsample).
 *   <li>{@link #MEC_A}: MEC, Solution A forced (o_h GEMMs over the whole batch, then a permutation
 *       through the workspace). Needs |output| &lt;= |workspace|.
 *   <li>{@link #MEC_B}: MEC, Solution B forced (i_n·o_h GEMMs writing NHWC directly).
 *   <li>{@link #MEC_ROWS}: MEC's workspace filled in row order (rows grouped by s_h phase), so that
 *       each kernel row is one GEMM with M = o_h·o_w per image, accumulated with beta = 1 (k_h
 *       large GEMMs instead of o_h small ones). With a batch and |output| &lt;= |workspace| the
 *       images are interleaved and each kernel row is one GEMM over the whole batch, followed by
 *       Solution A's permutation. Same workspace as MEC.
 *   <li>{@link #MEC_FUSED}: MEC_ROWS's workspace, multiplied by mec4j's own indirect GEMM
 *       (micro-kernels per ISA: AVX-512, AVX2+FMA, portable; see {@link Cpu}), which reads the k_h
 *       row windows of each output pixel in place as one row of K = k_h·k_w·i_c: one long-K GEMM
 *       over the whole batch, like im2col's, with MEC's workspace and no BLAS call. Unpadded 1x1
 *       layers: the input itself (stride 1) or its subsample. Runs on every CPU. Takes groups (each
 *       group's windows in turn) and dilation.
 *   <li>{@link #DEPTHWISE}: depthwise layers only (groups = i_c, any channel multiplier): a direct
 *       convolution with per-ISA kernels vectorised over channels ({@link Cpu#depthwiseKernel}). No
 *       workspace. The automatic MEC runs it for every depthwise layer: with one input channel per
 *       group a lowering copies each pixel k_h·k_w/s_h times to feed GEMMs of K = k_h·k_w, which no
 *       GEMM runs near its peak.
 * </ul>
 *
 * <p>With groups, MEC_A and MEC_B (which need one contiguous window per output row; nor dilation
 * down the rows) and MEC_ROWS's forward do not run: {@link Conv2d#workspaceBytes} and {@link
 * Convolution#create} throw for them (MEC_ROWS's backward passes do take groups).
 *
 * <p>Backward passes ({@link Direction}): REFERENCE, IM2COL, MEC (DEPTHWISE on depthwise layers,
 * else MEC_FUSED's or MEC_ROWS's, {@link Conv2d#resolution(Algorithm, Direction)} says which),
 * MEC_ROWS (over MEC's row lowering, one image or a few interleaved at a time; workspace at most
 * the forward MEC's), MEC_FUSED (backward weights; backward data at stride 1, as a forward
 * convolution of the output gradient) and DEPTHWISE. MEC_A and MEC_B are forward only.
 */
public enum Algorithm {
  REFERENCE(0),
  IM2COL(1),
  MEC(2),
  MEC_A(3),
  MEC_B(4),
  MEC_ROWS(5),
  MEC_FUSED(6),
  DEPTHWISE(7);

  final int code;

  Algorithm(int code) {
    this.code = code;
  }

  static Algorithm ofCode(int code) {
    for (Algorithm a : values()) if (a.code == code) return a;
    throw new IllegalStateException("mec4j: unknown native algorithm code " + code);
  }
}
