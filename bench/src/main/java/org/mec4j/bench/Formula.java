package org.mec4j.bench;

import org.mec4j.Conv2d;

/**
 * The memory formulas of docs/MEC.md ("Memory overhead"), in bytes of fp32, that the report holds
 * the measured workspaces against; i_h is the padded height.
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

  /** The predicted ratio im2col/MEC = o_h·k_h / i_h. */
  public static double ratio(Conv2d c) {
    return (double) c.outputHeight() * c.kernelHeight() / paddedHeight(c);
  }

  /**
   * The formula's bytes of an algorithm that lowers the whole layer as the paper does (im2col,
   * MEC's Solutions A and B), or -1: oneDNN and ONNX Runtime, mec4j's own MEC variants (their
   * workspace follows the library's policy, which WorkspaceFormula in the tests checks), grouped or
   * dilated layers (docs/MEC.md's formulas are for plain layers).
   */
  public static long bytes(Algo a, Conv2d c) {
    if (c.groups() > 1 || c.dilationHeight() > 1 || c.dilationWidth() > 1) return -1;
    return switch (a) {
      case IM2COL -> im2colBytes(c);
      case MEC_A, MEC_B -> mecBytes(c);
      default -> -1;
    };
  }
}
