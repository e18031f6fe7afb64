package org.mec4j.bench;

import org.mec4j.Conv2d;

/**
 * A named layer. {@code spec} carries batch 1 unless the layer was described with a fixed
 * mini-batch ({@code mb} in its shape string), in which case it runs only at that batch.
 *
 * @param name e.g. "cv1"
 * @param spec the shape (batch 1, or the fixed batch)
 * @param fixedBatch true if the batch of {@code spec} is the only one to run
 * @param source where the layer comes from (the paper's table, or "command line")
 */
public record Layer(String name, Conv2d spec, boolean fixedBatch, String source) {
  /** The spec at mini-batch {@code n}. */
  public Conv2d at(long n) {
    return spec.toBuilder().batch(n).build();
  }

  /** Length of each output's dot product: k_h·k_w·i_c/g. */
  public static long dotLength(Conv2d c) {
    return c.kernelHeight() * c.kernelWidth() * (c.inputChannels() / c.groups());
  }

  /**
   * Length of the sums behind each value of a pass's result, for the tolerance of its check:
   * forward k_h·k_w·i_c/g; backward data k_h·k_w·k_c/g (an input gradient sums over the outputs its
   * pixel reaches, at most that many); backward weights i_n·o_h·o_w (a kernel or bias gradient sums
   * over every output position).
   */
  public static long dotLength(Conv2d c, Dir d) {
    return switch (d) {
      case FWD -> dotLength(c);
      case BWD_D -> c.kernelHeight() * c.kernelWidth() * (c.outputChannels() / c.groups());
      case BWD_W -> c.batch() * c.outputHeight() * c.outputWidth();
    };
  }
}
