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
}
