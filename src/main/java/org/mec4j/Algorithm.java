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
 *       overlapping windows of it; Solution A or B chosen per layer. Workspace i_n·o_w·i_h·k_w·i_c,
 *       about k_h/s_h times less than im2col.
 *   <li>{@link #MEC_A}: MEC, Solution A forced (o_h GEMMs over the whole batch, then a permutation
 *       through the workspace). Needs |output| &lt;= |workspace|.
 *   <li>{@link #MEC_B}: MEC, Solution B forced (i_n·o_h GEMMs writing NHWC directly).
 * </ul>
 */
public enum Algorithm {
  REFERENCE(0),
  IM2COL(1),
  MEC(2),
  MEC_A(3),
  MEC_B(4);

  final int code;

  Algorithm(int code) {
    this.code = code;
  }

  static Algorithm ofCode(int code) {
    for (Algorithm a : values()) if (a.code == code) return a;
    throw new IllegalStateException("mec4j: unknown native algorithm code " + code);
  }
}
