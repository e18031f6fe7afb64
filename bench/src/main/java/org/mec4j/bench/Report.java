package org.mec4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.mec4j.Conv2d;

/** report.md: the tables of a run, and what the paper states beside them. */
public final class Report {
  private Report() {}

  /** Everything a report (and the charts) is made from. */
  public record Input(
      Options options,
      List<Row> rows,
      List<Issue> issues,
      Map<String, Map<String, String>> envs,
      double wallSeconds,
      List<String> argv,
      List<String> tags) {

    /** A forward row. */
    Row find(String kind, String layer, long batch, String blas, int threads, Algo a) {
      return find(kind, layer, batch, blas, threads, a, Dir.FWD);
    }

    Row find(String kind, String layer, long batch, String blas, int threads, Algo a, Dir d) {
      for (Row r : rows)
        if (r.kind().equals(kind)
            && r.layer().equals(layer)
            && r.batch() == batch
            && r.blas().equals(blas)
            && r.threads() == threads
            && r.algorithm().equals(a.name())
            && r.dir() == d) return r;
      return null;
    }

    /** The rows of one direction. */
    List<Row> rows(Dir d) {
      return rows.stream().filter(r -> r.dir() == d).toList();
    }

    /** (blas, threads) of every child, in run order. */
    List<Config> configs() {
      List<Config> out = new ArrayList<>();
      for (String t : tags) {
        int i = t.lastIndexOf("-t");
        out.add(new Config(t.substring(0, i), Integer.parseInt(t.substring(i + 2))));
      }
      return out;
    }

    /** The configurations at the largest thread count: the headline. */
    List<Config> headline() {
      int max = configs().stream().mapToInt(Config::threads).max().orElse(1);
      return configs().stream().filter(c -> c.threads() == max).toList();
    }

    /** (layer, batch) pairs of the forward layer rows, in row order. */
    List<Map.Entry<String, Long>> layerBatches(long batch) {
      return layerBatches(batch, Dir.FWD);
    }

    List<Map.Entry<String, Long>> layerBatches(long batch, Dir d) {
      Set<String> seen = new LinkedHashSet<>();
      List<Map.Entry<String, Long>> out = new ArrayList<>();
      for (Row r : rows)
        if (r.kind().equals("layer") && r.dir() == d && r.batch() == batch && seen.add(r.layer()))
          out.add(Map.entry(r.layer(), r.batch()));
      return out;
    }

    /** Batches of the forward layer rows. */
    List<Long> batches() {
      return batches(Dir.FWD);
    }

    List<Long> batches(Dir d) {
      Set<Long> b = new java.util.TreeSet<>();
      for (Row r : rows) if (r.kind().equals("layer") && r.dir() == d) b.add(r.batch());
      return new ArrayList<>(b);
    }

    Map<String, String> env(Config c) {
      return envs.getOrDefault(ChildMain.tag(c.blas(), c.threads()), Map.of());
    }
  }

  public record Config(String blas, int threads) {
    String label() {
      return (blas.equals("mkl") ? "MKL" : blas.equals("openblas") ? "OpenBLAS" : blas)
          + ", "
          + threads
          + (threads == 1 ? " thread" : " threads");
    }

    String shortLabel() {
      return (blas.equals("mkl") ? "MKL" : "OpenBLAS") + " t" + threads;
    }
  }

  static String bytes(long b) {
    if (b < 0) return "–";
    if (b == 0) return "0";
    if (b < 1024) return b + " B";
    if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    return String.format(Locale.ROOT, "%.2f GiB", b / 1073741824.0);
  }

  static String ms(double v) {
    if (Double.isNaN(v)) return "–";
    if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
    if (v >= 10) return String.format(Locale.ROOT, "%.1f", v);
    if (v >= 1) return String.format(Locale.ROOT, "%.2f", v);
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String g1(String v) {
    try {
      return String.format(Locale.ROOT, "%.1f", Double.parseDouble(v));
    } catch (RuntimeException e) {
      return "?";
    }
  }

  static String ratio(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
  }

  static String pct(double f) {
    return Double.isNaN(f) ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * f);
  }

  static double div(Row a, Row b) {
    return a == null || b == null ? Double.NaN : a.medianMs() / b.medianMs();
  }

  static double geomean(List<Double> v) {
    double s = 0;
    int n = 0;
    for (double x : v)
      if (!Double.isNaN(x) && x > 0) {
        s += Math.log(x);
        n++;
      }
    return n == 0 ? Double.NaN : Math.exp(s / n);
  }

  static String shapeOf(Row r) {
    Conv2d c = Conv2d.parse(r.shape());
    String pad =
        c.padTop() + c.padBottom() + c.padLeft() + c.padRight() == 0 ? "" : ", pad " + c.padTop();
    return c.inputHeight()
        + "×"
        + c.inputWidth()
        + "×"
        + c.inputChannels()
        + ", "
        + c.kernelHeight()
        + "×"
        + c.kernelWidth()
        + "×"
        + c.outputChannels()
        + ", s"
        + c.strideHeight()
        + pad;
  }

  public static String render(Input in, List<String> charts) {
    StringBuilder md = new StringBuilder();
    Options o = in.options();
    List<Config> configs = in.configs(), head = in.headline();
    Map<String, String> any = in.envs().values().stream().findFirst().orElse(Map.of());
    long errors = in.issues().stream().filter(Issue::isError).count();

    boolean networks = o.hasNetworks() || NetworkReport.any(in);
    boolean models = o.hasModels() || ModelReport.any(in);
    // The paper's sections only when paper (or command-line) layers were asked for, or no network
    // or model.
    boolean paper =
        !(networks || models)
            || !o.layerList().isEmpty()
            || in.rows().stream()
                .anyMatch(r -> !r.kind().equals("network") && !r.kind().startsWith("model"));
    List<String> what = new ArrayList<>();
    if (paper) what.add("the paper's layers");
    if (networks) what.add("whole networks");
    if (models) what.add("real ONNX models");
    md.append("# mec4j: MEC against im2col, oneDNN and ONNX Runtime on ")
        .append(String.join(" and ", what))
        .append("\n\n");
    md.append("Wall time **")
        .append(Progress.duration(in.wallSeconds()))
        .append("** for ")
        .append(configs.size())
        .append(" child JVM(s); started ")
        .append(any.getOrDefault("started", "?"))
        .append(".  \n");
    md.append("Command: `bench/compare.sh")
        .append(in.argv().isEmpty() ? "" : " " + String.join(" ", in.argv()))
        .append("`  \n");
    md.append("Machine: ")
        .append(Machine.describe())
        .append("; ")
        .append(any.getOrDefault("java", ""))
        .append("; ")
        .append(any.getOrDefault("onednn", "oneDNN ?"))
        .append(
            any.containsKey("onnxruntime")
                ? "; " + any.get("onnxruntime") + ", one Conv node per layer (NCHW)"
                : "")
        .append(".\n\n");
    if (errors > 0) md.append(Prose.report("errors", "errors", errors));
    md.append(
        Prose.report(
            "how-to-read",
            "tolerance",
            Row.num(o.tolerance),
            "reps",
            o.reps,
            "maxReps",
            o.maxReps,
            "minTimeMs",
            Row.num(o.minTimeMs),
            "maxAlgSeconds",
            Row.num(o.maxAlgSeconds),
            "sgemmSize",
            o.sgemmSize));
    if (models)
      md.append(
          "- **Real models** (`--model`): their Conv nodes ran on their real inputs and weights (not seeded data), and every "
              + "output, im2col's included, was checked against ONNX Runtime's own output of the node in its run of the whole "
              + "model, with the tolerance above; see each model's section.\n\n");

    // Setup.
    md.append("## Setup: one JVM per backend and thread count\n\n");
    md.append(
        "| JVM | requested | BLAS loaded (Blas.backend()) | BLAS threads | oneDNN threads (its verbose) | oneDNN ISA | sgemm GFLOP/s: ceiling (best) · start median [min–max] · end median | JVM time |\n");
    md.append("|---|---|---|---|---|---|---|---|\n");
    for (Config c : configs) {
      Map<String, String> e = in.env(c);
      String loaded =
          e.getOrDefault("blas_vendor", "?") + " – " + e.getOrDefault("blas_version", "?");
      if (e.containsKey("fatal")) loaded += " **(" + e.get("fatal") + ")**";
      md.append("| ")
          .append(c.shortLabel())
          .append(" | ")
          .append(e.getOrDefault("requested_blas", c.blas()))
          .append(" | ")
          .append(loaded.replace("|", "/"))
          .append(" | ")
          .append(e.getOrDefault("blas_threads", "?"))
          .append(e.containsKey("threads_warning") ? " ⚠" : "")
          .append(" | OMP_NUM_THREADS=")
          .append(e.getOrDefault("omp_num_threads", "?"))
          .append("; ")
          .append(e.getOrDefault("onednn_threads_reported", ""))
          .append(" | ")
          .append(e.getOrDefault("onednn_isa", ""))
          .append(" | **")
          .append(g1(e.get("sgemm_best")))
          .append("** · ")
          .append(g1(e.get("sgemm_gflops")))
          .append(" [")
          .append(g1(e.get("sgemm_gflops_min")))
          .append("–")
          .append(g1(e.get("sgemm_gflops_max")))
          .append("] · ")
          .append(g1(e.get("sgemm_gflops_end")))
          .append(" | ")
          .append(
              e.containsKey("elapsed_s")
                  ? Progress.duration(Double.parseDouble(e.get("elapsed_s")))
                  : "?")
          .append(" |\n");
    }
    md.append("\nBLAS libraries: ");
    for (Config c : configs)
      md.append("`")
          .append(in.env(c).getOrDefault("blas_library", "?"))
          .append("` (")
          .append(c.shortLabel())
          .append("); ");
    md.append("\n\n");

    // The forward network totals, unless only backward passes were asked for (their networks are in
    // their own sections).
    if (networks && (NetworkReport.any(in) || o.directionList().contains(Dir.FWD)))
      md.append(NetworkReport.render(in, NetworkReport.summaries(in)));
    if (models) md.append(ModelReport.render(in));

    int paperStart = md.length();
    // Headline.
    md.append("## Headline\n\n");
    for (long b : in.batches()) {
      md.append("### Mini-batch ").append(b).append("\n\n");
      md.append("| layer | shape (in, kernel×k_c, stride) | MEC ran |");
      for (Config c : head)
        md.append(" MEC/im2col ")
            .append(c.shortLabel())
            .append(" | MEC/oneDNN ")
            .append(c.shortLabel())
            .append(" | MEC/ORT ")
            .append(c.shortLabel())
            .append(" | MEC % sgemm ")
            .append(c.shortLabel())
            .append(" |");
      md.append(" memory im2col/L (formula) |\n|---|---|---|");
      for (int i = 0; i < head.size(); i++) md.append("---|---|---|---|");
      md.append("---|\n");
      for (var lb : in.layerBatches(b)) {
        Row anyRow = null;
        StringBuilder cells = new StringBuilder();
        for (Config c : head) {
          Row mec = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC);
          Row im = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.IM2COL);
          Row dn = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.ONEDNN);
          Row ort = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.ONNXRUNTIME);
          if (anyRow == null) anyRow = mec != null ? mec : im;
          cells
              .append(' ')
              .append(ratio(div(mec, im)))
              .append(" | ")
              .append(ratio(div(mec, dn)))
              .append(" | ")
              .append(ratio(div(mec, ort)))
              .append(" | ")
              .append(mec == null ? "–" : pct(mec.fractionOfSgemm()))
              .append(" |");
        }
        if (anyRow == null) continue;
        Row mecAny = findAny(in, "layer", lb.getKey(), b, Algo.MEC);
        Row imAny = findAny(in, "layer", lb.getKey(), b, Algo.IM2COL);
        Conv2d spec = imAny == null ? null : Conv2d.parse(imAny.shape());
        md.append("| ")
            .append(lb.getKey())
            .append(" | ")
            .append(shapeOf(anyRow))
            .append(" | ")
            .append(mecAny == null ? "–" : mecAny.resolved().replace("MEC_", ""))
            .append(" |")
            .append(cells)
            .append(' ')
            .append(
                imAny == null
                    ? "–"
                    : ratio(
                            (double) imAny.workspaceBytes()
                                / loweringBytes(in, "layer", lb.getKey(), b, spec))
                        + " ("
                        + ratio(Formula.ratio(spec))
                        + ")")
            .append(" |\n");
      }
      md.append('\n');
      for (Config c : head) md.append(summary(in, c, b)).append('\n');
      md.append('\n');
    }

    // Memory.
    md.append(Prose.report("memory"));
    int exact = 0, compared = 0;
    for (long b : in.batches()) {
      md.append("### Mini-batch ").append(b).append("\n\n");
      md.append(
          "| layer | im2col | MEC's lowering L | mec4j's MEC (default) | oneDNN scratchpad (impl) | im2col/L measured | formula o_h·k_h/i_h | k_h/s_h | measured = formula (bytes) |\n");
      md.append("|---|---|---|---|---|---|---|---|---|\n");
      for (var lb : in.layerBatches(b)) {
        Row im = findAny(in, "layer", lb.getKey(), b, Algo.IM2COL),
            mec = findAny(in, "layer", lb.getKey(), b, Algo.MEC),
            solutionB = findAny(in, "layer", lb.getKey(), b, Algo.MEC_B);
        Row dn = findAny(in, "layer", lb.getKey(), b, Algo.ONEDNN);
        if (im == null) continue;
        Conv2d c = Conv2d.parse(im.shape());
        long lowering = loweringBytes(in, "layer", lb.getKey(), b, c);
        boolean same =
            im.workspaceBytes() == im.formulaBytes()
                && (solutionB == null || solutionB.workspaceBytes() == solutionB.formulaBytes());
        compared++;
        if (same) exact++;
        md.append("| ")
            .append(lb.getKey())
            .append(" | ")
            .append(bytes(im.workspaceBytes()))
            .append(" | ")
            .append(bytes(lowering))
            .append(solutionB == null ? " (formula)" : "")
            .append(" | ")
            .append(mec == null ? "–" : bytes(mec.workspaceBytes()))
            .append(" | ")
            .append(dn == null ? "–" : bytes(dn.workspaceBytes()) + " (" + dn.resolved() + ")")
            .append(" | ")
            .append(ratio((double) im.workspaceBytes() / lowering))
            .append(" | ")
            .append(ratio(Formula.ratio(c)))
            .append(" | ")
            .append(ratio((double) c.kernelHeight() / c.strideHeight()))
            .append(" | ")
            .append(same ? "yes" : "**no**")
            .append(" |\n");
      }
      md.append('\n');
    }
    md.append(Prose.report("memory-end", "exact", exact, "compared", compared));

    // Per JVM.
    md.append("## Times per JVM (median ms)\n\n");
    for (Config c : configs) {
      md.append("### ").append(c.label()).append("\n\n");
      md.append(
          "| layer | mb | MEC (auto→) | MEC A | MEC B | MEC ROWS | MEC FUSED | MEC PACKED | im2col | oneDNN | oneDNN impl | ONNX Runtime | MEC/ORT | best MEC/im2col | % sgemm MEC / im2col / oneDNN / ORT | GFLOP/s MEC / im2col / oneDNN / ORT |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      boolean anyRow = false;
      for (long b : in.batches()) {
        for (var lb : in.layerBatches(b)) {
          Row mec = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC);
          Row a = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC_A);
          Row bb = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC_B);
          Row rw = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC_ROWS);
          Row fu = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC_FUSED);
          Row pk = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC_PACKED);
          Row im = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.IM2COL);
          Row dn = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.ONEDNN);
          Row ort = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.ONNXRUNTIME);
          if (im == null) continue;
          anyRow = true;
          double best = Double.NaN;
          for (Row r : new Row[] {a, bb, rw, fu, pk, mec})
            if (r != null && (Double.isNaN(best) || r.medianMs() < best)) best = r.medianMs();
          md.append("| ")
              .append(lb.getKey())
              .append(" | ")
              .append(b)
              .append(" | ")
              .append(
                  mec == null
                      ? "–"
                      : ms(mec.medianMs()) + " (" + mec.resolved().replace("MEC_", "") + ")")
              .append(" | ")
              .append(a == null ? "n/a" : ms(a.medianMs()))
              .append(" | ")
              .append(bb == null ? "–" : ms(bb.medianMs()))
              .append(" | ")
              .append(rw == null ? "–" : ms(rw.medianMs()))
              .append(" | ")
              .append(fu == null ? "–" : ms(fu.medianMs()))
              .append(" | ")
              .append(pk == null ? "–" : ms(pk.medianMs()))
              .append(" | ")
              .append(ms(im.medianMs()))
              .append(" | ")
              .append(dn == null ? "–" : ms(dn.medianMs()))
              .append(" | ")
              .append(dn == null ? "" : dn.resolved())
              .append(" | ")
              .append(ort == null ? "–" : ms(ort.medianMs()))
              .append(" | ")
              .append(ratio(div(mec, ort)))
              .append(" | ")
              .append(ratio(best / im.medianMs()))
              .append(" | ")
              .append(mec == null ? "–" : pct(mec.fractionOfSgemm()))
              .append(" / ")
              .append(pct(im.fractionOfSgemm()))
              .append(" / ")
              .append(dn == null ? "–" : pct(dn.fractionOfSgemm()))
              .append(" / ")
              .append(ort == null ? "–" : pct(ort.fractionOfSgemm()))
              .append(" | ")
              .append(mec == null ? "–" : Row.num(Math.round(mec.gflops() * 10) / 10.0))
              .append(" / ")
              .append(Row.num(Math.round(im.gflops() * 10) / 10.0))
              .append(" / ")
              .append(dn == null ? "–" : Row.num(Math.round(dn.gflops() * 10) / 10.0))
              .append(" / ")
              .append(ort == null ? "–" : Row.num(Math.round(ort.gflops() * 10) / 10.0))
              .append(" |\n");
        }
      }
      if (!anyRow) md.append("| (no results) |||||||||||||||\n");
      md.append("\n");
    }
    md.append(Prose.report("times-end"));

    // Sweep.
    List<Row> sweep = in.rows().stream().filter(r -> r.kind().equals("sweep")).toList();
    if (!sweep.isEmpty()) {
      Conv2d base = Plan.sweepSpecs(o).get(0).spec();
      md.append(
          Prose.report(
              "sweep",
              "batch",
              base.batch(),
              "height",
              base.inputHeight(),
              "width",
              base.inputWidth(),
              "channels",
              base.inputChannels(),
              "outputChannels",
              base.outputChannels()));
      List<Config> sc = new ArrayList<>();
      for (Config c : configs)
        if (sweep.stream().anyMatch(r -> r.blas().equals(c.blas()) && r.threads() == c.threads()))
          sc.add(c);
      md.append("| k | s | k/s | im2col | MEC | im2col/MEC | formula | MEC ran |");
      for (Config c : sc) md.append(" MEC/im2col time ").append(c.shortLabel()).append(" |");
      md.append("\n|---|---|---|---|---|---|---|---|");
      for (int i = 0; i < sc.size(); i++) md.append("---|");
      md.append('\n');
      for (Plan.SweepPoint p : Plan.sweepSpecs(o)) {
        Row im = findAny(in, "sweep", p.name(), p.spec().batch(), Algo.IM2COL),
            mec = findAny(in, "sweep", p.name(), p.spec().batch(), Algo.MEC);
        if (im == null || mec == null) continue;
        md.append("| ")
            .append(p.k())
            .append(" | ")
            .append(p.s())
            .append(" | ")
            .append(ratio((double) p.k() / p.s()))
            .append(" | ")
            .append(bytes(im.workspaceBytes()))
            .append(" | ")
            .append(bytes(loweringBytes(in, "sweep", p.name(), p.spec().batch(), p.spec())))
            .append(" | ")
            .append(
                ratio(
                    (double) im.workspaceBytes()
                        / loweringBytes(in, "sweep", p.name(), p.spec().batch(), p.spec())))
            .append(" | ")
            .append(ratio(Formula.ratio(p.spec())))
            .append(" | ")
            .append(mec.resolved().replace("MEC_", ""))
            .append(" |");
        for (Config c : sc)
          md.append(' ')
              .append(
                  ratio(
                      div(
                          in.find(
                              "sweep", p.name(), p.spec().batch(), c.blas(), c.threads(), Algo.MEC),
                          in.find(
                              "sweep",
                              p.name(),
                              p.spec().batch(),
                              c.blas(),
                              c.threads(),
                              Algo.IM2COL))))
              .append(" |");
        md.append('\n');
      }
      md.append('\n');
    }

    // The paper, beside.
    md.append(
        Prose.report(
            "paper",
            "memory",
            memorySentence(in, exact, compared),
            "speed",
            speedSentence(in, head),
            "onednn",
            dnnlSentence(in, head),
            "anderson",
            abSentence(in, head)));

    // Those sections are empty without paper layers, or with backward passes only (and no sweep).
    boolean forward =
        o.directionList().contains(Dir.FWD)
            || in.rows(Dir.FWD).stream()
                .anyMatch(r -> !r.kind().equals("network") && !r.kind().startsWith("model"));
    if (!paper || !forward) md.setLength(paperStart);

    for (Dir d : Dir.values()) if (d.backward()) md.append(BackwardReport.render(in, d));

    // Charts.
    if (!charts.isEmpty()) {
      md.append("## Charts\n\n");
      for (String c : charts) md.append("![").append(c).append("](").append(c).append(")\n\n");
    }

    // Issues.
    md.append("## Errors and skipped combinations\n\n");
    List<Issue> shown = in.issues().stream().filter(i -> !i.severity().equals("info")).toList();
    if (shown.isEmpty()) {
      md.append("None: every result passed the correctness check.\n\n");
    } else {
      md.append(
          "| severity | layer | mb | JVM | algorithm | message |\n|---|---|---|---|---|---|\n");
      Map<String, Integer> seenSkips = new LinkedHashMap<>();
      for (Issue i : shown) {
        if (!i.isError()) {
          String k = i.layer() + "/" + i.batch() + "/" + i.algorithm();
          if (seenSkips.merge(k, 1, Integer::sum) > 1) continue;
        }
        md.append("| ")
            .append(i.isError() ? "**error**" : i.severity())
            .append(" | ")
            .append(i.layer())
            .append(" | ")
            .append(i.batch())
            .append(" | ")
            .append(i.isError() ? i.blas() + " t" + i.threads() : "all")
            .append(" | ")
            .append(i.algorithm())
            .append(" | ")
            .append(i.message().replace("|", "\\|"))
            .append(" |\n");
      }
      md.append('\n');
    }

    md.append(Prose.report("method-notes"));
    if (in.rows().stream().anyMatch(r -> r.dir().backward() && !r.kind().startsWith("model")))
      md.append(Prose.report("method-notes-backward"));
    md.append(Prose.report("method-notes-end", "idleThreads", idleThreads(in), "isa", isa(in)));
    return md.toString();
  }

  /** A forward row of any JVM, the headline's first. */
  static Row findAny(Input in, String kind, String layer, long batch, Algo a) {
    return findAny(in, kind, layer, batch, a, Dir.FWD);
  }

  /**
   * MEC's lowered matrix L, the paper's memory figure, in bytes: Solution B's workspace as the
   * library reported it (B always lowers the whole layer), else MEC.md's formula. mec4j's own MEC
   * may use far less (none where MEC_FUSED reads an unpadded input in place, cache-sized bands
   * otherwise): that is the MEC row's workspace.
   */
  static long loweringBytes(Input in, String kind, String layer, long batch, Conv2d c) {
    Row b = findAny(in, kind, layer, batch, Algo.MEC_B);
    return b != null ? b.workspaceBytes() : Formula.mecBytes(c);
  }

  static Row findAny(Input in, String kind, String layer, long batch, Algo a, Dir d) {
    for (Config c : in.headline()) {
      Row r = in.find(kind, layer, batch, c.blas(), c.threads(), a, d);
      if (r != null) return r;
    }
    for (Row r : in.rows())
      if (r.kind().equals(kind)
          && r.layer().equals(layer)
          && r.batch() == batch
          && r.algorithm().equals(a.name())
          && r.dir() == d) return r;
    return null;
  }

  /**
   * "OpenBLAS t2: MEC faster than im2col on 5 of 12 layers (geometric mean MEC/im2col 1.12), faster
   * than oneDNN on 2 of 12 (1.90)."
   */
  static String summary(Input in, Config c, long batch) {
    List<Double> vsIm = new ArrayList<>(), vsDn = new ArrayList<>(), vsOrt = new ArrayList<>();
    int fasterIm = 0, fasterDn = 0, fasterOrt = 0, n = 0, nd = 0, no = 0;
    for (var lb : in.layerBatches(batch)) {
      Row mec = in.find("layer", lb.getKey(), batch, c.blas(), c.threads(), Algo.MEC);
      Row im = in.find("layer", lb.getKey(), batch, c.blas(), c.threads(), Algo.IM2COL);
      Row dn = in.find("layer", lb.getKey(), batch, c.blas(), c.threads(), Algo.ONEDNN);
      if (mec != null && im != null) {
        n++;
        double r = div(mec, im);
        vsIm.add(r);
        if (r < 1) fasterIm++;
      }
      if (mec != null && dn != null) {
        nd++;
        double r = div(mec, dn);
        vsDn.add(r);
        if (r < 1) fasterDn++;
      }
      Row ort = in.find("layer", lb.getKey(), batch, c.blas(), c.threads(), Algo.ONNXRUNTIME);
      if (mec != null && ort != null) {
        no++;
        double r = div(mec, ort);
        vsOrt.add(r);
        if (r < 1) fasterOrt++;
      }
    }
    if (n == 0) return "- " + c.label() + ": no results.";
    return String.format(
        Locale.ROOT,
        "- %s: MEC faster than im2col on %d of %d layers (geometric mean of MEC/im2col %s)%s%s.",
        c.label(),
        fasterIm,
        n,
        ratio(geomean(vsIm)),
        nd == 0
            ? ""
            : String.format(
                Locale.ROOT,
                "; faster than oneDNN on %d of %d (geometric mean of MEC/oneDNN %s)",
                fasterDn,
                nd,
                ratio(geomean(vsDn))),
        no == 0
            ? ""
            : String.format(
                Locale.ROOT,
                "; faster than ONNX Runtime on %d of %d (geometric mean of MEC/ORT %s)",
                fasterOrt,
                no,
                ratio(geomean(vsOrt))));
  }

  /** What the child JVMs set for idle threads (env-*.properties), e.g. for the method notes. */
  static String idleThreads(Input in) {
    Map<String, String> e = in.envs().values().stream().findFirst().orElse(Map.of());
    String timeout = e.getOrDefault("openblas_thread_timeout", "null");
    if (timeout.equals("null"))
      return "the runtimes' defaults (`--spin-wait`): OpenBLAS and OpenMP threads spin after each call.";
    return "made to sleep at once (OPENBLAS_THREAD_TIMEOUT="
        + timeout
        + ", OMP_WAIT_POLICY="
        + e.getOrDefault("omp_wait_policy", "?")
        + ", KMP_BLOCKTIME="
        + e.getOrDefault("kmp_blocktime", "?")
        + ").";
  }

  /**
   * --max-isa and what the child JVMs got for it, oneDNN's fp32 mode, mec4j's ISA per JVM
   * (env-*.properties).
   */
  static String isa(Input in) {
    Map<String, String> e =
        in.envs().values().stream().filter(x -> x.containsKey("max_isa")).findFirst().orElse(null);
    if (e == null) return "not recorded (a run from before `--max-isa`).";
    List<String> vars = new ArrayList<>();
    for (String v : Isa.CAPS) {
      String x = e.getOrDefault(v.toLowerCase(Locale.ROOT), "null");
      vars.add(v + "=" + (x.equals("null") || x.isEmpty() ? "unset" : x));
    }
    String fp = e.getOrDefault("onednn_default_fpmath_mode", "?");
    StringBuilder b =
        new StringBuilder("`--max-isa ")
            .append(e.get("max_isa"))
            .append("`: ")
            .append(String.join(", ", vars))
            .append(" (unset: the library's own choice for this CPU")
            .append("false".equals(e.get("host_avx512")) ? ", which has no AVX-512)" : ")")
            .append("; oneDNN's fp32 math mode ONEDNN_DEFAULT_FPMATH_MODE=")
            .append(fp)
            .append(
                fp.equalsIgnoreCase("STRICT")
                    ? " (strict fp32: no bf16/AMX down-conversion)"
                    : " (from the runner's environment, not STRICT)")
            .append(". mec4j (org.mec4j.Cpu): ");
    Map<String, List<String>> seen = new LinkedHashMap<>();
    for (Config c : in.configs()) {
      Map<String, String> x = in.env(c);
      String s =
          x.containsKey("mec4j_cpu_error")
              ? "error: " + x.get("mec4j_cpu_error")
              : x.containsKey("mec4j_cpu_igemm_kernel")
                  ? x.get("mec4j_cpu_isa")
                      + " (cap "
                      + x.get("mec4j_cpu_max_isa")
                      + "), `"
                      + x.get("mec4j_cpu_igemm_kernel")
                      + "`"
                  : x.getOrDefault("mec4j_cpu_isa", "?");
      seen.computeIfAbsent(s, k -> new ArrayList<>()).add(c.shortLabel());
    }
    List<String> parts = new ArrayList<>();
    for (var kv : seen.entrySet())
      parts.add(
          seen.size() == 1 ? kv.getKey() : kv.getKey() + " in " + String.join(", ", kv.getValue()));
    return b.append(String.join("; ", parts)).append('.').toString();
  }

  private static String memorySentence(Input in, int exact, int compared) {
    List<Double> r = new ArrayList<>();
    double min = Double.MAX_VALUE, max = 0;
    for (long b : in.batches())
      for (var lb : in.layerBatches(b)) {
        Row im = findAny(in, "layer", lb.getKey(), b, Algo.IM2COL);
        if (im == null) continue;
        long lowering = loweringBytes(in, "layer", lb.getKey(), b, Conv2d.parse(im.shape()));
        if (lowering == 0) continue;
        double x = (double) im.workspaceBytes() / lowering;
        r.add(x);
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    if (r.isEmpty()) return "no memory results";
    return String.format(
        Locale.ROOT,
        "MEC's lowering is %s–%s× smaller than im2col's (geometric mean %s×); %d of %d "
            + "workspaces equal the formula to the byte.",
        ratio(min),
        ratio(max),
        ratio(geomean(r)),
        exact,
        compared);
  }

  private static String speedSentence(Input in, List<Config> head) {
    List<String> parts = new ArrayList<>();
    for (long b : in.batches()) {
      List<String> per = new ArrayList<>();
      for (Config c : head) {
        List<Double> v = new ArrayList<>();
        int faster = 0;
        for (var lb : in.layerBatches(b)) {
          double r =
              div(
                  in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC),
                  in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.IM2COL));
          if (Double.isNaN(r)) continue;
          v.add(r);
          if (r < 1) faster++;
        }
        if (!v.isEmpty())
          per.add(
              c.shortLabel()
                  + " "
                  + faster
                  + "/"
                  + v.size()
                  + " (geo-mean MEC/im2col "
                  + ratio(geomean(v))
                  + ")");
      }
      if (!per.isEmpty())
        parts.add("mini-batch " + b + ": MEC faster than im2col on " + String.join(", ", per));
    }
    return parts.isEmpty() ? "(no results)" : String.join("; ", parts) + ".";
  }

  private static String dnnlSentence(Input in, List<Config> head) {
    int faster = 0, n = 0;
    for (long b : in.batches())
      for (Config c : head)
        for (var lb : in.layerBatches(b)) {
          double r =
              div(
                  in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC),
                  in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.ONEDNN));
          if (Double.isNaN(r)) continue;
          n++;
          if (r < 1) faster++;
        }
    return n == 0
        ? "(oneDNN not run)"
        : "MEC was faster than oneDNN in "
            + faster
            + " of "
            + n
            + " (layer, batch, backend) cases at the headline thread count.";
  }

  private static String abSentence(Input in, List<Config> head) {
    int faster = 0, n = 0, bestFaster = 0;
    for (long b : in.batches())
      for (Config c : head)
        for (var lb : in.layerBatches(b)) {
          Row im = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.IM2COL);
          Row mec = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), Algo.MEC);
          if (im == null || mec == null) continue;
          n++;
          if (mec.medianMs() < im.medianMs()) faster++;
          double best = mec.medianMs();
          for (Algo a :
              new Algo[] {Algo.MEC_A, Algo.MEC_B, Algo.MEC_ROWS, Algo.MEC_FUSED, Algo.MEC_PACKED}) {
            Row x = in.find("layer", lb.getKey(), b, c.blas(), c.threads(), a);
            if (x != null) best = Math.min(best, x.medianMs());
          }
          if (best < im.medianMs()) bestFaster++;
        }
    return n == 0
        ? "(no results)"
        : "Automatic MEC beat im2col (same BLAS, same JVM) in "
            + faster
            + " of "
            + n
            + " (layer, batch, backend) cases at the headline thread count; the best of the forced variants (A, B, ROWS, FUSED, PACKED) did in "
            + bestFaster
            + " of "
            + n
            + ".";
  }
}
