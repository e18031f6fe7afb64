package org.mec4j;

/**
 * Which pass of a convolution: the forward, or one of the two backward passes of training.
 *
 * <p>{@link Algorithm#REFERENCE}, {@link Algorithm#IM2COL}, {@link Algorithm#MEC}, {@link
 * Algorithm#MEC_ROWS} and {@link Algorithm#DEPTHWISE} (depthwise layers) run both backward passes;
 * {@link Algorithm#MEC_FUSED} its backward weights, and its backward data at stride 1; MEC_A and
 * MEC_B are forward only. Layers with a fused {@link Activation} or in {@link Layout#NCHW} have
 * forward passes only.
 */
public enum Direction {
  /** output = conv(input, kernel) + bias. */
  FORWARD(0),
  /** The gradient with respect to the input, from the output's gradient and the kernel. */
  BACKWARD_DATA(1),
  /**
   * The gradients with respect to the kernel and the bias, from the input and the output's
   * gradient.
   */
  BACKWARD_WEIGHTS(2);

  final int code;

  Direction(int code) {
    this.code = code;
  }
}
