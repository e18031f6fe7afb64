package org.mec4j.bench;

import java.util.Locale;
import org.mec4j.Algorithm;

/** What the runner times: mec4j's algorithms (same BLAS), oneDNN and ONNX Runtime. */
public enum Algo {
  /** MEC, the variant (A, B, ROWS or FUSED) chosen by the library's rule. */
  MEC(Algorithm.MEC, "MEC (auto)"),
  MEC_A(Algorithm.MEC_A, "MEC A"),
  MEC_B(Algorithm.MEC_B, "MEC B"),
  /** mec4j's row-ordered MEC variant (k_h accumulated GEMMs). */
  MEC_ROWS(Algorithm.MEC_ROWS, "MEC ROWS"),
  /** mec4j's own GEMM over the row lowering (one K = k_h*k_w*i_c GEMM). */
  MEC_FUSED(Algorithm.MEC_FUSED, "MEC FUSED"),
  /**
   * The inference path: MEC_FUSED with its kernel packed once ({@code org.mec4j.PackedKernel}),
   * outside the timing, as oneDNN's weights are reordered once; {@link #lib()} is MEC_FUSED (its
   * workspace).
   */
  MEC_PACKED(Algorithm.MEC_FUSED, "MEC PACKED"),
  IM2COL(Algorithm.IM2COL, "im2col"),
  ONEDNN(null, "oneDNN"),
  /**
   * ONNX Runtime's CPU provider on a one-node ONNX model of the layer (NCHW; forward only: no
   * backward pass).
   */
  ONNXRUNTIME(null, "ONNX Runtime");

  private final Algorithm lib;
  private final String label;

  Algo(Algorithm lib, String label) {
    this.lib = lib;
    this.label = label;
  }

  /** The mec4j algorithm (MEC_FUSED for MEC_PACKED), or null for oneDNN and ONNX Runtime. */
  public Algorithm lib() {
    return lib;
  }

  public String label() {
    return label;
  }

  public boolean isMecFamily() {
    return this == MEC
        || this == MEC_A
        || this == MEC_B
        || this == MEC_ROWS
        || this == MEC_FUSED
        || this == MEC_PACKED;
  }

  public static Algo parse(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    if (t.equals("DNNL") || t.equals("ONE_DNN")) t = "ONEDNN";
    if (t.equals("ORT") || t.equals("ONNX_RUNTIME") || t.equals("ONNX")) t = "ONNXRUNTIME";
    if (t.equals("A")) t = "MEC_A";
    if (t.equals("B")) t = "MEC_B";
    if (t.equals("ROWS")) t = "MEC_ROWS";
    if (t.equals("FUSED")) t = "MEC_FUSED";
    if (t.equals("PACKED")) t = "MEC_PACKED";
    try {
      return valueOf(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown algorithm '"
              + s
              + "' (MEC, MEC_A, MEC_B, MEC_ROWS, MEC_FUSED, MEC_PACKED, IM2COL, ONEDNN,"
              + " ONNXRUNTIME)");
    }
  }
}
