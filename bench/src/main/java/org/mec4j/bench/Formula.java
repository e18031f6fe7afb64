package org.mec4j.bench;

import org.mec4j.Conv2d;

/** The memory formulas of MEC.md ("Memory overhead"), in bytes of fp32; i_h is the padded height. */
public final class Formula {
  private Formula() {}

  static long paddedHeight(Conv2d c) {
    return c.inputHeight() + c.padTop() + c.padBottom();
  }

  /** im2col: i_n·o_h·o_w·k_h·k_w·i_c floats. */
  public static long im2colBytes(Conv2d c) {
    return 4L * c.batch() * c.outputHeight() * c.outputWidth() * c.kernelHeight() * c.kernelWidth() * c.inputChannels();
  }

  /** MEC: i_n·o_w·i_h·k_w·i_c floats. */
  public static long mecBytes(Conv2d c) {
    return 4L * c.batch() * c.outputWidth() * paddedHeight(c) * c.kernelWidth() * c.inputChannels();
  }

  /** The predicted ratio im2col/MEC = o_h·k_h / i_h. */
  public static double ratio(Conv2d c) {
    return (double) c.outputHeight() * c.kernelHeight() / paddedHeight(c);
  }

  /** Unpadded 1x1 layers: MEC's igemm (and at stride 1 its row variant) multiply the input in place. */
  static boolean pointwiseUnpadded(Conv2d c) {
    return c.kernelHeight() == 1 && c.kernelWidth() == 1 && c.padTop() == 0 && c.padBottom() == 0 && c.padLeft() == 0
        && c.padRight() == 0;
  }

  /** The formula's bytes for an algorithm, or -1 when it has none (oneDNN). */
  public static long bytes(Algo a, Conv2d c) {
    boolean inPlace = pointwiseUnpadded(c);
    boolean stride1 = c.strideHeight() == 1 && c.strideWidth() == 1;
    return switch (a) {
      case IM2COL -> im2colBytes(c);
      case MEC, MEC_FUSED, MEC_PACKED -> inPlace ? 0 : mecBytes(c);
      case MEC_ROWS -> inPlace && stride1 ? 0 : mecBytes(c);
      case MEC_A, MEC_B -> mecBytes(c);
      case ONEDNN -> -1;
    };
  }
}
