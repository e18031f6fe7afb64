package org.mec4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The report's sections of the backward passes (one per direction that has rows): per layer and
 * JVM, the median time of MEC (auto), MEC_ROWS, im2col and oneDNN, MEC/oneDNN and MEC/im2col with
 * their geometric means, and each one's workspace for that pass (oneDNN: its primitive's
 * scratchpad).
 */
final class BackwardReport {
  private BackwardReport() {}

  static String render(Report.Input in, Dir d) {
    // a model's ConvTranspose nodes (bwd_d) are in the model's own section
    List<Row> rows = in.rows(d).stream().filter(r -> !r.kind().startsWith("model")).toList();
    if (rows.isEmpty()) return "";
    StringBuilder md = new StringBuilder();
    md.append("## ")
        .append(
            d == Dir.BWD_D
                ? "Backward data (bwd_d): the gradient of the input"
                : "Backward weights (bwd_w): the gradients of the kernel and the bias")
        .append("\n\n");
    md.append(
        d == Dir.BWD_D
            ? "Timed: `Convolution.backwardData(gradOutput, kernel, gradInput)` of MEC (mec4j's automatic choice), MEC_ROWS (forced) "
                + "and im2col, and oneDNN's backward-data primitive (hint: a forward-training primitive; weights given as HWIO with "
                + "`format_tag any` and reordered once, outside timing, like the forward's). Each gradient of the input was compared "
                + "with im2col's and oneDNN's before timing: max|diff|/max|ref| ≤ "
                + Row.num(in.options().tolerance)
                + "·2⁻²³·√K, K = k_h·k_w·k_c/g (the most terms an input gradient sums).\n\n"
            : "Timed: `Convolution.backwardWeights(input, gradOutput, gradKernel, gradBias)` of MEC (mec4j's automatic choice), "
                + "MEC_ROWS (forced) and im2col, and oneDNN's backward-weights primitive with the bias gradient (hint: a forward-training "
                + "primitive). oneDNN writes the kernel gradient in the layout it asks for (`format_tag any`); when that is not HWIO the "
                + "reorder into the caller's HWIO buffer is **inside** its timing (a user needs HWIO gradients; the errors.csv info rows "
                + "say where it happened). The kernel's and the bias's gradients were compared with im2col's and oneDNN's before timing: "
                + "max|diff|/max|ref| ≤ "
                + Row.num(in.options().tolerance)
                + "·2⁻²³·√K, K = i_n·o_h·o_w (the terms each gradient sums).\n\n");
    md.append(
        "Same seeded data in every algorithm and JVM, the algorithms interleaved as for the forward pass. **Workspace**: "
            + "`Conv2d.workspaceBytes(algorithm, direction)` for mec4j, the scratchpad of oneDNN's backward primitive. "
            + "Ratios of median times in the same JVM: below 1, MEC is faster.\n\n");

    for (long b : in.batches(d)) {
      List<String> layers = new ArrayList<>();
      for (var lb : in.layerBatches(b, d)) layers.add(lb.getKey());
      md.append("### Mini-batch ").append(b).append("\n\n");
      for (Report.Config c : in.configs()) {
        List<Map<Algo, Row>> table = new ArrayList<>();
        for (String l : layers)
          table.add(
              cells(
                  in,
                  c,
                  d,
                  r -> r.kind().equals("layer") && r.layer().equals(l) && r.batch() == b));
        table(md, c, table, false);
      }
    }

    Set<String> networks = new LinkedHashSet<>();
    for (Row r : rows) if (r.kind().equals("network")) networks.add(r.network());
    for (String n : networks) {
      md.append("### Network ").append(n).append("\n\n");
      for (Report.Config c : in.configs()) {
        Map<String, Map<Algo, Row>> byLayer = new LinkedHashMap<>();
        for (Row r : rows)
          if (r.kind().equals("network")
              && r.network().equals(n)
              && r.blas().equals(c.blas())
              && r.threads() == c.threads()) {
            Algo a = algo(r.algorithm());
            if (a != null)
              byLayer
                  .computeIfAbsent(
                      r.layer() + "@" + r.batch(), k -> new java.util.EnumMap<>(Algo.class))
                  .put(a, r);
          }
        if (byLayer.isEmpty()) continue;
        md.append(totals(c, byLayer.values()));
        md.append("<details><summary>per layer, ").append(c.shortLabel()).append("</summary>\n\n");
        table(md, c, new ArrayList<>(byLayer.values()), true);
        md.append("</details>\n\n");
      }
    }
    return md.toString();
  }

  private static Map<Algo, Row> cells(
      Report.Input in, Report.Config c, Dir d, java.util.function.Predicate<Row> which) {
    Map<Algo, Row> m = new java.util.EnumMap<>(Algo.class);
    for (Row r : in.rows(d))
      if (r.blas().equals(c.blas()) && r.threads() == c.threads() && which.test(r)) {
        Algo a = algo(r.algorithm());
        if (a != null) m.put(a, r);
      }
    return m;
  }

  /** One JVM's table: a line per layer, then the geometric means of the ratios. */
  private static void table(
      StringBuilder md, Report.Config c, List<Map<Algo, Row>> layers, boolean network) {
    List<Map<Algo, Row>> present = layers.stream().filter(m -> !m.isEmpty()).toList();
    if (present.isEmpty()) return;
    if (!network) md.append("#### ").append(c.label()).append("\n\n");
    md.append("| layer |")
        .append(network ? " ×count | mb |" : "")
        .append(
            " shape | MEC ran | MEC ms | MEC ROWS ms | MEC FUSED ms | im2col ms | oneDNN ms "
                + "| MEC/oneDNN | MEC/im2col | workspace MEC | workspace im2col | oneDNN scratchpad | oneDNN impl |\n");
    md.append("|---|")
        .append(network ? "---|---|" : "")
        .append("---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    List<Double> vsDn = new ArrayList<>(), vsIm = new ArrayList<>();
    for (Map<Algo, Row> m : present) {
      Row any = m.values().iterator().next(),
          mec = m.get(Algo.MEC),
          rows = m.get(Algo.MEC_ROWS),
          fused = m.get(Algo.MEC_FUSED),
          im = m.get(Algo.IM2COL),
          dn = m.get(Algo.ONEDNN);
      vsDn.add(Report.div(mec, dn));
      vsIm.add(Report.div(mec, im));
      md.append("| ").append(any.layer()).append(" | ");
      if (network) md.append(any.count()).append(" | ").append(any.batch()).append(" | ");
      md.append(NetworkReport.shortShape(any.shape()))
          .append(" | ")
          .append(mec == null ? "–" : mec.resolved().replace("MEC_", ""))
          .append(" | ")
          .append(ms(mec))
          .append(" | ")
          .append(ms(rows))
          .append(" | ")
          .append(ms(fused))
          .append(" | ")
          .append(ms(im))
          .append(" | ")
          .append(ms(dn))
          .append(" | ")
          .append(Report.ratio(Report.div(mec, dn)))
          .append(" | ")
          .append(Report.ratio(Report.div(mec, im)))
          .append(" | ")
          .append(ws(mec))
          .append(" | ")
          .append(ws(im))
          .append(" | ")
          .append(ws(dn))
          .append(" | ")
          .append(dn == null ? "" : dn.resolved().replace("|", "/"))
          .append(" |\n");
    }
    md.append('\n');
    md.append(
        String.format(
            Locale.ROOT,
            "Geometric mean over %d layer(s): MEC/oneDNN **%s**, MEC/im2col **%s** (%s).%n%n",
            present.size(),
            Report.ratio(Report.geomean(vsDn)),
            Report.ratio(Report.geomean(vsIm)),
            c.shortLabel()));
  }

  /**
   * A network's totals in one JVM: Σ median × count over the layers that MEC, im2col and oneDNN all
   * ran.
   */
  private static String totals(Report.Config c, java.util.Collection<Map<Algo, Row>> layers) {
    double mec = 0, im = 0, dn = 0;
    int n = 0;
    for (Map<Algo, Row> m : layers) {
      Row a = m.get(Algo.MEC), b = m.get(Algo.IM2COL), x = m.get(Algo.ONEDNN);
      if (a == null || b == null || x == null) continue;
      n++;
      mec += a.medianMs() * a.count();
      im += b.medianMs() * b.count();
      dn += x.medianMs() * x.count();
    }
    if (n == 0)
      return "- " + c.shortLabel() + ": no layer with results of MEC, im2col and oneDNN.\n\n";
    return String.format(
        Locale.ROOT,
        "- %s: Σ median × count over %d of %d layer(s): MEC %s ms, im2col %s ms, oneDNN %s ms; "
            + "MEC/oneDNN **%s**, MEC/im2col **%s**.%n%n",
        c.shortLabel(),
        n,
        layers.size(),
        Report.ms(mec),
        Report.ms(im),
        Report.ms(dn),
        Report.ratio(mec / dn),
        Report.ratio(mec / im));
  }

  private static String ms(Row r) {
    return r == null ? "–" : Report.ms(r.medianMs());
  }

  private static String ws(Row r) {
    return r == null ? "–" : Report.bytes(r.workspaceBytes());
  }

  private static Algo algo(String name) {
    try {
      return Algo.valueOf(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
