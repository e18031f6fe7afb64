package org.mec4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.mec4j.Conv2d;

/**
 * Whole-network totals from the per-layer "network" rows: per network, JVM and batch, the forward
 * time Σ (median × count) of MEC (auto), im2col, oneDNN and ONNX Runtime, their ratios, each one's
 * peak workspace, and the depthwise layers apart. networks.csv and the report's section.
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
      Map<Algo, Double> dwMs) {
    double total(Algo a) {
      return totalMs.getOrDefault(a, Double.NaN);
    }

    double ratio(Algo a, Algo b) {
      return total(a) / total(b);
    }

    double dwRatio(Algo a, Algo b) {
      return dwLayers == 0
          ? Double.NaN
          : dwMs.getOrDefault(a, Double.NaN) / dwMs.getOrDefault(b, Double.NaN);
    }

    long peak(Algo a) {
      return peakBytes.getOrDefault(a, -1L);
    }
  }

  /** Whether the run has forward rows of network layers (the totals here are forward passes). */
  static boolean any(Report.Input in) {
    return in.rows(Dir.FWD).stream().anyMatch(r -> r.kind().equals("network"));
  }

  /** networks.csv: the networks' summaries, then the models'. */
  static List<Summary> allSummaries(Report.Input in) {
    List<Summary> all = new ArrayList<>(summaries(in));
    all.addAll(ModelReport.summaries(in));
    return all;
  }

  /** Every summary: networks in row order, then JVMs in run order, then batches. */
  static List<Summary> summaries(Report.Input in) {
    List<Row> net = in.rows(Dir.FWD).stream().filter(r -> r.kind().equals("network")).toList();
    return summaries(
        in, "network", net, expectedLayers(in), !in.options().networkBatches.isEmpty());
  }

  /**
   * Summaries of rows of one kind ("network", or "model": every direction, a ConvTranspose node's
   * backward-data pass counted as the node).
   */
  static List<Summary> summaries(
      Report.Input in,
      String kind,
      List<Row> net,
      Map<String, Integer> expected,
      boolean perBatch) {
    Set<String> networks = new LinkedHashSet<>();
    for (Row r : net) networks.add(r.network());
    List<Summary> out = new ArrayList<>();
    for (String n : networks) {
      List<Row> rn = net.stream().filter(r -> r.network().equals(n)).toList();
      List<List<Long>> groups = new ArrayList<>();
      TreeSet<Long> batches = new TreeSet<>();
      for (Row r : rn) batches.add(r.batch());
      if (perBatch) for (long b : batches) groups.add(List.of(b));
      else groups.add(new ArrayList<>(batches));
      for (Report.Config c : in.configs())
        for (List<Long> g : groups) {
          List<Row> rows =
              rn.stream()
                  .filter(
                      r ->
                          g.contains(r.batch())
                              && r.blas().equals(c.blas())
                              && r.threads() == c.threads())
                  .toList();
          if (rows.isEmpty()) continue;
          out.add(summarize(kind, n, g, c, rows, expected.get(n)));
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
    Map<String, Map<Algo, Row>> byLayer = new LinkedHashMap<>();
    Set<Algo> ran = java.util.EnumSet.noneOf(Algo.class);
    for (Row r : rows) {
      Algo a = algo(r.algorithm());
      if (a == null) continue;
      byLayer
          .computeIfAbsent(r.layer() + "@" + r.batch(), k -> new EnumMap<>(Algo.class))
          .put(a, r);
      if (List.of(ALGOS).contains(a)) ran.add(a);
    }
    Map<Algo, Double> total = new EnumMap<>(Algo.class), dw = new EnumMap<>(Algo.class);
    Map<Algo, Long> peak = new EnumMap<>(Algo.class);
    int layers = 0, dwLayers = 0;
    long convs = 0;
    for (Map<Algo, Row> m : byLayer.values()) {
      if (ran.isEmpty() || !m.keySet().containsAll(ran)) continue;
      layers++;
      Row any = m.values().iterator().next();
      convs += any.count();
      boolean depthwise = isDepthwise(any.shape());
      if (depthwise) dwLayers++;
      for (Algo a : ran) {
        Row r = m.get(a);
        total.merge(a, r.medianMs() * r.count(), Double::sum);
        peak.merge(a, r.workspaceBytes(), Math::max);
        if (depthwise) dw.merge(a, r.medianMs() * r.count(), Double::sum);
      }
    }
    String b =
        batches.size() == 1
            ? Long.toString(batches.get(0))
            : String.join("/", batches.stream().map(String::valueOf).toList());
    // Each layer runs at every batch of --batches, or at its own mini-batch from the list: count
    // the batches a layer ran at, not the batches of the whole network.
    Map<String, Set<Long>> batchesPerLayer = new LinkedHashMap<>();
    for (Row r : rows)
      batchesPerLayer.computeIfAbsent(r.layer(), k -> new java.util.HashSet<>()).add(r.batch());
    int runsPerLayer = batchesPerLayer.values().stream().mapToInt(Set::size).max().orElse(1);
    int expectedPerBatch = expected == null ? byLayer.size() : expected * runsPerLayer;
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
        dw);
  }

  /** 2-D layers per network from the lists (when they can still be read), for "n of N layers". */
  private static Map<String, Integer> expectedLayers(Report.Input in) {
    Map<String, Integer> m = new LinkedHashMap<>();
    try {
      for (Networks.Network n : in.options().networkList()) m.put(n.name(), n.layers().size());
    } catch (RuntimeException e) {
      // a re-render after the lists moved: the rows alone
    }
    return m;
  }

  /** "56×56×64 → 128, 3×3 s2 p1 g64 d2" (only what is not default). */
  static String shortShape(String shape) {
    try {
      Conv2d c = Conv2d.parse(shape);
      StringBuilder b = new StringBuilder();
      b.append(c.inputHeight())
          .append('×')
          .append(c.inputWidth())
          .append('×')
          .append(c.inputChannels())
          .append(" → ")
          .append(c.outputChannels())
          .append(", ")
          .append(c.kernelHeight())
          .append('×')
          .append(c.kernelWidth());
      if (c.strideHeight() > 1 || c.strideWidth() > 1)
        b.append(" s")
            .append(c.strideHeight())
            .append(c.strideWidth() != c.strideHeight() ? "×" + c.strideWidth() : "");
      if (c.padTop() + c.padBottom() + c.padLeft() + c.padRight() > 0)
        b.append(" p")
            .append(c.padTop())
            .append(
                c.padBottom() != c.padTop()
                        || c.padLeft() != c.padTop()
                        || c.padRight() != c.padTop()
                    ? "," + c.padBottom() + "," + c.padLeft() + "," + c.padRight()
                    : "");
      if (c.groups() > 1) b.append(c.isDepthwise() ? " dw" : " g" + c.groups());
      if (c.dilationHeight() > 1 || c.dilationWidth() > 1)
        b.append(" d").append(c.dilationHeight());
      return b.toString();
    } catch (RuntimeException e) {
      return shape;
    }
  }

  static boolean isDepthwise(String shape) {
    try {
      return Conv2d.parse(shape).isDepthwise();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static Algo algo(String name) {
    try {
      return Algo.valueOf(name);
    } catch (IllegalArgumentException e) {
      return null;
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

  static void writeCsv(Path file, List<Summary> s) throws IOException {
    writeCsv(file, s, null);
  }

  /**
   * @param wholeModel a model summary's whole-model times (ONNX Runtime, OnnxExecutor) in its JVM,
   *     or null
   */
  static void writeCsv(
      Path file, List<Summary> s, java.util.function.Function<Summary, double[]> wholeModel)
      throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(String.join(",", CSV_COLUMNS));
    for (Summary x : s) {
      double[] whole = wholeModel == null ? null : wholeModel.apply(x);
      List<String> f =
          List.of(
              x.network(),
              x.batch(),
              x.config().blas(),
              Integer.toString(x.config().threads()),
              Integer.toString(x.layers()),
              Integer.toString(x.layersTotal()),
              Long.toString(x.convolutions()),
              Row.num(x.total(Algo.MEC)),
              Row.num(x.total(Algo.IM2COL)),
              Row.num(x.total(Algo.ONEDNN)),
              Row.num(x.ratio(Algo.MEC, Algo.ONEDNN)),
              Row.num(x.ratio(Algo.MEC, Algo.IM2COL)),
              Long.toString(x.peak(Algo.MEC)),
              Long.toString(x.peak(Algo.IM2COL)),
              Long.toString(x.peak(Algo.ONEDNN)),
              Integer.toString(x.dwLayers()),
              Row.num(x.dwMs().getOrDefault(Algo.MEC, Double.NaN)),
              Row.num(x.dwMs().getOrDefault(Algo.ONEDNN, Double.NaN)),
              Row.num(x.dwRatio(Algo.MEC, Algo.ONEDNN)),
              Row.num(x.total(Algo.ONNXRUNTIME)),
              Row.num(x.ratio(Algo.MEC, Algo.ONNXRUNTIME)),
              Row.num(x.dwMs().getOrDefault(Algo.ONNXRUNTIME, Double.NaN)),
              Row.num(x.dwRatio(Algo.MEC, Algo.ONNXRUNTIME)),
              x.kind(),
              whole == null ? "" : Row.num(whole[0]),
              whole == null ? "" : Row.num(whole[1]));
      lines.add(Csv.line(f));
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  /** The report's "Whole networks" section. */
  static String render(Report.Input in, List<Summary> all) {
    StringBuilder md = new StringBuilder();
    md.append("## Whole networks\n\n");
    md.append(
            "Each network's 2-D convolution layers from its benchdnn list (oneDNN's `tests/benchdnn/inputs/conv/`), each layer "
                + "run, checked and timed like any other; **total** = Σ over layers of median time × the number of times the network has "
                + "the layer (`*N` in the list). The totals and ratios are over the layers every algorithm ran (*layers*: of the list's); "
                + "*peak* is the largest workspace over the layers (oneDNN: its scratchpad; ONNX Runtime does not expose its own). ")
        .append(
            in.options().networkBatches.isEmpty()
                ? "Mini-batch: each list's own `mb`."
                : "Mini-batch: --batches "
                    + in.options().networkBatches
                    + " in place of the lists' own.")
        .append(
            " Per-layer rows: results.csv (`kind` network, columns `network`, `count`); this table: networks.csv.\n\n");
    md.append(
        "| network | mb | JVM | layers | convs | MEC (auto) ms | im2col ms | oneDNN ms | ONNX Runtime ms | MEC/oneDNN | MEC/ORT | MEC/im2col | peak MEC | peak im2col | peak oneDNN |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Summary s : all) {
      md.append("| ")
          .append(s.network())
          .append(" | ")
          .append(s.batch())
          .append(" | ")
          .append(s.config().shortLabel())
          .append(" | ")
          .append(s.layers())
          .append(s.layers() < s.layersTotal() ? " of " + s.layersTotal() + " ⚠" : "")
          .append(" | ")
          .append(s.convolutions())
          .append(" | ")
          .append(Report.ms(s.total(Algo.MEC)))
          .append(" | ")
          .append(Report.ms(s.total(Algo.IM2COL)))
          .append(" | ")
          .append(Report.ms(s.total(Algo.ONEDNN)))
          .append(" | ")
          .append(Report.ms(s.total(Algo.ONNXRUNTIME)))
          .append(" | ")
          .append(Report.ratio(s.ratio(Algo.MEC, Algo.ONEDNN)))
          .append(" | ")
          .append(Report.ratio(s.ratio(Algo.MEC, Algo.ONNXRUNTIME)))
          .append(" | ")
          .append(Report.ratio(s.ratio(Algo.MEC, Algo.IM2COL)))
          .append(" | ")
          .append(Report.bytes(s.peak(Algo.MEC)))
          .append(" | ")
          .append(Report.bytes(s.peak(Algo.IM2COL)))
          .append(" | ")
          .append(Report.bytes(s.peak(Algo.ONEDNN)))
          .append(" |\n");
    }
    if (all.isEmpty()) md.append("| (no network results: see the errors below) |||||||||||||||\n");
    md.append('\n');
    Map<String, List<Double>> geo = new LinkedHashMap<>(), geoOrt = new LinkedHashMap<>();
    for (Summary s : all) {
      geo.computeIfAbsent(s.config().shortLabel(), k -> new ArrayList<>())
          .add(s.ratio(Algo.MEC, Algo.ONEDNN));
      geoOrt
          .computeIfAbsent(s.config().shortLabel(), k -> new ArrayList<>())
          .add(s.ratio(Algo.MEC, Algo.ONNXRUNTIME));
    }
    for (var e : geo.entrySet()) {
      long n = e.getValue().stream().filter(v -> !Double.isNaN(v) && v > 0).count();
      List<Double> o = geoOrt.get(e.getKey());
      long no = o.stream().filter(v -> !Double.isNaN(v) && v > 0).count();
      md.append(
          String.format(
              Locale.ROOT,
              "- %s: geometric mean of MEC/oneDNN over %d network total(s): **%s**%s.%n",
              e.getKey(),
              n,
              Report.ratio(Report.geomean(e.getValue())),
              no == 0
                  ? ""
                  : String.format(
                      Locale.ROOT,
                      "; of MEC/ORT over %d: **%s**",
                      no,
                      Report.ratio(Report.geomean(o)))));
    }
    md.append('\n');

    List<Summary> dw = all.stream().filter(s -> s.dwLayers() > 0).toList();
    md.append("### Depthwise layers\n\n");
    if (dw.isEmpty()) {
      md.append("No network of this run has a depthwise layer (g = i_c).\n\n");
    } else {
      md.append(
          "The depthwise layers alone (g = i_c; MEC (auto) routes them to its depthwise path when the library has one).\n\n");
      md.append(
          "| network | mb | JVM | depthwise layers | MEC (auto) ms | oneDNN ms | MEC/oneDNN | share of the network's oneDNN time | ONNX Runtime ms | MEC/ORT | MEC ran |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (Summary s : dw) {
        double dn = s.dwMs().getOrDefault(Algo.ONEDNN, Double.NaN);
        md.append("| ")
            .append(s.network())
            .append(" | ")
            .append(s.batch())
            .append(" | ")
            .append(s.config().shortLabel())
            .append(" | ")
            .append(s.dwLayers())
            .append(" | ")
            .append(Report.ms(s.dwMs().getOrDefault(Algo.MEC, Double.NaN)))
            .append(" | ")
            .append(Report.ms(dn))
            .append(" | ")
            .append(Report.ratio(s.dwRatio(Algo.MEC, Algo.ONEDNN)))
            .append(" | ")
            .append(Report.pct(dn / s.total(Algo.ONEDNN)))
            .append(" | ")
            .append(Report.ms(s.dwMs().getOrDefault(Algo.ONNXRUNTIME, Double.NaN)))
            .append(" | ")
            .append(Report.ratio(s.dwRatio(Algo.MEC, Algo.ONNXRUNTIME)))
            .append(" | ")
            .append(dwResolved(in, s))
            .append(" |\n");
      }
      md.append('\n');
    }

    md.append("### Per layer\n\n");
    for (Summary s : all) {
      md.append("<details><summary>")
          .append(s.network())
          .append(", mb ")
          .append(s.batch())
          .append(", ")
          .append(s.config().shortLabel())
          .append("</summary>\n\n");
      md.append(
          "| layer | ×count | mb | shape | MEC ran | MEC (auto) ms | im2col ms | oneDNN ms | ONNX Runtime ms | MEC/oneDNN | MEC/ORT | MEC/im2col | oneDNN impl |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      Map<String, Map<Algo, Row>> layers = new LinkedHashMap<>();
      for (Row r : in.rows(Dir.FWD))
        if (r.kind().equals("network")
            && r.network().equals(s.network())
            && r.blas().equals(s.config().blas())
            && r.threads() == s.config().threads()
            && List.of(s.batch().split("/")).contains(Long.toString(r.batch()))) {
          Algo a = algo(r.algorithm());
          if (a != null)
            layers
                .computeIfAbsent(r.layer() + "@" + r.batch(), k -> new EnumMap<>(Algo.class))
                .put(a, r);
        }
      for (Map<Algo, Row> m : layers.values()) {
        Row any = m.values().iterator().next(),
            mec = m.get(Algo.MEC),
            im = m.get(Algo.IM2COL),
            dn = m.get(Algo.ONEDNN),
            ort = m.get(Algo.ONNXRUNTIME);
        md.append("| ")
            .append(any.layer())
            .append(" | ")
            .append(any.count())
            .append(" | ")
            .append(any.batch())
            .append(" | ")
            .append(shortShape(any.shape()))
            .append(" | ")
            .append(mec == null ? "–" : mec.resolved().replaceAll(" \\(.*", "").replace("MEC_", ""))
            .append(" | ")
            .append(mec == null ? "–" : Report.ms(mec.medianMs()))
            .append(" | ")
            .append(im == null ? "–" : Report.ms(im.medianMs()))
            .append(" | ")
            .append(dn == null ? "–" : Report.ms(dn.medianMs()))
            .append(" | ")
            .append(ort == null ? "–" : Report.ms(ort.medianMs()))
            .append(" | ")
            .append(Report.ratio(Report.div(mec, dn)))
            .append(" | ")
            .append(Report.ratio(Report.div(mec, ort)))
            .append(" | ")
            .append(Report.ratio(Report.div(mec, im)))
            .append(" | ")
            .append(dn == null ? "" : dn.resolved())
            .append(" |\n");
      }
      md.append("\n</details>\n\n");
    }

    List<Issue> skips =
        in.issues().stream()
            .filter(i -> i.severity().equals("skipped") && i.algorithm().equals("list"))
            .toList();
    if (!skips.isEmpty()) {
      md.append("Lines of the lists that are not 2-D layers (not run): ");
      Map<String, Integer> why = new LinkedHashMap<>();
      for (Issue i : skips) why.merge(i.message().replaceAll(":.*", ""), 1, Integer::sum);
      List<String> parts = new ArrayList<>();
      for (var e : why.entrySet()) parts.add(e.getValue() + " " + e.getKey());
      md.append(String.join(", ", parts)).append(" (errors.csv).\n\n");
    }
    return md.toString();
  }

  /** What MEC (auto) resolved to on a summary's depthwise layers, e.g. "FUSED ×9". */
  private static String dwResolved(Report.Input in, Summary s) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (Row r : in.rows(Dir.FWD))
      if (r.kind().equals("network")
          && r.network().equals(s.network())
          && r.blas().equals(s.config().blas())
          && r.threads() == s.config().threads()
          && r.algorithm().equals("MEC")
          && isDepthwise(r.shape())
          && List.of(s.batch().split("/")).contains(Long.toString(r.batch())))
        m.merge(r.resolved().replaceAll(" \\(.*", "").replace("MEC_", ""), 1, Integer::sum);
    List<String> parts = new ArrayList<>();
    for (var e : m.entrySet()) parts.add(e.getKey() + " ×" + e.getValue());
    return String.join(", ", parts);
  }
}
