package org.mec4j.bench;

import java.util.List;
import java.util.Locale;
import org.mec4j.Conv2d;

/**
 * One measured (layer, batch, BLAS, threads, algorithm): a line of results.csv. Only results that
 * passed the correctness check become rows.
 *
 * @param layer layer name (cv1..cv12, a command-line name, or sweep-k7s2)
 * @param batch mini-batch
 * @param threads BLAS (and oneDNN) threads of the child JVM
 * @param blas the BLAS really loaded in that JVM: "openblas" or "mkl" (oneDNN rows: the BLAS of the
 *     JVM they ran in; oneDNN does not use it)
 * @param algorithm MEC, MEC_A, MEC_B, MEC_ROWS, MEC_FUSED, MEC_PACKED, IM2COL or ONEDNN
 * @param medianMs median time of one forward pass
 * @param minMs fastest
 * @param maxMs slowest
 * @param gflops layer flops / median time
 * @param fractionOfSgemm gflops / the sgemm ceiling measured in the same JVM
 * @param workspaceBytes mec4j's workspace query, or oneDNN's scratchpad size
 * @param formulaBytes the workspace docs/MEC.md's formula predicts (-1 for oneDNN)
 * @param resolved MEC: the variant the automatic choice ran (MEC_A, MEC_B, MEC_ROWS, MEC_FUSED);
 *     MEC_PACKED: "MEC_FUSED (kernel packed once)"; oneDNN: its implementation name
 * @param samples timed repetitions
 * @param kind "layer" or "sweep"
 * @param shape benchdnn-style shape at this batch
 * @param gflop the layer's work, 2·i_n·o_h·o_w·k_c·k_h·k_w·i_c / 1e9
 * @param sgemmGflops the sgemm ceiling of that JVM
 * @param maxRelErr worst max|diff|/max|ref| seen by the correctness check
 * @param network the network a "network" row's layer belongs to ("" otherwise)
 * @param count how many times the network has that layer (1 otherwise)
 * @param direction the pass timed: "fwd", "bwd_d" (backward data) or "bwd_w" (backward weights); a
 *     backward pass has the forward's flops, and no formula (-1)
 */
public record Row(
    String layer,
    long batch,
    int threads,
    String blas,
    String algorithm,
    double medianMs,
    double minMs,
    double maxMs,
    double gflops,
    double fractionOfSgemm,
    long workspaceBytes,
    long formulaBytes,
    String resolved,
    int samples,
    String kind,
    String shape,
    double gflop,
    double sgemmGflops,
    double maxRelErr,
    String network,
    long count,
    String direction) {

  public Row {
    if (network == null) network = "";
    direction = Dir.ofRow(direction).id();
  }

  /** The same row with another sgemm ceiling. */
  public Row withCeiling(double ceiling) {
    return new Row(
        layer,
        batch,
        threads,
        blas,
        algorithm,
        medianMs,
        minMs,
        maxMs,
        gflops,
        gflops / ceiling,
        workspaceBytes,
        formulaBytes,
        resolved,
        samples,
        kind,
        shape,
        gflop,
        ceiling,
        maxRelErr,
        network,
        count,
        direction);
  }

  /** The algorithm of a convolution's row; null for a whole model's run by OnnxExecutor. */
  public Algo algo() {
    try {
      return Algo.valueOf(algorithm);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The convolution of this row, parsed from its shape (the one place the report reads it), or null
   * for a whole model's run, whose shape column holds the model's inputs.
   */
  public Conv2d conv() {
    try {
      return Conv2d.parse(shape);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  public Dir dir() {
    return Dir.ofRow(direction);
  }

  public static final List<String> COLUMNS =
      List.of(
          "layer",
          "batch",
          "threads",
          "blas",
          "algorithm",
          "median_ms",
          "min_ms",
          "max_ms",
          "gflops",
          "fraction_of_sgemm",
          "workspace_bytes",
          "formula_bytes",
          "resolved",
          "samples",
          "kind",
          "shape",
          "gflop",
          "sgemm_gflops",
          "max_rel_err",
          "network",
          "count",
          "direction");

  /**
   * Columns a results.csv from before networks (or backward passes) lacks: parsed with their
   * defaults.
   */
  static final java.util.Set<String> OPTIONAL = java.util.Set.of("network", "count", "direction");

  public static String header() {
    return String.join(",", COLUMNS);
  }

  /** Identity of a row: no two rows of a merged run may share it. */
  public String key() {
    return kind
        + "/"
        + (network.isEmpty() ? "" : network + "/")
        + layer
        + "/"
        + batch
        + "/"
        + blas
        + "/"
        + threads
        + "/"
        + algorithm
        + (direction.equals("fwd") ? "" : "/" + direction);
  }

  public String toCsv() {
    return Csv.line(
        layer,
        batch,
        threads,
        blas,
        algorithm,
        num(medianMs),
        num(minMs),
        num(maxMs),
        num(gflops),
        num(fractionOfSgemm),
        workspaceBytes,
        formulaBytes,
        resolved,
        samples,
        kind,
        shape,
        num(gflop),
        num(sgemmGflops),
        sci(maxRelErr),
        network,
        count,
        direction);
  }

  /** Parses a line written by {@link #toCsv()} with the columns of {@code header}. */
  public static Row parse(List<String> header, String line) {
    return parse(header, Csv.fields(line));
  }

  /** Parses the fields of a line written by {@link #toCsv()} with the columns of {@code header}. */
  static Row parse(List<String> header, List<String> f) {
    if (f.size() != header.size())
      throw new IllegalArgumentException(
          "expected " + header.size() + " fields, got " + f.size() + ": " + Csv.line(f));
    java.util.Map<String, String> v = new java.util.HashMap<>();
    for (int i = 0; i < header.size(); i++) v.put(header.get(i), f.get(i));
    for (String c : COLUMNS)
      if (!v.containsKey(c) && !OPTIONAL.contains(c))
        throw new IllegalArgumentException("missing column '" + c + "'");
    try {
      return new Row(
          v.get("layer"),
          Long.parseLong(v.get("batch")),
          Integer.parseInt(v.get("threads")),
          v.get("blas"),
          v.get("algorithm"),
          Double.parseDouble(v.get("median_ms")),
          Double.parseDouble(v.get("min_ms")),
          Double.parseDouble(v.get("max_ms")),
          Double.parseDouble(v.get("gflops")),
          Double.parseDouble(v.get("fraction_of_sgemm")),
          Long.parseLong(v.get("workspace_bytes")),
          Long.parseLong(v.get("formula_bytes")),
          v.get("resolved"),
          Integer.parseInt(v.get("samples")),
          v.get("kind"),
          v.get("shape"),
          Double.parseDouble(v.get("gflop")),
          Double.parseDouble(v.get("sgemm_gflops")),
          Double.parseDouble(v.get("max_rel_err")),
          v.getOrDefault("network", ""),
          Long.parseLong(v.getOrDefault("count", "1")),
          v.getOrDefault("direction", "fwd"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad number in: " + Csv.line(f), e);
    }
  }

  static String num(double d) {
    if (Double.isNaN(d)) return "NaN";
    return String.format(Locale.ROOT, "%.6g", d)
        .replaceAll("(\\.\\d*?)0+($|e)", "$1$2")
        .replaceAll("\\.($|e)", "$1");
  }

  static String sci(double d) {
    return String.format(Locale.ROOT, "%.3e", d);
  }
}
