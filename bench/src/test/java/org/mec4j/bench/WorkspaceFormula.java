package org.mec4j.bench;

import org.mec4j.Conv2d;

/**
 * The workspace mec4j's query should report per algorithm, derived from docs/MEC.md's formulas and
 * the library's documented policy: the tests hold {@code Conv2d.workspaceBytes} against it (main
 * code asks the library, never this).
 */
final class WorkspaceFormula {
  private WorkspaceFormula() {}

  /**
   * MEC_FUSED's default on a padded layer: the input rows the outputs read, copied with their
   * padding, i_n·((o_h-1)·s_h + k_h)·(i_w + p_l + p_r)·i_c floats.
   */
  static long paddedCopyBytes(Conv2d c) {
    long rowsRead = (c.outputHeight() - 1) * c.strideHeight() + c.kernelHeight();
    long paddedWidth = c.inputWidth() + c.padLeft() + c.padRight();
    return 4L * c.batch() * rowsRead * paddedWidth * c.inputChannels();
  }

  /** Unpadded 1x1 layers: MEC's igemm and its row variant need no MEC lowering. */
  static boolean pointwiseUnpadded(Conv2d c) {
    return c.kernelHeight() == 1
        && c.kernelWidth() == 1
        && c.padTop() == 0
        && c.padBottom() == 0
        && c.padLeft() == 0
        && c.padRight() == 0;
  }

  /**
   * The formula's bytes for an algorithm, or -1 when it has none (oneDNN, ONNX Runtime; grouped or
   * dilated layers). Unpadded layers: FUSED (and so MEC) reads the row windows in the input, no
   * workspace; ROWS reads unpadded 1x1 layers in place at stride 1, a dense subsample
   * i_n·o_h·o_w·i_c when strided (no workspace limit). Padded layers, by default: FUSED copies the
   * padded rows it reads; MEC takes the whole lowering too where it is small (so that the BLAS
   * variants can run). Padded layers within the cache: the whole lowering (larger ones get
   * cache-sized bands, which no formula here predicts).
   */
  static long bytes(Algo a, Conv2d c) {
    if (c.groups() > 1 || c.dilationHeight() > 1 || c.dilationWidth() > 1)
      return -1; // docs/MEC.md's formulas are for plain layers
    boolean stride1 = c.strideHeight() == 1 && c.strideWidth() == 1;
    long pointwise =
        stride1 ? 0 : 4L * c.batch() * c.outputHeight() * c.outputWidth() * c.inputChannels();
    boolean noLowering = pointwiseUnpadded(c) && (stride1 || c.mecWorkspaceLimit() <= 0);
    boolean unpadded =
        c.padTop() == 0 && c.padBottom() == 0 && c.padLeft() == 0 && c.padRight() == 0;
    return switch (a) {
      case IM2COL -> Formula.im2colBytes(c);
      // Unpadded larger kernels: the igemm reads the row windows in the input itself.
      case MEC -> unpadded ? 0 : Formula.mecBytes(c);
      case MEC_FUSED, MEC_PACKED ->
          unpadded ? 0 : c.mecWorkspaceLimit() == 0 ? paddedCopyBytes(c) : Formula.mecBytes(c);
      case MEC_ROWS -> noLowering ? pointwise : Formula.mecBytes(c);
      case MEC_A, MEC_B -> Formula.mecBytes(c);
      case ONEDNN, ONNXRUNTIME -> -1;
    };
  }
}
