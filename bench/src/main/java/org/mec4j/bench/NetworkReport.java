package org.mec4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.mec4j.Conv2d;

/**
 * Whole networks and real models: per network (or model), JVM and batch, the time Σ (median ×
 * count) of MEC (auto), im2col, oneDNN and ONNX Runtime, their ratios, each one's peak workspace,
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
   * @param rows every layer's rows, by algorithm
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

    /**
     * As the tables read it, by algorithm: {{ms.MEC}}, {{vs.ONEDNN}} (MEC over oneDNN), {{peak.X}},
     * and the same of the depthwise layers ({{dwMs.X}}, {{dwVs.X}}).
     */
    Map<String, Object> view() {
      Map<String, String> ms = new HashMap<>(), vs = new HashMap<>(), peak = new HashMap<>();
      Map<String, String> dwMs = new HashMap<>(), dwVs = new HashMap<>();
      for (Algo a : ALGOS) {
        ms.put(a.name(), Report.ms(total(a)));
        vs.put(a.name(), Report.ratio(ratio(Algo.MEC, a)));
        peak.put(a.name(), Report.bytes(peak(a)));
        dwMs.put(a.name(), Report.ms(dw(a)));
        dwVs.put(a.name(), Report.ratio(dwRatio(Algo.MEC, a)));
      }
      Map<String, Object> v =
          new HashMap<>(Map.of("ms", ms, "vs", vs, "peak", peak, "dwMs", dwMs, "dwVs", dwVs));
      Map<String, Integer> ran = new LinkedHashMap<>();
      for (Map<Algo, Row> l : rows)
        if (l.containsKey(Algo.MEC) && isDepthwise(l.get(Algo.MEC)))
          ran.merge(new Report.Cell(l.get(Algo.MEC)).variant(), 1, Integer::sum);
      v.put(
          "dwRan",
          String.join(", ", ran.keySet().stream().map(k -> k + " ×" + ran.get(k)).toList()));
      v.put("dwShare", Report.pct(dw(Algo.ONEDNN) / total(Algo.ONEDNN)));
      v.put("jvm", config.shortLabel());
      v.put("layers", layers + (layers < layersTotal ? " of " + layersTotal + " ⚠" : ""));
      v.put("summary", this);
      v.put("nodes", rows.stream().map(Report::layerView).toList());
      v.put("nodeCount", rows.size());
      return v;
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
    Set<Algo> ran = EnumSet.noneOf(Algo.class);
    for (Row r : rows) if (List.of(ALGOS).contains(r.algo())) ran.add(r.algo());
    Map<Algo, Double> total = new EnumMap<>(Algo.class), dw = new EnumMap<>(Algo.class);
    Map<Algo, Long> peak = new EnumMap<>(Algo.class);
    int layers = 0, dwLayers = 0;
    long convs = 0;
    for (Map<Algo, Row> m : byLayer) {
      if (ran.isEmpty() || !m.keySet().containsAll(ran)) continue;
      layers++;
      Row any = m.values().iterator().next();
      convs += any.count();
      if (isDepthwise(any)) dwLayers++;
      for (Algo a : ran) {
        Row r = m.get(a);
        total.merge(a, r.medianMs() * r.count(), Double::sum);
        peak.merge(a, r.workspaceBytes(), Math::max);
        if (isDepthwise(any)) dw.merge(a, r.medianMs() * r.count(), Double::sum);
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
    int layersTotal = Math.max(expectedPerBatch, byLayer.size());
    return new Summary(
        kind, network, b, c, layers, layersTotal, convs, total, peak, dwLayers, dw, byLayer);
  }

  /** "56×56×64 → 128, 3×3 s2 p1 g64 d2" (only what is not default). */
  static String shortShape(Row r) {
    Conv2d c = r.conv();
    if (c == null) return r.shape();
    String s =
        String.format(
            "%d×%d×%d → %d, %d×%d",
            c.inputHeight(),
            c.inputWidth(),
            c.inputChannels(),
            c.outputChannels(),
            c.kernelHeight(),
            c.kernelWidth());
    if (c.strideHeight() > 1 || c.strideWidth() > 1)
      s +=
          " s"
              + c.strideHeight()
              + (c.strideWidth() != c.strideHeight() ? "×" + c.strideWidth() : "");
    long p = c.padTop();
    if (p + c.padBottom() + c.padLeft() + c.padRight() > 0)
      s +=
          " p"
              + p
              + (c.padBottom() == p && c.padLeft() == p && c.padRight() == p
                  ? ""
                  : "," + c.padBottom() + "," + c.padLeft() + "," + c.padRight());
    if (c.groups() > 1) s += c.isDepthwise() ? " dw" : " g" + c.groups();
    if (c.dilationHeight() > 1 || c.dilationWidth() > 1) s += " d" + c.dilationHeight();
    return s;
  }

  static boolean isDepthwise(Row r) {
    return r.conv() != null && r.conv().isDepthwise();
  }

  /** networks.csv's columns (other tools read them by name: only ever add at the end). */
  static final List<String> CSV_COLUMNS =
      List.of(
          ("network,batch,blas,threads,layers,layers_total,convolutions,mec_ms,im2col_ms,onednn_ms,"
                  + "mec_over_onednn,mec_over_im2col,mec_peak_workspace_bytes,"
                  + "im2col_peak_workspace_bytes,onednn_peak_scratchpad_bytes,depthwise_layers,"
                  + "depthwise_mec_ms,depthwise_onednn_ms,depthwise_mec_over_onednn,onnxruntime_ms,"
                  + "mec_over_onnxruntime,depthwise_onnxruntime_ms,depthwise_mec_over_onnxruntime,"
                  + "kind,whole_model_onnxruntime_ms,whole_model_executor_ms")
              .split(","));

  /** networks.csv: the networks' summaries, then the models' (with their whole-model times). */
  static void writeCsv(Path file, Report.Input in) throws IOException {
    List<String> lines = new ArrayList<>(List.of(String.join(",", CSV_COLUMNS)));
    for (Summary x : Stream.concat(summaries(in).stream(), modelSummaries(in).stream()).toList()) {
      boolean model = x.kind().equals("model");
      Row ort = whole(in, x.network(), x.config(), x.config().threads(), "ONNXRUNTIME");
      Row executor = whole(in, x.network(), x.config(), x.config().threads(), "EXECUTOR");
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
              model ? Row.num(ort == null ? Double.NaN : ort.medianMs()) : "",
              model ? Row.num(executor == null ? Double.NaN : executor.medianMs()) : ""));
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  /** A model's whole-model run by ONNXRUNTIME or EXECUTOR in a JVM at a thread count, or null. */
  private static Row whole(
      Report.Input in, String model, Report.Config c, int threads, String algorithm) {
    for (Row r : in.rows())
      if (r.kind().equals("model_run")
          && r.network().equals(model)
          && r.blas().equals(c.blas())
          && r.threads() == threads
          && r.algorithm().equals(algorithm)) return r;
    return null;
  }

  /** The report's "Whole networks" section. */
  static Map<String, Object> networks(Report.Input in) {
    List<Map<String, Object>> all = summaries(in).stream().map(Summary::view).toList();
    Map<String, List<Double>> vsDn = new LinkedHashMap<>(), vsOrt = new LinkedHashMap<>();
    for (Summary s : summaries(in)) {
      String k = s.config().shortLabel();
      vsDn.computeIfAbsent(k, x -> new ArrayList<>()).add(s.ratio(Algo.MEC, Algo.ONEDNN));
      vsOrt.computeIfAbsent(k, x -> new ArrayList<>()).add(s.ratio(Algo.MEC, Algo.ONNXRUNTIME));
    }
    Map<String, Integer> why = new LinkedHashMap<>();
    for (Issue i : in.issues())
      if (i.severity().equals("skipped") && i.algorithm().equals("list"))
        why.merge(i.message().replaceAll(":.*", ""), 1, Integer::sum);
    Map<String, Object> m = new HashMap<>();
    m.put("batches", in.options().networkBatches.isEmpty() ? null : in.options().networkBatches);
    m.put("summaries", all);
    m.put(
        "geo",
        vsDn.keySet().stream()
            .map(
                k ->
                    Map.of(
                        "jvm",
                        k,
                        "dn",
                        Report.Tally.of(vsDn.get(k)),
                        "ort",
                        Report.Tally.of(vsOrt.get(k))))
            .toList());
    List<Map<String, Object>> dw =
        all.stream().filter(s -> ((Summary) s.get("summary")).dwLayers() > 0).toList();
    m.put("depthwise", dw.isEmpty() ? null : Map.of("rows", dw));
    m.put(
        "skips",
        why.isEmpty()
            ? null
            : String.join(", ", why.keySet().stream().map(k -> why.get(k) + " " + k).toList()));
    return m;
  }

  /** A section per model: its node totals per JVM, the whole model's times, its issues, nodes. */
  static List<Map<String, Object>> models(Report.Input in) {
    Set<String> models = new LinkedHashSet<>();
    for (Row r : in.rows()) if (Report.isModel(r)) models.add(r.network());
    for (Issue i : in.issues()) if (modelOf(in, i) != null) models.add(modelOf(in, i));
    List<Map<String, Object>> out = new ArrayList<>();
    for (String model : models) {
      String inputs = "";
      for (Row r : in.rows())
        if (r.kind().equals("model_run") && r.network().equals(model)) inputs = r.shape();
      for (var e : in.envs().values()) inputs = e.getOrDefault("model." + model, inputs);
      List<String> issues = new ArrayList<>();
      Set<String> seen = new LinkedHashSet<>();
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
      Map<String, Object> m = new HashMap<>();
      m.put("name", model);
      m.put("inputs", inputs.isEmpty() ? "?" : inputs);
      m.put(
          "summaries",
          modelSummaries(in).stream()
              .filter(s -> s.network().equals(model))
              .map(Summary::view)
              .toList());
      m.put("whole", wholeModel(in, model));
      m.put("issues", issues.isEmpty() ? null : Map.of("rows", issues));
      out.add(m);
    }
    return out;
  }

  /**
   * ONNX Runtime's and OnnxExecutor's whole-model times per JVM; at 1 thread too when the run timed
   * them there and no JVM of its own ran at 1 thread.
   */
  private static List<List<String>> wholeModel(Report.Input in, String model) {
    List<List<String>> out = new ArrayList<>();
    for (Report.Config c : in.configs()) {
      Set<Integer> threads = new TreeSet<>();
      for (Row r : in.rows())
        if (r.kind().equals("model_run")
            && r.network().equals(model)
            && r.blas().equals(c.blas())
            && (r.threads() == c.threads() || r.threads() == 1)) threads.add(r.threads());
      for (int n : threads) {
        Row o = whole(in, model, c, n, "ONNXRUNTIME"), e = whole(in, model, c, n, "EXECUTOR");
        if ((o == null && e == null)
            || (n != c.threads() && in.configs().contains(new Report.Config(c.blas(), n))))
          continue;
        out.add(
            List.of(
                c.shortLabel(),
                Integer.toString(n),
                new Report.Cell(o).ms(),
                new Report.Cell(e).ms(),
                Report.ratio(Report.div(e, o)),
                e == null ? "–" : Row.sci(e.maxRelErr())));
      }
    }
    return out;
  }

  /** The model an issue is about (its layer is MODEL/NODE), or null. */
  private static String modelOf(Report.Input in, Issue i) {
    for (var e : in.envs().values())
      for (String k : e.keySet())
        if (k.startsWith("model.") && i.layer().startsWith(k.substring(6) + "/"))
          return k.substring(6);
    return null;
  }
}
