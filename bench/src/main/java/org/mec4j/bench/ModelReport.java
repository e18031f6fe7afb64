package org.mec4j.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * --model: per model, the totals of its Conv nodes per algorithm and JVM (networks.csv, kind
 * "model"), its whole-model times in ONNX Runtime and OnnxExecutor, and a report section each.
 */
final class ModelReport {
  private ModelReport() {}

  static final String WHOLE = "(whole model)";

  static boolean any(Report.Input in) {
    return in.rows().stream().anyMatch(r -> r.kind().startsWith("model"));
  }

  static List<String> models(Report.Input in) {
    Set<String> m = new LinkedHashSet<>();
    for (Row r : in.rows()) if (r.kind().startsWith("model")) m.add(r.network());
    for (Issue i : in.issues()) {
      String k = modelOf(in, i);
      if (k != null) m.add(k);
    }
    return new ArrayList<>(m);
  }

  /** The model an issue is about (its layer is MODEL/NODE), or null. */
  private static String modelOf(Report.Input in, Issue i) {
    for (var e : in.envs().values())
      for (String k : e.keySet())
        if (k.startsWith("model.") && i.layer().startsWith(k.substring(6) + "/"))
          return k.substring(6);
    return null;
  }

  /** Conv nodes per model, from the children's env files ("...; N Conv nodes"). */
  static Map<String, Integer> nodeCounts(Report.Input in) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (var e : in.envs().values())
      for (var kv : e.entrySet())
        if (kv.getKey().startsWith("model.")) {
          String v = kv.getValue().replaceAll(".*; (\\d+) Conv nodes$", "$1");
          try {
            m.put(kv.getKey().substring(6), Integer.parseInt(v));
          } catch (NumberFormatException x) {
            // an older env file: the rows alone
          }
        }
    return m;
  }

  static List<NetworkReport.Summary> summaries(Report.Input in) {
    List<Row> rows = in.rows().stream().filter(r -> r.kind().equals("model")).toList();
    return NetworkReport.summaries(in, "model", rows, nodeCounts(in), false);
  }

  /** The whole-model median of an algorithm (ONNXRUNTIME, EXECUTOR) at a JVM and thread count. */
  static Row whole(Report.Input in, String model, String blas, int threads, String algorithm) {
    for (Row r : in.rows())
      if (r.kind().equals("model_run")
          && r.network().equals(model)
          && r.blas().equals(blas)
          && r.threads() == threads
          && r.algorithm().equals(algorithm)) return r;
    return null;
  }

  /** networks.csv's whole-model columns for a model summary: ONNX Runtime, OnnxExecutor (ms). */
  static Function<NetworkReport.Summary, double[]> wholeTimes(Report.Input in) {
    return s -> {
      if (!s.kind().equals("model")) return null;
      Row o = whole(in, s.network(), s.config().blas(), s.config().threads(), "ONNXRUNTIME");
      Row e = whole(in, s.network(), s.config().blas(), s.config().threads(), "EXECUTOR");
      return new double[] {
        o == null ? Double.NaN : o.medianMs(), e == null ? Double.NaN : e.medianMs()
      };
    };
  }

  /** A section per model. */
  static String render(Report.Input in) {
    StringBuilder md = new StringBuilder();
    List<NetworkReport.Summary> all = summaries(in);
    for (String model : models(in)) {
      md.append("## Model ").append(model).append("\n\n");
      String inputs = "";
      for (Row r : in.rows())
        if (r.kind().equals("model_run") && r.network().equals(model)) inputs = r.shape();
      for (var e : in.envs().values())
        if (e.containsKey("model." + model)) inputs = e.get("model." + model);
      md.append("Input (seeded, uniform in [-1, 1)): ")
          .append(inputs.isEmpty() ? "?" : inputs)
          .append(
              ". ONNX Runtime ran the whole model once with every Conv's input and output exposed as graph outputs; "
                  + "each Conv node then ran on its real input with its real weights and bias (a ConvTranspose node: "
                  + "mec4j's backward-data pass, the output compared without its bias), and every algorithm's output "
                  + "was checked against ONNX Runtime's own output of the node (max|diff|/max|ref| ≤ "
                  + Row.num(in.options().tolerance)
                  + "·2⁻²³·√K) before it was timed. **total** = Σ medians over the nodes every algorithm ran; ONNX "
                  + "Runtime's column runs each node as a one-node model with the same weights. *peak*: the largest "
                  + "workspace over the nodes (oneDNN: its scratchpad).\n\n");
      md.append(
          "| JVM | nodes | MEC (auto) ms | im2col ms | oneDNN ms | ONNX Runtime ms | MEC/ORT | MEC/oneDNN | MEC/im2col | peak MEC | peak im2col | peak oneDNN |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      boolean anySummary = false;
      for (NetworkReport.Summary s : all) {
        if (!s.network().equals(model)) continue;
        anySummary = true;
        md.append("| ")
            .append(s.config().shortLabel())
            .append(" | ")
            .append(s.layers())
            .append(s.layers() < s.layersTotal() ? " of " + s.layersTotal() + " ⚠" : "")
            .append(" | ")
            .append(Report.ms(s.total(Algo.MEC)))
            .append(" | ")
            .append(Report.ms(s.total(Algo.IM2COL)))
            .append(" | ")
            .append(Report.ms(s.total(Algo.ONEDNN)))
            .append(" | ")
            .append(Report.ms(s.total(Algo.ONNXRUNTIME)))
            .append(" | ")
            .append(Report.ratio(s.ratio(Algo.MEC, Algo.ONNXRUNTIME)))
            .append(" | ")
            .append(Report.ratio(s.ratio(Algo.MEC, Algo.ONEDNN)))
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
      if (!anySummary) md.append("| (no node results: see the errors below) |||||||||||\n");
      md.append('\n');

      // Whole model.
      md.append(
          "Whole model (ONNX Runtime: the original model, all graph optimizations; OnnxExecutor: mec4j-onnx, every Conv on mec4j, NHWC; "
              + "its outputs checked against ONNX Runtime's, |a − b| ≤ 1e-4·max(1, |b|)):\n\n");
      md.append(
          "| JVM | threads | ONNX Runtime ms | OnnxExecutor ms | executor/ORT | executor's max error |\n");
      md.append("|---|---|---|---|---|---|\n");
      boolean anyWhole = false;
      for (Report.Config c : in.configs()) {
        Set<Integer> threads = new java.util.TreeSet<>();
        for (Row r : in.rows())
          if (r.kind().equals("model_run")
              && r.network().equals(model)
              && r.blas().equals(c.blas())
              && (r.threads() == c.threads() || r.threads() == 1)) threads.add(r.threads());
        for (int t : threads) {
          Row o = whole(in, model, c.blas(), t, "ONNXRUNTIME");
          Row e = whole(in, model, c.blas(), t, "EXECUTOR");
          if (o == null && e == null) continue;
          if (t != c.threads() && in.configs().contains(new Report.Config(c.blas(), t))) continue;
          anyWhole = true;
          md.append("| ")
              .append(c.shortLabel())
              .append(" | ")
              .append(t)
              .append(" | ")
              .append(o == null ? "–" : Report.ms(o.medianMs()))
              .append(" | ")
              .append(e == null ? "–" : Report.ms(e.medianMs()))
              .append(" | ")
              .append(Report.ratio(Report.div(e, o)))
              .append(" | ")
              .append(e == null ? "–" : Row.sci(e.maxRelErr()))
              .append(" |\n");
        }
      }
      if (!anyWhole) md.append("| (not run: see the errors below) ||||||\n");
      md.append('\n');

      List<Issue> issues =
          in.issues().stream()
              .filter(i -> !i.severity().equals("info") && model.equals(modelOf(in, i)))
              .toList();
      if (!issues.isEmpty()) {
        md.append("Errors and skips of this model:\n\n");
        Set<String> seen = new LinkedHashSet<>();
        for (Issue i : issues) {
          String line =
              "- "
                  + (i.isError() ? "**error** " : i.severity() + " ")
                  + i.layer().substring(model.length() + 1)
                  + " "
                  + i.algorithm()
                  + (i.isError() ? " (" + i.blas() + " t" + i.threads() + ")" : "")
                  + ": "
                  + i.message();
          if (seen.add(i.isError() ? line : i.layer() + i.algorithm() + i.message()))
            md.append(line).append('\n');
        }
        md.append('\n');
      }

      // Per node.
      for (Report.Config c : in.configs()) {
        Map<String, Map<Algo, Row>> nodes = new LinkedHashMap<>();
        for (Row r : in.rows())
          if (r.kind().equals("model")
              && r.network().equals(model)
              && r.blas().equals(c.blas())
              && r.threads() == c.threads()) {
            Algo a = algo(r.algorithm());
            if (a != null)
              nodes.computeIfAbsent(r.layer(), k -> new EnumMap<>(Algo.class)).put(a, r);
          }
        if (nodes.isEmpty()) continue;
        md.append("<details><summary>")
            .append(model)
            .append(", ")
            .append(c.shortLabel())
            .append(": ")
            .append(nodes.size())
            .append(" nodes</summary>\n\n");
        md.append(
            "| node | pass | shape | MEC ran | MEC (auto) ms | im2col ms | oneDNN ms | ONNX Runtime ms | MEC/ORT | MEC/oneDNN | worst error vs ORT |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (var e : nodes.entrySet()) {
          Map<Algo, Row> m = e.getValue();
          Row any = m.values().iterator().next(),
              mec = m.get(Algo.MEC),
              im = m.get(Algo.IM2COL),
              dn = m.get(Algo.ONEDNN),
              ort = m.get(Algo.ONNXRUNTIME);
          double worst = 0;
          for (Row r : m.values()) worst = Math.max(worst, r.maxRelErr());
          md.append("| ")
              .append(e.getKey().replace("|", "\\|"))
              .append(" | ")
              .append(any.dir().backward() ? "ConvTranspose (bwd_d)" : "fwd")
              .append(" | ")
              .append(NetworkReport.shortShape(any.shape()))
              .append(" | ")
              .append(
                  mec == null ? "–" : mec.resolved().replaceAll(" \\(.*", "").replace("MEC_", ""))
              .append(" | ")
              .append(mec == null ? "–" : Report.ms(mec.medianMs()))
              .append(" | ")
              .append(im == null ? "–" : Report.ms(im.medianMs()))
              .append(" | ")
              .append(dn == null ? "–" : Report.ms(dn.medianMs()))
              .append(" | ")
              .append(ort == null ? "–" : Report.ms(ort.medianMs()))
              .append(" | ")
              .append(Report.ratio(Report.div(mec, ort)))
              .append(" | ")
              .append(Report.ratio(Report.div(mec, dn)))
              .append(" | ")
              .append(Row.sci(worst))
              .append(" |\n");
        }
        md.append("\n</details>\n\n");
      }
    }
    return md.toString();
  }

  private static Algo algo(String name) {
    try {
      return Algo.valueOf(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
