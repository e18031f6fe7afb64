package org.mec4j.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

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
      List<Row> rows = in.rows(d).stream().filter(r -> !Report.isModel(r)).toList();
      if (rows.isEmpty()) continue;
      List<Map<String, Object>> batches = new ArrayList<>(), networks = new ArrayList<>();
      for (long b : in.batches(d))
        batches.add(
            Map.of(
                "batch",
                b,
                "jvms",
                jvms(in, rows, r -> r.kind().equals("layer") && r.batch() == b)));
      for (String n : new LinkedHashSet<>(rows.stream().map(Row::network).toList()))
        if (!n.isEmpty())
          networks.add(
              Map.of(
                  "name", n, "network", true, "jvms", jvms(in, rows, r -> r.network().equals(n))));
      out.add(Map.of("bwdD", d == Dir.BWD_D, "batches", batches, "networks", networks));
    }
    return out;
  }

  /**
   * Per JVM that ran some of these rows: its layers (backward-table.mustache), the geometric means
   * of MEC's ratios, and the totals Σ median × count over the layers MEC, im2col and oneDNN all
   * ran.
   */
  private static List<Map<String, Object>> jvms(
      Report.Input in, List<Row> rows, Predicate<Row> which) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Report.Config c : in.configs()) {
      List<Row> ran = rows.stream().filter(r -> c.ran(r) && which.test(r)).toList();
      if (ran.isEmpty()) continue;
      NetworkReport.Summary s = NetworkReport.summarize("", "", List.of(), c, ran, null);
      double mec = s.total(Algo.MEC), im = s.total(Algo.IM2COL), dn = s.total(Algo.ONEDNN);
      Map<String, Object> v = new HashMap<>();
      v.put("label", c.label());
      v.put("jvm", c.shortLabel());
      v.put("layers", s.nodes());
      v.put("layerCount", s.rows().size());
      v.put("geoDn", geo(s, Algo.ONEDNN));
      v.put("geoIm", geo(s, Algo.IM2COL));
      if (!Double.isNaN(mec + im + dn))
        v.put(
            "totals",
            Map.of(
                "n",
                s.layers(),
                "of",
                s.rows().size(),
                "mec",
                Report.ms(mec),
                "im",
                Report.ms(im),
                "dn",
                Report.ms(dn),
                "vsDn",
                Report.ratio(mec / dn),
                "vsIm",
                Report.ratio(mec / im)));
      out.add(v);
    }
    return out;
  }

  /** The geometric mean of MEC's time over another algorithm's, layer by layer. */
  private static String geo(NetworkReport.Summary s, Algo a) {
    return Report.ratio(
        Report.geomean(s.rows().stream().map(l -> Report.div(l.get(Algo.MEC), l.get(a))).toList()));
  }
}
