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

  /** The formula's bytes for an algorithm, or -1 when it has none (oneDNN). */
  public static long bytes(Algo a, Conv2d c) {
    return switch (a) {
      case IM2COL -> im2colBytes(c);
      case MEC, MEC_A, MEC_B, MEC_ROWS, MEC_FUSED -> mecBytes(c);
      case ONEDNN -> -1;
    };
  }
}
