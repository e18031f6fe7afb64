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
      for (String n :
          new LinkedHashSet<>(
              rows.stream().filter(r -> r.kind().equals("network")).map(Row::network).toList()))
        networks.add(
            Map.of(
                "name",
                n,
                "network",
                true,
                "jvms",
                jvms(in, rows, r -> r.kind().equals("network") && r.network().equals(n))));
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
      List<Map<Algo, Row>> layers =
          Report.byLayer(
              rows.stream().filter(r -> c.ran(r) && which.test(r)),
              r -> r.layer() + "@" + r.batch());
      if (layers.isEmpty()) continue;
      List<Double> vsDn = new ArrayList<>(), vsIm = new ArrayList<>();
      double[] sum = new double[3];
      int n = 0;
      List<Algo> three = List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN);
      for (Map<Algo, Row> m : layers) {
        vsDn.add(Report.div(m.get(Algo.MEC), m.get(Algo.ONEDNN)));
        vsIm.add(Report.div(m.get(Algo.MEC), m.get(Algo.IM2COL)));
        if (!m.keySet().containsAll(three)) continue;
        n++;
        for (int i = 0; i < 3; i++)
          sum[i] += m.get(three.get(i)).medianMs() * m.get(three.get(i)).count();
      }
      Map<String, Object> v = new HashMap<>();
      v.put("label", c.label());
      v.put("jvm", c.shortLabel());
      v.put("layers", layers.stream().map(Report::layerView).toList());
      v.put("layerCount", layers.size());
      v.put("geoDn", Report.ratio(Report.geomean(vsDn)));
      v.put("geoIm", Report.ratio(Report.geomean(vsIm)));
      v.put(
          "totals",
          n == 0
              ? null
              : Map.of(
                  "n",
                  n,
                  "of",
                  layers.size(),
                  "mec",
                  Report.ms(sum[0]),
                  "im",
                  Report.ms(sum[1]),
                  "dn",
                  Report.ms(sum[2]),
                  "vsDn",
                  Report.ratio(sum[0] / sum[2]),
                  "vsIm",
                  Report.ratio(sum[0] / sum[1])));
      out.add(v);
    }
    return out;
  }
}
