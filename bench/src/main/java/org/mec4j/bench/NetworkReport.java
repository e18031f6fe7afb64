package org.mec4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.mec4j.Conv2d;

/**
 * Whole networks and real models: per network (or model), JVM and batch, the forward time Σ (median
 * × count) of MEC (auto), im2col, oneDNN and ONNX Runtime, their ratios, each one's peak workspace,
 * and the depthwise layers apart. networks.csv and the report's sections of both.
 */
final class NetworkReport {
  static final Algo[] ALGOS = {Algo.MEC, Algo.IM2COL, Algo.ONEDNN, Algo.ONNXRUNTIME};

  private NetworkReport() {}

  /**
   * One network in one JVM at one batch setting.
   *
   * @param batch the batch of the rows ("2", or "1/2/4" for a list with several)
   * @param layers layers with a row for every algorithm that ran (the totals are over these)
   * @param layersTotal the network's 2-D layers
   * @param convolutions Σ count over {@code layers}
   * @param totalMs Σ median × count per algorithm, over {@code layers}
   * @param peakBytes max workspace per algorithm (oneDNN: scratchpad) over {@code layers}
   * @param dwLayers depthwise layers among {@code layers}
   * @param dwMs Σ median × count of the depthwise layers per algorithm
   * @param rows the rows summed up, by layer
   */
  record Summary(
      String kind,
      String network,
      String batch,
      Report.Config config,
      int layers,
      int layersTotal,
      long convolutions,
      Map<Algo, Double> totalMs,
      Map<Algo, Long> peakBytes,
      int dwLayers,
      Map<Algo, Double> dwMs,
      List<Map<Algo, Row>> rows) {
    double total(Algo a) {
      return totalMs.getOrDefault(a, Double.NaN);
    }

    double ratio(Algo a, Algo b) {
      return total(a) / total(b);
    }

    double dw(Algo a) {
      return dwMs.getOrDefault(a, Double.NaN);
    }

    double dwRatio(Algo a, Algo b) {
      return dwLayers == 0 ? Double.NaN : dw(a) / dw(b);
    }

    long peak(Algo a) {
      return peakBytes.getOrDefault(a, -1L);
    }

    /** "3 of 5 ⚠" when some layers lack an algorithm's result. */
    String layersText() {
      return layers + (layers < layersTotal ? " of " + layersTotal + " ⚠" : "");
    }

    /** The cells every totals table has: the four times, MEC's ratios, the peaks. */
    List<String> totals(Algo... ratiosTo) {
      List<String> c = new ArrayList<>();
      for (Algo a : ALGOS) c.add(Report.ms(total(a)));
      for (Algo a : ratiosTo) c.add(Report.ratio(ratio(Algo.MEC, a)));
      for (Algo a : List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN)) c.add(Report.bytes(peak(a)));
      return c;
    }
  }

  /** Whether the run has forward rows of network layers (the totals here are forward passes). */
  static boolean any(Report.Input in) {
    return in.rows(Dir.FWD).stream().anyMatch(r -> r.kind().equals("network"));
  }

  /** Every network summary: networks in row order, then JVMs in run order, then batches. */
  static List<Summary> summaries(Report.Input in) {
    List<Row> net = in.rows(Dir.FWD).stream().filter(r -> r.kind().equals("network")).toList();
    Map<String, Integer> expected = new HashMap<>();
    try {
      for (Networks.Network n : in.options().networkList())
        expected.put(n.name(), n.layers().size());
    } catch (RuntimeException e) {
      // a re-render after the lists moved: "n of N layers" from the rows alone
    }
    return summaries(in, "network", net, expected, !in.options().networkBatches.isEmpty());
  }

  /** The models' summaries: every direction (a ConvTranspose node's bwd_d pass is the node). */
  static List<Summary> modelSummaries(Report.Input in) {
    List<Row> rows = in.rows().stream().filter(r -> r.kind().equals("model")).toList();
    Map<String, Integer> nodes = new HashMap<>();
    for (var e : in.envs().values())
      for (var kv : e.entrySet())
        if (kv.getKey().startsWith("model.") && kv.getValue().matches(".*; \\d+ Conv nodes$"))
          nodes.put(
              kv.getKey().substring(6),
              Integer.parseInt(kv.getValue().replaceAll(".*; (\\d+) Conv nodes$", "$1")));
    return summaries(in, "model", rows, nodes, false);
  }

  private static List<Summary> summaries(
      Report.Input in,
      String kind,
      List<Row> net,
      Map<String, Integer> expected,
      boolean perBatch) {
    List<Summary> out = new ArrayList<>();
    for (String n : new LinkedHashSet<>(net.stream().map(Row::network).toList())) {
      List<Row> rn = net.stream().filter(r -> r.network().equals(n)).toList();
      TreeSet<Long> batches = new TreeSet<>(rn.stream().map(Row::batch).toList());
      List<List<Long>> groups =
          perBatch ? batches.stream().map(List::of).toList() : List.of(List.copyOf(batches));
      for (Report.Config c : in.configs())
        for (List<Long> g : groups) {
          List<Row> rows = rn.stream().filter(r -> g.contains(r.batch()) && c.ran(r)).toList();
          if (!rows.isEmpty()) out.add(summarize(kind, n, g, c, rows, expected.get(n)));
        }
    }
    return out;
  }

  private static Summary summarize(
      String kind,
      String network,
      List<Long> batches,
      Report.Config c,
      List<Row> rows,
      Integer expected) {
    // A layer is one (name, batch); the totals take the layers every algorithm that ran has.
    List<Map<Algo, Row>> byLayer = Report.byLayer(rows.stream(), r -> r.layer() + "@" + r.batch());
    Set<Algo> ran = java.util.EnumSet.noneOf(Algo.class);
    for (Row r : rows) if (r.algo() != null && List.of(ALGOS).contains(r.algo())) ran.add(r.algo());
    Map<Algo, Double> total = new EnumMap<>(Algo.class), dw = new EnumMap<>(Algo.class);
    Map<Algo, Long> peak = new EnumMap<>(Algo.class);
    int layers = 0, dwLayers = 0;
    long convs = 0;
    for (Map<Algo, Row> m : byLayer) {
      if (ran.isEmpty() || !m.keySet().containsAll(ran)) continue;
      layers++;
      Row any = m.values().iterator().next();
      convs += any.count();
      boolean depthwise = isDepthwise(any);
      if (depthwise) dwLayers++;
      for (Algo a : ran) {
        Row r = m.get(a);
        total.merge(a, r.medianMs() * r.count(), Double::sum);
        peak.merge(a, r.workspaceBytes(), Math::max);
        if (depthwise) dw.merge(a, r.medianMs() * r.count(), Double::sum);
      }
    }
    // Each layer runs at every batch of --batches, or at its own mini-batch from the list: count
    // the batches a layer ran at, not the batches of the whole network.
    Map<String, Set<Long>> batchesPerLayer = new HashMap<>();
    for (Row r : rows)
      batchesPerLayer.computeIfAbsent(r.layer(), k -> new TreeSet<>()).add(r.batch());
    int runsPerLayer = batchesPerLayer.values().stream().mapToInt(Set::size).max().orElse(1);
    int expectedPerBatch = expected == null ? byLayer.size() : expected * runsPerLayer;
    String b = String.join("/", batches.stream().map(String::valueOf).toList());
    return new Summary(
        kind,
        network,
        b,
        c,
        layers,
        Math.max(expectedPerBatch, byLayer.size()),
        convs,
        total,
        peak,
        dwLayers,
        dw,
        byLayer);
  }

  /** "56×56×64 → 128, 3×3 s2 p1 g64 d2" (only what is not default). */
  static String shortShape(String shape) {
    Conv2d c;
    try {
      c = Conv2d.parse(shape);
    } catch (RuntimeException e) {
      return shape;
    }
    StringBuilder b = new StringBuilder();
    b.append(c.inputHeight())
        .append('×')
        .append(c.inputWidth())
        .append('×')
        .append(c.inputChannels());
    b.append(" → ").append(c.outputChannels()).append(", ");
    b.append(c.kernelHeight()).append('×').append(c.kernelWidth());
    if (c.strideHeight() > 1 || c.strideWidth() > 1)
      b.append(" s")
          .append(c.strideHeight())
          .append(c.strideWidth() != c.strideHeight() ? "×" + c.strideWidth() : "");
    boolean even =
        c.padBottom() == c.padTop() && c.padLeft() == c.padTop() && c.padRight() == c.padTop();
    if (c.padTop() + c.padBottom() + c.padLeft() + c.padRight() > 0)
      b.append(" p")
          .append(c.padTop())
          .append(even ? "" : "," + c.padBottom() + "," + c.padLeft() + "," + c.padRight());
    if (c.groups() > 1) b.append(c.isDepthwise() ? " dw" : " g" + c.groups());
    if (c.dilationHeight() > 1 || c.dilationWidth() > 1) b.append(" d").append(c.dilationHeight());
    return b.toString();
  }

  static boolean isDepthwise(Row r) {
    try {
      return Conv2d.parse(r.shape()).isDepthwise();
    } catch (RuntimeException e) {
      return false;
    }
  }

  static final List<String> CSV_COLUMNS =
      List.of(
          "network",
          "batch",
          "blas",
          "threads",
          "layers",
          "layers_total",
          "convolutions",
          "mec_ms",
          "im2col_ms",
          "onednn_ms",
          "mec_over_onednn",
          "mec_over_im2col",
          "mec_peak_workspace_bytes",
          "im2col_peak_workspace_bytes",
          "onednn_peak_scratchpad_bytes",
          "depthwise_layers",
          "depthwise_mec_ms",
          "depthwise_onednn_ms",
          "depthwise_mec_over_onednn",
          "onnxruntime_ms",
          "mec_over_onnxruntime",
          "depthwise_onnxruntime_ms",
          "depthwise_mec_over_onnxruntime",
          "kind",
          "whole_model_onnxruntime_ms",
          "whole_model_executor_ms");

  /** networks.csv: the networks' summaries, then the models' (with their whole-model times). */
  static void writeCsv(Path file, Report.Input in) throws IOException {
    List<String> lines = new ArrayList<>(List.of(String.join(",", CSV_COLUMNS)));
    for (Summary x : Stream.concat(summaries(in).stream(), modelSummaries(in).stream()).toList()) {
      boolean model = x.kind().equals("model");
      lines.add(
          Csv.line(
              x.network(),
              x.batch(),
              x.config().blas(),
              x.config().threads(),
              x.layers(),
              x.layersTotal(),
              x.convolutions(),
              Row.num(x.total(Algo.MEC)),
              Row.num(x.total(Algo.IM2COL)),
              Row.num(x.total(Algo.ONEDNN)),
              Row.num(x.ratio(Algo.MEC, Algo.ONEDNN)),
              Row.num(x.ratio(Algo.MEC, Algo.IM2COL)),
              x.peak(Algo.MEC),
              x.peak(Algo.IM2COL),
              x.peak(Algo.ONEDNN),
              x.dwLayers(),
              Row.num(x.dw(Algo.MEC)),
              Row.num(x.dw(Algo.ONEDNN)),
              Row.num(x.dwRatio(Algo.MEC, Algo.ONEDNN)),
              Row.num(x.total(Algo.ONNXRUNTIME)),
              Row.num(x.ratio(Algo.MEC, Algo.ONNXRUNTIME)),
              Row.num(x.dw(Algo.ONNXRUNTIME)),
              Row.num(x.dwRatio(Algo.MEC, Algo.ONNXRUNTIME)),
              x.kind(),
              model ? Row.num(whole(in, x, x.config().threads(), "ONNXRUNTIME")) : "",
              model ? Row.num(whole(in, x, x.config().threads(), "EXECUTOR")) : ""));
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  /** The whole-model median of ONNXRUNTIME or EXECUTOR in a summary's JVM at a thread count. */
  private static double whole(Report.Input in, Summary s, int threads, String algorithm) {
    for (Row r : in.rows())
      if (r.kind().equals("model_run")
          && r.network().equals(s.network())
          && r.blas().equals(s.config().blas())
          && r.threads() == threads
          && r.algorithm().equals(algorithm)) return r.medianMs();
    return Double.NaN;
  }

  /** The per-layer (per-node) cells both sections share, after their own first columns. */
  private static List<String> times(Map<Algo, Row> m, Algo... ratiosTo) {
    Row mec = m.get(Algo.MEC);
    List<String> c = new ArrayList<>();
    c.add(mec == null ? "–" : mec.resolved().replaceAll(" \\(.*", "").replace("MEC_", ""));
    for (Algo a : ALGOS) c.add(Report.ms(m.get(a)));
    for (Algo a : ratiosTo) c.add(Report.ratio(Report.div(mec, m.get(a))));
    return c;
  }

  /** The report's "Whole networks" section. */
  static Map<String, Object> networks(Report.Input in) {
    List<Summary> all = summaries(in);
    Map<String, Object> m = new HashMap<>();
    String times = "MEC (auto) ms|im2col ms|oneDNN ms|ONNX Runtime ms|";
    Report.Table totals =
        table(
            "network|mb|JVM|layers|convs|"
                + times
                + "MEC/oneDNN|MEC/ORT|MEC/im2col|peak MEC|peak im2col|peak oneDNN");
    Report.Table dw =
        table(
            "network|mb|JVM|depthwise layers|MEC (auto) ms|oneDNN ms|MEC/oneDNN|share of the network's oneDNN time|ONNX Runtime ms|MEC/ORT|MEC ran");
    Map<String, List<Double>> vsDn = new LinkedHashMap<>(), vsOrt = new LinkedHashMap<>();
    List<Map<String, Object>> perLayer = new ArrayList<>();
    for (Summary s : all) {
      List<Object> row =
          new ArrayList<>(
              List.of(
                  s.network(),
                  s.batch(),
                  s.config().shortLabel(),
                  s.layersText(),
                  s.convolutions()));
      row.addAll(s.totals(Algo.ONEDNN, Algo.ONNXRUNTIME, Algo.IM2COL));
      totals.add(row.toArray());
      vsDn.computeIfAbsent(s.config().shortLabel(), k -> new ArrayList<>())
          .add(s.ratio(Algo.MEC, Algo.ONEDNN));
      vsOrt
          .computeIfAbsent(s.config().shortLabel(), k -> new ArrayList<>())
          .add(s.ratio(Algo.MEC, Algo.ONNXRUNTIME));
      if (s.dwLayers() > 0) {
        Map<String, Integer> ran = new LinkedHashMap<>();
        for (Map<Algo, Row> l : s.rows())
          if (l.get(Algo.MEC) != null && isDepthwise(l.get(Algo.MEC)))
            ran.merge(
                l.get(Algo.MEC).resolved().replaceAll(" \\(.*", "").replace("MEC_", ""),
                1,
                Integer::sum);
        dw.add(
            s.network(),
            s.batch(),
            s.config().shortLabel(),
            s.dwLayers(),
            Report.ms(s.dw(Algo.MEC)),
            Report.ms(s.dw(Algo.ONEDNN)),
            Report.ratio(s.dwRatio(Algo.MEC, Algo.ONEDNN)),
            Report.pct(s.dw(Algo.ONEDNN) / s.total(Algo.ONEDNN)),
            Report.ms(s.dw(Algo.ONNXRUNTIME)),
            Report.ratio(s.dwRatio(Algo.MEC, Algo.ONNXRUNTIME)),
            String.join(
                ", ", ran.entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue()).toList()));
      }
      Report.Table t =
          table(
              "layer|×count|mb|shape|MEC ran|"
                  + times
                  + "MEC/oneDNN|MEC/ORT|MEC/im2col|oneDNN impl");
      for (Map<Algo, Row> l : s.rows()) {
        Row any = l.values().iterator().next(), dn = l.get(Algo.ONEDNN);
        List<Object> cells =
            new ArrayList<>(
                List.of(any.layer(), any.count(), any.batch(), shortShape(any.shape())));
        cells.addAll(times(l, Algo.ONEDNN, Algo.ONNXRUNTIME, Algo.IM2COL));
        cells.add(dn == null ? "" : dn.resolved());
        t.add(cells.toArray());
      }
      perLayer.add(
          Map.of(
              "title",
              s.network() + ", mb " + s.batch() + ", " + s.config().shortLabel(),
              "table",
              t));
    }
    m.put("batches", in.options().networkBatches.isEmpty() ? null : in.options().networkBatches);
    m.put("totals", totals.orNone("no network results: see the errors below"));
    m.put(
        "geo",
        vsDn.keySet().stream()
            .map(
                k ->
                    Map.of(
                        "label",
                        k,
                        "dn",
                        Report.Tally.of(vsDn.get(k)),
                        "ort",
                        Report.Tally.of(vsOrt.get(k))))
            .toList());
    m.put("depthwise", dw.rows().isEmpty() ? null : dw);
    m.put("perLayer", perLayer);
    Map<String, Integer> why = new LinkedHashMap<>();
    for (Issue i : in.issues())
      if (i.severity().equals("skipped") && i.algorithm().equals("list"))
        why.merge(i.message().replaceAll(":.*", ""), 1, Integer::sum);
    m.put(
        "skips",
        why.isEmpty()
            ? null
            : String.join(
                ", ", why.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList()));
    return m;
  }

  /**
   * A section per model: its node totals per JVM, the whole model's times, its issues, its nodes.
   */
  static List<Map<String, Object>> models(Report.Input in) {
    Set<String> models = new LinkedHashSet<>();
    for (Row r : in.rows()) if (r.kind().startsWith("model")) models.add(r.network());
    for (Issue i : in.issues()) if (modelOf(in, i) != null) models.add(modelOf(in, i));
    List<Summary> all = modelSummaries(in);
    List<Map<String, Object>> out = new ArrayList<>();
    for (String model : models) {
      Map<String, Object> m = new HashMap<>();
      String inputs = "";
      for (Row r : in.rows())
        if (r.kind().equals("model_run") && r.network().equals(model)) inputs = r.shape();
      for (var e : in.envs().values()) inputs = e.getOrDefault("model." + model, inputs);
      m.put("name", model);
      m.put("inputs", inputs.isEmpty() ? "?" : inputs);
      m.put("tolerance", Row.num(in.options().tolerance));
      Report.Table totals =
          table(
              "JVM|nodes|MEC (auto) ms|im2col ms|oneDNN ms|ONNX Runtime ms|MEC/ORT|MEC/oneDNN|MEC/im2col|peak MEC|peak im2col|peak oneDNN");
      List<Map<String, Object>> perNode = new ArrayList<>();
      for (Summary s : all) {
        if (!s.network().equals(model)) continue;
        List<Object> row = new ArrayList<>(List.of(s.config().shortLabel(), s.layersText()));
        row.addAll(s.totals(Algo.ONNXRUNTIME, Algo.ONEDNN, Algo.IM2COL));
        totals.add(row.toArray());
        Report.Table t =
            table(
                "node|pass|shape|MEC ran|MEC (auto) ms|im2col ms|oneDNN ms|ONNX Runtime ms|MEC/ORT|MEC/oneDNN|worst error vs ORT");
        for (Map<Algo, Row> n : s.rows()) {
          Row any = n.values().iterator().next();
          List<Object> cells =
              new ArrayList<>(
                  List.of(
                      any.layer().replace("|", "\\|"),
                      any.dir().backward() ? "ConvTranspose (bwd_d)" : "fwd",
                      shortShape(any.shape())));
          cells.addAll(times(n, Algo.ONNXRUNTIME, Algo.ONEDNN));
          cells.add(Row.sci(n.values().stream().mapToDouble(Row::maxRelErr).max().orElse(0)));
          t.add(cells.toArray());
        }
        perNode.add(
            Map.of(
                "title",
                model + ", " + s.config().shortLabel() + ": " + s.rows().size() + " nodes",
                "table",
                t));
      }
      m.put("totals", totals.orNone("no node results: see the errors below"));
      m.put("whole", wholeTable(in, model));
      List<String> issues = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      for (Issue i : in.issues()) {
        if (i.severity().equals("info") || !model.equals(modelOf(in, i))) continue;
        String line =
            (i.isError() ? "**error** " : i.severity() + " ")
                + i.layer().substring(model.length() + 1)
                + " "
                + i.algorithm()
                + (i.isError() ? " (" + i.blas() + " t" + i.threads() + ")" : "")
                + ": "
                + i.message();
        if (seen.add(i.isError() ? line : i.layer() + i.algorithm() + i.message()))
          issues.add(line);
      }
      m.put("issues", issues);
      m.put("hasIssues", !issues.isEmpty());
      m.put("perNode", perNode);
      out.add(m);
    }
    return out;
  }

  /**
   * ONNX Runtime's and OnnxExecutor's whole-model times per JVM; at 1 thread too when the run timed
   * them there and no JVM of its own ran at 1 thread.
   */
  private static Report.Table wholeTable(Report.Input in, String model) {
    Report.Table t =
        table("JVM|threads|ONNX Runtime ms|OnnxExecutor ms|executor/ORT|executor's max error");
    for (Report.Config c : in.configs()) {
      Set<Integer> threads = new TreeSet<>();
      for (Row r : in.rows())
        if (r.kind().equals("model_run")
            && r.network().equals(model)
            && r.blas().equals(c.blas())
            && (r.threads() == c.threads() || r.threads() == 1)) threads.add(r.threads());
      for (int n : threads) {
        if (n != c.threads() && in.configs().contains(new Report.Config(c.blas(), n))) continue;
        Map<Algo, Row> x = new EnumMap<>(Algo.class);
        Row e = null;
        for (Row r : in.rows())
          if (r.kind().equals("model_run")
              && r.network().equals(model)
              && r.blas().equals(c.blas())
              && r.threads() == n) {
            if (r.algorithm().equals("EXECUTOR")) e = r;
            else if (r.algo() != null) x.put(r.algo(), r);
          }
        Row o = x.get(Algo.ONNXRUNTIME);
        if (o == null && e == null) continue;
        t.add(
            c.shortLabel(),
            n,
            Report.ms(o),
            Report.ms(e),
            Report.ratio(Report.div(e, o)),
            e == null ? "–" : Row.sci(e.maxRelErr()));
      }
    }
    return t.orNone("not run: see the errors below");
  }

  /** The model an issue is about (its layer is MODEL/NODE), or null. */
  private static String modelOf(Report.Input in, Issue i) {
    for (var e : in.envs().values())
      for (String k : e.keySet())
        if (k.startsWith("model.") && i.layer().startsWith(k.substring(6) + "/"))
          return k.substring(6);
    return null;
  }

  /** A table with the header "a|b|c". */
  static Report.Table table(String header) {
    return new Report.Table(header.split("\\|"));
  }
}
