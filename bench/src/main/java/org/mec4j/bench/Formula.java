package org.mec4j.bench;

import org.mec4j.Conv2d;

/**
 * The memory formulas of docs/MEC.md ("Memory overhead"), in bytes of fp32; i_h is the padded
 * height.
 */
public final class Formula {
  private Formula() {}

  static long paddedHeight(Conv2d c) {
    return c.inputHeight() + c.padTop() + c.padBottom();
  }

  /** im2col: i_n·o_h·o_w·k_h·k_w·i_c floats. */
  public static long im2colBytes(Conv2d c) {
    return 4L
        * c.batch()
        * c.outputHeight()
        * c.outputWidth()
        * c.kernelHeight()
        * c.kernelWidth()
        * c.inputChannels();
  }

  /** MEC: i_n·o_w·i_h·k_w·i_c floats. */
  public static long mecBytes(Conv2d c) {
    return 4L * c.batch() * c.outputWidth() * paddedHeight(c) * c.kernelWidth() * c.inputChannels();
  }

  /**
   * MEC_FUSED's default on a padded layer: the input rows the outputs read, copied with their
   * padding, i_n·((o_h-1)·s_h + k_h)·(i_w + p_l + p_r)·i_c floats.
   */
  static long paddedCopyBytes(Conv2d c) {
    long rowsRead = (c.outputHeight() - 1) * c.strideHeight() + c.kernelHeight();
    long paddedWidth = c.inputWidth() + c.padLeft() + c.padRight();
    return 4L * c.batch() * rowsRead * paddedWidth * c.inputChannels();
  }

  /** The predicted ratio im2col/MEC = o_h·k_h / i_h. */
  public static double ratio(Conv2d c) {
    return (double) c.outputHeight() * c.kernelHeight() / paddedHeight(c);
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
  public static long bytes(Algo a, Conv2d c) {
    if (c.groups() > 1 || c.dilationHeight() > 1 || c.dilationWidth() > 1)
      return -1; // docs/MEC.md's formulas are for plain layers
    boolean stride1 = c.strideHeight() == 1 && c.strideWidth() == 1;
    long pointwise =
        stride1 ? 0 : 4L * c.batch() * c.outputHeight() * c.outputWidth() * c.inputChannels();
    boolean noLowering = pointwiseUnpadded(c) && (stride1 || c.mecWorkspaceLimit() <= 0);
    boolean unpadded =
        c.padTop() == 0 && c.padBottom() == 0 && c.padLeft() == 0 && c.padRight() == 0;
    return switch (a) {
      case IM2COL -> im2colBytes(c);
      // Unpadded larger kernels: the igemm reads the row windows in the input itself.
      case MEC -> unpadded ? 0 : mecBytes(c);
      case MEC_FUSED, MEC_PACKED ->
          unpadded ? 0 : c.mecWorkspaceLimit() == 0 ? paddedCopyBytes(c) : mecBytes(c);
      case MEC_ROWS -> noLowering ? pointwise : mecBytes(c);
      case MEC_A, MEC_B -> mecBytes(c);
      case ONEDNN, ONNXRUNTIME -> -1;
    };
  }
}
