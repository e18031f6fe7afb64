package org.mec4j;

/**
 * How a layer's tensors are laid out in memory ({@link Conv2d.Builder#layout}).
 *
 * <p>{@link #NHWC} is mec4j's own layout and runs every algorithm and pass. {@link #NCHW} is what
 * the JVM's deep-learning stacks (ONNX Runtime, DJL, DL4J, PyTorch exports) hold: the forward pass
 * of {@link Algorithm#MEC} (which runs {@link Algorithm#MEC_FUSED} on it), MEC_FUSED and {@link
 * Algorithm#REFERENCE}, with the default workspace limit. MEC_FUSED runs one of two ways: where the
 * input, the output and the kernel are small beside the layer's im2col volume (early layers, large
 * batches), through NHWC, a band of output rows at a time (the kernel turned into HWIO, each band's
 * input rows transposed into NHWC, multiplied, its output transposed into the planes: a workspace
 * of the kernel and one band, within half of L2); else the transposed GEMM, the OIHW kernel's rows
 * (read in place) times panels of output pixels gathered from the input planes, so that each
 * channel's plane of the output is written contiguously (no workspace). Other algorithms, the
 * backward passes, workspace limits and {@link PackedKernel}s refuse NCHW layers.
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
