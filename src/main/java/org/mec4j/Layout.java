package org.mec4j;

/**
 * How a layer's tensors are laid out in memory ({@link Conv2d.Builder#layout}).
 *
 * <p>{@link #NHWC} is mec4j's own layout and runs every algorithm and pass. {@link #NCHW} is what
 * the JVM's deep-learning stacks (ONNX Runtime, DJL, DL4J, PyTorch exports) hold: the forward pass
 * of {@link Algorithm#MEC} (which runs {@link Algorithm#MEC_FUSED} on it), MEC_FUSED and {@link
 * Algorithm#REFERENCE}, with the default workspace, reads and writes it without a transposed copy
 * of the tensors: the input rows the outputs read are copied into the cache-sized workspace as
 * MEC_FUSED's padded rows, and the micro-kernels' tiles are stored into the output's channel
 * planes. Other algorithms, the backward passes and workspace limits refuse NCHW layers.
 */
public enum Layout {
  /**
   * Input n x h x w x c, output n x o_h x o_w x k_c, kernel HWIO (k_h x k_w x i_c/g x k_c/g per
   * group).
   */
  NHWC(0),
  /**
   * Input n x c x h x w, output n x k_c x o_h x o_w, kernel OIHW (k_c x i_c/g x k_h x k_w:
   * PyTorch's and ONNX's weight, as is).
   */
  NCHW(1);

  final int code;

  Layout(int code) {
    this.code = code;
  }
}
