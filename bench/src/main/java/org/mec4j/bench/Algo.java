package org.mec4j.bench;

import java.util.Locale;
import org.mec4j.Algorithm;

/** What the runner times: mec4j's algorithms (same BLAS) and oneDNN. */
public enum Algo {
  /** MEC, the variant (A, B, ROWS or FUSED) chosen by the library's rule. */
  MEC(Algorithm.MEC, "MEC (auto)"),
  MEC_A(Algorithm.MEC_A, "MEC A"),
  MEC_B(Algorithm.MEC_B, "MEC B"),
  /** mec4j's row-ordered MEC variant (k_h accumulated GEMMs), when the library has it. */
  MEC_ROWS(libAlgorithm("MEC_ROWS"), "MEC ROWS"),
  /** mec4j's own GEMM over the row lowering (one K = k_h*k_w*i_c GEMM), when the library has it. */
  MEC_FUSED(libAlgorithm("MEC_FUSED"), "MEC FUSED"),
  /**
   * The inference path: MEC_FUSED with its kernel packed once ({@code org.mec4j.PackedKernel}),
   * outside the timing, as oneDNN's weights are reordered once; {@link #lib()} is MEC_FUSED (its
   * workspace).
   */
  MEC_PACKED(libAlgorithm("MEC_FUSED"), "MEC PACKED"),
  IM2COL(Algorithm.IM2COL, "im2col"),
  ONEDNN(null, "oneDNN");

  private final Algorithm lib;
  private final String label;

  Algo(Algorithm lib, String label) {
    this.lib = lib;
    this.label = label;
  }

  /** The mec4j algorithm (MEC_FUSED for MEC_PACKED), or null for oneDNN. */
  public Algorithm lib() {
    return lib;
  }

  public String label() {
    return label;
  }

  public boolean isMecFamily() {
    return this == MEC || this == MEC_A || this == MEC_B || this == MEC_ROWS || this == MEC_FUSED
        || this == MEC_PACKED;
  }

  /** False for a variant the installed library does not have. */
  public boolean available() {
    return this == ONEDNN || lib != null;
  }

  private static Algorithm libAlgorithm(String name) {
    for (Algorithm a : Algorithm.values()) if (a.name().equals(name)) return a;
    return null;
  }

  public static Algo parse(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    if (t.equals("DNNL") || t.equals("ONE_DNN")) t = "ONEDNN";
    if (t.equals("A")) t = "MEC_A";
    if (t.equals("B")) t = "MEC_B";
    if (t.equals("ROWS")) t = "MEC_ROWS";
    if (t.equals("FUSED")) t = "MEC_FUSED";
    if (t.equals("PACKED")) t = "MEC_PACKED";
    Algo a;
    try {
      a = valueOf(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown algorithm '" + s + "' (MEC, MEC_A, MEC_B, MEC_ROWS, MEC_FUSED, MEC_PACKED, IM2COL, ONEDNN)");
    }
    if (!a.available()) throw new IllegalArgumentException("algorithm " + a + " is not in the installed mec4j library");
    return a;
  }
}
