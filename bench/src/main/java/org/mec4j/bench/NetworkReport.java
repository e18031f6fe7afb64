package org.mec4j.bench;

import static org.mec4j.bench.Algo.IM2COL;
import static org.mec4j.bench.Algo.MEC;
import static org.mec4j.bench.Algo.ONEDNN;
import static org.mec4j.bench.Algo.ONNXRUNTIME;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.mec4j.Conv2d;

/**
 * Whole networks and real models: per network (or model), JVM and batch, the time Σ (median ×
 * count) of MEC (auto), im2col, oneDNN and ONNX Runtime, their ratios, each one's peak workspace,
 * and the depthwise layers apart. networks.csv and the report's sections of both.
 */
final class NetworkReport {
  static final List<Algo> ALGOS = List.of(MEC, IM2COL, ONEDNN, ONNXRUNTIME);

  private NetworkReport() {}

  /**
   * One network in one JVM at one batch setting.
   *
   * @param batch the batch of the rows ("2", or "1/2/4" for a list with several)
   * @param layersTotal the network's 2-D layers
   * @param rows every layer's rows, by algorithm
   * @param counted the layers with a row for every algorithm that ran: the totals are over these
   */
  record Summary(
      String kind,
      String network,
      String batch,
      Report.Config config,
      int layersTotal,
      List<Map<Algo, Row>> rows,
      List<Map<Algo, Row>> counted) {

    /** Σ median × count of an algorithm over the counted layers (depthwise ones only: dw). */
    double total(Algo a) {
      return sum(a, l -> true);
    }

    double dw(Algo a) {
      return sum(a, NetworkReport::isDepthwise);
    }

    private double sum(Algo a, Predicate<Map<Algo, Row>> which) {
      return counted.stream()
          .filter(l -> l.containsKey(a) && which.test(l))
          .mapToDouble(l -> l.get(a).medianMs() * l.get(a).count())
          .reduce(Double::sum)
          .orElse(Double.NaN);
    }

    /** The largest workspace of an algorithm (oneDNN: scratchpad) over the counted layers. */
    long peak(Algo a) {
      return counted.stream()
          .filter(l -> l.containsKey(a))
          .mapToLong(l -> l.get(a).workspaceBytes())
          .max()
          .orElse(-1);
    }

    int layers() {
      return counted.size();
    }

    long convolutions() {
      return counted.stream().mapToLong(l -> any(l).count()).sum();
    }

    int dwLayers() {
      return (int) counted.stream().filter(NetworkReport::isDepthwise).count();
    }

    /** Per algorithm as the tables read it: {{MEC.ms}}, {{ONEDNN.vs}} (MEC over it), ... */
    Map<String, Totals> algos() {
      Map<String, Totals> m = new HashMap<>();
      for (Algo a : ALGOS) {
        String vs = Report.ratio(total(MEC) / total(a)), dwVs = Report.ratio(dw(MEC) / dw(a));
        String peak = Report.bytes(peak(a));
        m.put(a.name(), new Totals(Report.ms(total(a)), vs, peak, Report.ms(dw(a)), dwVs));
      }
      return m;
    }

    /** What MEC ran on the depthwise layers: "DEPTHWISE ×3". */
    String dwRan() {
      Map<String, Integer> ran = new LinkedHashMap<>();
      for (Map<Algo, Row> l : rows)
        if (l.containsKey(MEC) && isDepthwise(l))
          ran.merge(new Report.Cell(l.get(MEC)).variant(), 1, Integer::sum);
      return String.join(", ", ran.keySet().stream().map(k -> k + " ×" + ran.get(k)).toList());
    }

    String dwShare() {
      return Report.pct(dw(ONEDNN) / total(ONEDNN));
    }

    String jvm() {
      return config.shortLabel();
    }

    String layersShown() {
      return layers() + (layers() < layersTotal ? " of " + layersTotal + " ⚠" : "");
    }

    List<Map<String, Object>> nodes() {
      return rows.stream().map(Report::layerView).toList();
    }
  }

  record Totals(String ms, String vs, String peak, String dwMs, String dwVs) {}

  /** MEC over oneDNN and over ONNX Runtime on the network totals of a JVM. */
  record Geo(String jvm, Report.Tally dn, Report.Tally ort) {}

  /** Whether the run has forward rows of network layers (the totals here are forward passes). */
  static boolean any(Report.Input in) {
    return in.rows(Dir.FWD).stream().anyMatch(r -> r.kind().equals("network"));
  }

  /** Every network summary: networks in row order, then JVMs in run order, then batches. */
  static List<Summary> summaries(Report.Input in) {
    Map<String, Integer> expected = new HashMap<>();
    try {
      for (Networks.Network n : in.options().networkList())
        expected.put(n.name(), n.layers().size());
    } catch (RuntimeException e) {
      // a re-render after the lists moved: "n of N layers" from the rows alone
    }
    List<Row> net = in.rows(Dir.FWD).stream().filter(r -> r.kind().equals("network")).toList();
    return summaries(in, "network", net, expected, !in.options().networkBatches.isEmpty());
  }

  /** The models' summaries: every direction (a ConvTranspose node's bwd_d pass is the node). */
  static List<Summary> modelSummaries(Report.Input in) {
    Map<String, Integer> nodes = new HashMap<>();
    for (var e : in.envs().values())
      for (var kv : e.entrySet())
        if (kv.getKey().startsWith("model.") && kv.getValue().matches(".*; \\d+ Conv nodes$"))
          nodes.put(
              kv.getKey().substring(6),
              Integer.parseInt(kv.getValue().replaceAll(".*; (\\d+) Conv nodes$", "$1")));
    List<Row> rows = in.rows().stream().filter(r -> r.kind().equals("model")).toList();
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

  static Summary summarize(
      String kind, String name, List<Long> batches, Report.Config c, List<Row> rows, Integer n) {
    // A layer is one (name, batch); the totals take the layers every algorithm that ran has.
    List<Map<Algo, Row>> byLayer = Report.byLayer(rows.stream(), r -> r.layer() + "@" + r.batch());
    Set<Algo> ran = new LinkedHashSet<>();
    for (Row r : rows) if (ALGOS.contains(r.algo())) ran.add(r.algo());
    List<Map<Algo, Row>> counted =
        byLayer.stream().filter(m -> !ran.isEmpty() && m.keySet().containsAll(ran)).toList();
    // Each layer runs at every batch of --batches, or at its own mini-batch from the list: count
    // the batches a layer ran at, not the batches of the whole network.
    Map<String, Set<Long>> batchesPerLayer = new HashMap<>();
    for (Row r : rows)
      batchesPerLayer.computeIfAbsent(r.layer(), k -> new TreeSet<>()).add(r.batch());
    int runsPerLayer = batchesPerLayer.values().stream().mapToInt(Set::size).max().orElse(1);
    int total = Math.max(n == null ? byLayer.size() : n * runsPerLayer, byLayer.size());
    String b = String.join("/", batches.stream().map(String::valueOf).toList());
    return new Summary(kind, name, b, c, total, byLayer, counted);
  }

  private static Row any(Map<Algo, Row> layer) {
    return layer.values().iterator().next();
  }

  /** "56×56×64 → 128, 3×3 s2 p1 g64 d2" (only what is not default). */
  static String shortShape(Row r) {
    Conv2d c = r.conv();
    if (c == null) return r.shape();
    long sh = c.strideHeight(), sw = c.strideWidth(), p = c.padTop();
    boolean samePads = c.padBottom() == p && c.padLeft() == p && c.padRight() == p;
    String pads = samePads ? "" : "," + c.padBottom() + "," + c.padLeft() + "," + c.padRight();
    return String.format(
            "%d×%d×%d → %d, %d×%d",
            c.inputHeight(),
            c.inputWidth(),
            c.inputChannels(),
            c.outputChannels(),
            c.kernelHeight(),
            c.kernelWidth())
        + (sh > 1 || sw > 1 ? " s" + sh + (sw != sh ? "×" + sw : "") : "")
        + (p + c.padBottom() + c.padLeft() + c.padRight() == 0 ? "" : " p" + p + pads)
        + (c.groups() == 1 ? "" : c.isDepthwise() ? " dw" : " g" + c.groups())
        + (c.dilationHeight() > 1 || c.dilationWidth() > 1 ? " d" + c.dilationHeight() : "");
  }

  static boolean isDepthwise(Row r) {
    return r.conv() != null && r.conv().isDepthwise();
  }

  private static boolean isDepthwise(Map<Algo, Row> layer) {
    return isDepthwise(any(layer));
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
      Report.Config c = x.config();
      double t = x.total(MEC), im = x.total(IM2COL), dn = x.total(ONEDNN);
      double ort = x.total(ONNXRUNTIME), dw = x.dw(MEC), dwDn = x.dw(ONEDNN);
      double dwOrt = x.dw(ONNXRUNTIME);
      List<Object> f = new ArrayList<>(List.of(x.network(), x.batch(), c.blas(), c.threads()));
      f.addAll(List.of(x.layers(), x.layersTotal(), x.convolutions()));
      Stream.of(t, im, dn, t / dn, t / im).forEach(v -> f.add(Row.num(v)));
      f.addAll(List.of(x.peak(MEC), x.peak(IM2COL), x.peak(ONEDNN), x.dwLayers()));
      Stream.of(dw, dwDn, dw / dwDn, ort, t / ort, dwOrt, dw / dwOrt)
          .forEach(v -> f.add(Row.num(v)));
      f.add(x.kind());
      for (String a : List.of("ONNXRUNTIME", "EXECUTOR")) {
        Row r = whole(in, x.network(), c, c.threads(), a);
        f.add(!x.kind().equals("model") ? "" : Row.num(r == null ? Double.NaN : r.medianMs()));
      }
      lines.add(Csv.line(f));
    }
    Files.write(file, lines);
  }

  /** A model's whole-model run by ONNXRUNTIME or EXECUTOR in a JVM at a thread count, or null. */
  private static Row whole(
      Report.Input in, String model, Report.Config c, int threads, String algorithm) {
    return in.rows().stream()
        .filter(r -> r.kind().equals("model_run") && r.network().equals(model))
        .filter(r -> r.blas().equals(c.blas()) && r.threads() == threads)
        .filter(r -> r.algorithm().equals(algorithm))
        .findFirst()
        .orElse(null);
  }

  /** The report's "Whole networks" section. */
  static Map<String, Object> networks(Report.Input in) {
    List<Summary> all = summaries(in);
    Map<String, List<Summary>> byJvm = new LinkedHashMap<>();
    for (Summary s : all) byJvm.computeIfAbsent(s.jvm(), k -> new ArrayList<>()).add(s);
    List<Geo> geo = new ArrayList<>();
    byJvm.forEach((jvm, s) -> geo.add(new Geo(jvm, tally(s, ONEDNN), tally(s, ONNXRUNTIME))));
    Map<String, Integer> why = new LinkedHashMap<>();
    for (Issue i : in.issues())
      if (i.severity().equals("skipped") && i.algorithm().equals("list"))
        why.merge(i.message().replaceAll(":.*", ""), 1, Integer::sum);
    List<Summary> dw = all.stream().filter(s -> s.dwLayers() > 0).toList();
    List<String> skips = why.keySet().stream().map(k -> why.get(k) + " " + k).toList();
    Map<String, Object> m = new HashMap<>(Map.of("summaries", all, "geo", geo));
    m.put("batches", in.options().networkBatches.isEmpty() ? null : in.options().networkBatches);
    m.put("depthwise", dw.isEmpty() ? null : Map.of("rows", dw));
    m.put("skips", skips.isEmpty() ? null : String.join(", ", skips));
    return m;
  }

  /** MEC over another algorithm on the network totals. */
  private static Report.Tally tally(List<Summary> s, Algo a) {
    return Report.Tally.of(s.stream().map(x -> x.total(MEC) / x.total(a)).toList());
  }

  /** The models of the run, by their env entry "model.NAME". */
  private static List<String> modelNames(Report.Input in) {
    Set<String> names = new LinkedHashSet<>();
    for (var e : in.envs().values())
      for (String k : e.keySet()) if (k.startsWith("model.")) names.add(k.substring(6));
    return new ArrayList<>(names);
  }

  /** The model an issue is about (its layer is MODEL/NODE), or null. */
  private static String modelOf(List<String> models, Issue i) {
    return models.stream().filter(m -> i.layer().startsWith(m + "/")).findFirst().orElse(null);
  }

  /** A section per model: its node totals per JVM, the whole model's times, its issues, nodes. */
  static List<Map<String, Object>> models(Report.Input in) {
    Set<String> models = new LinkedHashSet<>();
    for (Row r : in.rows()) if (Report.isModel(r)) models.add(r.network());
    List<String> known = modelNames(in);
    for (Issue i : in.issues()) if (modelOf(known, i) != null) models.add(modelOf(known, i));
    List<Map<String, Object>> out = new ArrayList<>();
    for (String model : models) {
      String inputs = "";
      for (Row r : in.rows())
        if (r.kind().equals("model_run") && r.network().equals(model)) inputs = r.shape();
      for (var e : in.envs().values()) inputs = e.getOrDefault("model." + model, inputs);
      // an error once per JVM, a skip once for all
      Set<List<String>> seen = new LinkedHashSet<>();
      List<Map<String, Object>> issues = new ArrayList<>();
      for (Issue i : in.issues())
        if (!i.severity().equals("info") && model.equals(modelOf(known, i)))
          if (seen.add(List.of(i.layer(), i.algorithm(), i.message(), jvmOf(i))))
            issues.add(Map.of("i", i, "node", i.layer().substring(model.length() + 1)));
      List<Summary> summaries =
          modelSummaries(in).stream().filter(s -> s.network().equals(model)).toList();
      Map<String, Object> m = new HashMap<>(Map.of("name", model, "summaries", summaries));
      m.put("inputs", inputs.isEmpty() ? "?" : inputs);
      m.put("whole", wholeModel(in, model));
      m.put("issues", issues.isEmpty() ? null : Map.of("rows", issues));
      out.add(m);
    }
    return out;
  }

  /** The JVM of an error, "" for a skip (the same in every JVM). */
  private static String jvmOf(Issue i) {
    return i.isError() ? i.blas() + " t" + i.threads() : "";
  }

  /**
   * ONNX Runtime's and OnnxExecutor's whole-model times per JVM; at 1 thread too when the run timed
   * them there and no JVM of its own ran at 1 thread.
   */
  private static List<List<String>> wholeModel(Report.Input in, String model) {
    List<List<String>> out = new ArrayList<>();
    for (Report.Config c : in.configs())
      for (int n : new TreeSet<>(List.of(1, c.threads()))) {
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
    return out;
  }
}
