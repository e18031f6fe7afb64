package org.mec4j.bench;

import java.util.Locale;

/** Which pass of a convolution the runner times: forward, or one of the two backward passes. */
public enum Dir {
  /** output from input and kernel. */
  FWD("fwd", "forward"),
  /** Backward data: the gradient of the input from the gradient of the output and the kernel. */
  BWD_D("bwd_d", "backward data"),
  /**
   * Backward weights: the gradients of the kernel and the bias from the input and the gradient of
   * the output.
   */
  BWD_W("bwd_w", "backward weights");

  private final String id;
  private final String label;

  Dir(String id, String label) {
    this.id = id;
    this.label = label;
  }

  /** "fwd", "bwd_d", "bwd_w": the value of --directions and of results.csv's direction column. */
  public String id() {
    return id;
  }

  public String label() {
    return label;
  }

  /** mec4j's name of this pass. */
  public org.mec4j.Direction lib() {
    return switch (this) {
      case FWD -> org.mec4j.Direction.FORWARD;
      case BWD_D -> org.mec4j.Direction.BACKWARD_DATA;
      case BWD_W -> org.mec4j.Direction.BACKWARD_WEIGHTS;
    };
  }

  public boolean backward() {
    return this != FWD;
  }

  /**
   * Whether an algorithm runs this pass: everything forward; backward only what mec4j implements
   * backward (MEC, MEC_ROWS, im2col; MEC_FUSED the weight gradients) and oneDNN. MEC_A, MEC_B and
   * MEC_PACKED are forward-only, and so is ONNX Runtime (inference only).
   */
  public boolean runs(Algo a) {
    return this == FWD
        || a == Algo.MEC
        || a == Algo.MEC_ROWS
        || a == Algo.IM2COL
        || a == Algo.ONEDNN
        || (this == BWD_W && a == Algo.MEC_FUSED);
  }

  public static Dir parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    for (Dir d : values()) if (d.id.equals(t)) return d;
    throw new IllegalArgumentException(
        "unknown direction '" + s + "' (--directions takes fwd, bwd_d, bwd_w or all)");
  }

  /** The direction of a results.csv row ("" in files from before backward passes: forward). */
  public static Dir ofRow(String s) {
    return s == null || s.isEmpty() ? FWD : parse(s);
  }
}
