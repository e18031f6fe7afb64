package org.mec4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The report's sections of the backward passes (one per direction that has rows): per layer and
 * JVM, the median time of MEC (auto), MEC_ROWS, MEC_FUSED, im2col and oneDNN, MEC/oneDNN and
 * MEC/im2col with their geometric means, and each one's workspace for that pass (oneDNN: its
 * primitive's scratchpad); per network, its totals in each JVM.
 */
final class BackwardReport {
  private BackwardReport() {}

  static List<Map<String, Object>> sections(Report.Input in) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Dir d : List.of(Dir.BWD_D, Dir.BWD_W)) {
      // a model's ConvTranspose nodes (bwd_d) are in the model's own section
      List<Row> rows = in.rows(d).stream().filter(r -> !r.kind().startsWith("model")).toList();
      if (rows.isEmpty()) continue;
      List<Map<String, Object>> batches = new ArrayList<>(), networks = new ArrayList<>();
      for (long b : in.batches(d)) {
        List<Map<String, Object>> jvms = new ArrayList<>();
        for (Report.Config c : in.configs()) {
          List<Map<Algo, Row>> layers =
              Report.byLayer(
                  rows.stream().filter(r -> c.ran(r) && r.kind().equals("layer") && r.batch() == b),
                  Row::layer);
          if (!layers.isEmpty()) jvms.add(table(c, layers, false));
        }
        batches.add(Map.of("batch", b, "jvms", jvms));
      }
      Set<String> names = new LinkedHashSet<>();
      for (Row r : rows) if (r.kind().equals("network")) names.add(r.network());
      for (String n : names) {
        List<Map<String, Object>> jvms = new ArrayList<>();
        for (Report.Config c : in.configs()) {
          List<Map<Algo, Row>> layers =
              Report.byLayer(
                  rows.stream()
                      .filter(r -> c.ran(r) && r.kind().equals("network") && r.network().equals(n)),
                  r -> r.layer() + "@" + r.batch());
          if (layers.isEmpty()) continue;
          Map<String, Object> t = table(c, layers, true);
          t.put("totals", totals(layers));
          jvms.add(t);
        }
        networks.add(Map.of("name", n, "jvms", jvms));
      }
      out.add(
          Map.of(
              "bwdD",
              d == Dir.BWD_D,
              "tolerance",
              Row.num(in.options().tolerance),
              "batches",
              batches,
              "networks",
              networks));
    }
    return out;
  }

  /** One JVM's table (backward-table.mustache): a line per layer, the geometric means of ratios. */
  private static Map<String, Object> table(
      Report.Config c, List<Map<Algo, Row>> layers, boolean network) {
    Report.Table t =
        NetworkReport.table(
            "layer|"
                + (network ? "×count|mb|" : "")
                + "shape|MEC ran|MEC ms|MEC ROWS ms|MEC FUSED ms|im2col ms|oneDNN ms|MEC/oneDNN|"
                + "MEC/im2col|workspace MEC|workspace im2col|oneDNN scratchpad|oneDNN impl");
    List<Double> vsDn = new ArrayList<>(), vsIm = new ArrayList<>();
    for (Map<Algo, Row> m : layers) {
      Row any = m.values().iterator().next(), mec = m.get(Algo.MEC), dn = m.get(Algo.ONEDNN);
      vsDn.add(Report.div(mec, dn));
      vsIm.add(Report.div(mec, m.get(Algo.IM2COL)));
      List<Object> cells = new ArrayList<>(List.of(any.layer()));
      if (network) cells.addAll(List.of(any.count(), any.batch()));
      cells.add(NetworkReport.shortShape(any.shape()));
      cells.add(mec == null ? "–" : mec.resolved().replace("MEC_", ""));
      for (Algo a : List.of(Algo.MEC, Algo.MEC_ROWS, Algo.MEC_FUSED, Algo.IM2COL, Algo.ONEDNN))
        cells.add(Report.ms(m.get(a)));
      cells.add(Report.ratio(Report.div(mec, dn)));
      cells.add(Report.ratio(Report.div(mec, m.get(Algo.IM2COL))));
      for (Algo a : List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN))
        cells.add(m.get(a) == null ? "–" : Report.bytes(m.get(a).workspaceBytes()));
      cells.add(dn == null ? "" : dn.resolved().replace("|", "/"));
      t.add(cells.toArray());
    }
    return new java.util.HashMap<>(
        Map.of(
            "label", c.label(),
            "shortLabel", c.shortLabel(),
            "table", t,
            "layers", layers.size(),
            "geo",
                Map.of(
                    "dn", Report.ratio(Report.geomean(vsDn)),
                    "im", Report.ratio(Report.geomean(vsIm)))));
  }

  /**
   * A network's totals in one JVM: Σ median × count over the layers that MEC, im2col and oneDNN all
   * ran; null when there is none.
   */
  private static Map<String, Object> totals(List<Map<Algo, Row>> layers) {
    double[] sum = new double[3];
    int n = 0;
    List<Algo> three = List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN);
    for (Map<Algo, Row> m : layers) {
      if (!m.keySet().containsAll(three)) continue;
      n++;
      for (int i = 0; i < 3; i++)
        sum[i] += m.get(three.get(i)).medianMs() * m.get(three.get(i)).count();
    }
    if (n == 0) return null;
    return Map.of(
        "n", n,
        "of", layers.size(),
        "mec", Report.ms(sum[0]),
        "im", Report.ms(sum[1]),
        "dn", Report.ms(sum[2]),
        "vsDn", Report.ratio(sum[0] / sum[2]),
        "vsIm", Report.ratio(sum[0] / sum[1]));
  }
}
