package org.mec4j.bench;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.mec4j.Algorithm;
import org.mec4j.Conv2d;

/**
 * report.md: the run's tables and figures as data, written out by the template report.mustache
 * (beside this class), which holds the prose. The whole-network and model sections are {@link
 * NetworkReport}'s, the backward passes' {@link BackwardReport}'s.
 */
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
    Row find(String kind, String layer, long batch, Config c, Algo a) {
      return find(kind, layer, batch, c, a, Dir.FWD);
    }

    Row find(String kind, String layer, long batch, Config c, Algo a, Dir d) {
      for (Row r : rows)
        if (r.kind().equals(kind)
            && r.layer().equals(layer)
            && r.batch() == batch
            && c.ran(r)
            && r.algorithm().equals(a.name())
            && r.dir() == d) return r;
      return null;
    }

    /** A row of any JVM, the headline's first: the figures that do not depend on the JVM. */
    Row findAny(String kind, String layer, long batch, Algo a, Dir d) {
      for (Config c : Stream.concat(headline().stream(), configs().stream()).toList()) {
        Row r = find(kind, layer, batch, c, a, d);
        if (r != null) return r;
      }
      return null;
    }

    List<Row> rows(Dir d) {
      return rows.stream().filter(r -> r.dir() == d).toList();
    }

    /** (blas, threads) of every child, in run order. */
    List<Config> configs() {
      return tags.stream()
          .map(t -> new Config(t.substring(0, t.lastIndexOf("-t")), tagThreads(t)))
          .toList();
    }

    private static int tagThreads(String tag) {
      return Integer.parseInt(tag.substring(tag.lastIndexOf("-t") + 2));
    }

    /** The configurations at the largest thread count: the headline. */
    List<Config> headline() {
      int max = configs().stream().mapToInt(Config::threads).max().orElse(1);
      return configs().stream().filter(c -> c.threads() == max).toList();
    }

    /** The layers of the paper (and --layer) rows of a pass at a batch, in row order. */
    List<String> layers(long batch, Dir d) {
      Set<String> seen = new LinkedHashSet<>();
      for (Row r : rows)
        if (r.kind().equals("layer") && r.dir() == d && r.batch() == batch) seen.add(r.layer());
      return new ArrayList<>(seen);
    }

    /** The batches of the paper (and --layer) rows of a pass. */
    List<Long> batches(Dir d) {
      Set<Long> b = new TreeSet<>();
      for (Row r : rows) if (r.kind().equals("layer") && r.dir() == d) b.add(r.batch());
      return new ArrayList<>(b);
    }

    Map<String, String> env(Config c) {
      return envs.getOrDefault(ChildMain.tag(c.blas(), c.threads()), Map.of());
    }

    /** The env of the first child (what every JVM shares: java, oneDNN, the run's settings). */
    Map<String, String> anyEnv() {
      return envs.values().stream().findFirst().orElse(Map.of());
    }
  }

  public record Config(String blas, int threads) {
    String label() {
      return name() + ", " + threads + (threads == 1 ? " thread" : " threads");
    }

    String shortLabel() {
      return (blas.equals("mkl") ? "MKL" : "OpenBLAS") + " t" + threads;
    }

    private String name() {
      return blas.equals("mkl") ? "MKL" : blas.equals("openblas") ? "OpenBLAS" : blas;
    }

    /** Whether a row ran in this JVM. */
    boolean ran(Row r) {
      return r.blas().equals(blas) && r.threads() == threads;
    }
  }

  /** A markdown table as data: table.mustache lays it out. */
  record Table(List<String> header, List<List<String>> rows) {
    Table(String... header) {
      this(List.of(header), new ArrayList<>());
    }

    Table add(Object... cells) {
      rows.add(Stream.of(cells).map(String::valueOf).toList());
      return this;
    }

    /** A table with no row says why, in its first cell. */
    Table orNone(String why) {
      return rows.isEmpty() ? add("(" + why + ")") : this;
    }
  }

  /**
   * How often MEC was faster (ratio below 1) over a set of ratios, and their geometric mean; n
   * counts the ratios measured (NaN: one side did not run).
   */
  record Tally(int faster, int n, String geo) {
    boolean any() {
      return n > 0;
    }

    static Tally of(List<Double> ratios) {
      List<Double> v = ratios.stream().filter(x -> !Double.isNaN(x) && x > 0).toList();
      return new Tally(
          (int) v.stream().filter(x -> x < 1).count(), v.size(), ratio(geomean(ratios)));
    }
  }

  /** Markdown is not HTML: the values go out as they are. */
  private static final DefaultMustacheFactory TEMPLATES =
      new DefaultMustacheFactory("org/mec4j/bench") {
        @Override
        public void encode(String value, Writer writer) {
          try {
            writer.write(value);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final Mustache REPORT = TEMPLATES.compile("report.mustache");

  /** networks.csv (with network or model rows), the charts and report.md of a run folder. */
  static void write(Path dir, Input in) throws IOException {
    if (NetworkReport.any(in) || in.rows().stream().anyMatch(r -> r.kind().startsWith("model")))
      NetworkReport.writeCsv(dir.resolve("networks.csv"), in);
    List<String> charts = Charts.write(dir, in);
    Files.writeString(dir.resolve("report.md"), render(in, charts), StandardCharsets.UTF_8);
  }

  public static String render(Input in, List<String> charts) {
    Options o = in.options();
    Map<String, String> any = in.anyEnv();
    Map<String, Object> m = new HashMap<>();
    boolean networks = o.hasNetworks() || NetworkReport.any(in);
    List<Map<String, Object>> models = NetworkReport.models(in);
    boolean nonPaperOnly =
        in.rows().stream()
            .allMatch(r -> r.kind().equals("network") || r.kind().startsWith("model"));
    // The paper's sections only when paper (or command-line) layers were asked for, or no network
    // or model; and not when only backward passes ran (they would be empty).
    boolean paper = !(networks || !models.isEmpty()) || !o.layerList().isEmpty() || !nonPaperOnly;
    boolean forward =
        o.directionList().contains(Dir.FWD) || in.rows(Dir.FWD).stream().anyMatch(r -> !isNet(r));
    List<String> what = new ArrayList<>();
    if (paper) what.add("the paper's layers");
    if (networks) what.add("whole networks");
    if (!models.isEmpty()) what.add("real ONNX models");
    long errors = in.issues().stream().filter(Issue::isError).count();
    m.put("what", String.join(" and ", what));
    m.put("wall", Progress.duration(in.wallSeconds()));
    m.put("jvms", in.configs().size());
    m.put("started", any.getOrDefault("started", "?"));
    m.put("command", in.argv().isEmpty() ? "" : " " + String.join(" ", in.argv()));
    m.put(
        "machine",
        Machine.describe()
            + "; "
            + any.getOrDefault("java", "")
            + "; "
            + any.getOrDefault("onednn", "oneDNN ?")
            + (any.containsKey("onnxruntime")
                ? "; " + any.get("onnxruntime") + ", one Conv node per layer (NCHW)"
                : ""));
    m.put("errors", errors > 0 ? errors : null);
    m.put(
        "o",
        Map.of(
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
    m.put("tolerance", Row.num(o.tolerance));
    m.put("hasModels", o.hasModels() || !models.isEmpty());
    m.put("setup", setup(in));
    m.put(
        "blasLibraries",
        in.configs().stream()
            .map(
                c ->
                    "`"
                        + in.env(c).getOrDefault("blas_library", "?")
                        + "` ("
                        + c.shortLabel()
                        + "); ")
            .reduce("", String::concat));
    // The forward network totals, unless only backward passes were asked for (theirs are in the
    // backward sections).
    if (networks && (NetworkReport.any(in) || o.directionList().contains(Dir.FWD)))
      m.put("networks", NetworkReport.networks(in));
    m.put("models", models);
    if (paper && forward) paper(in, m);
    m.put("backward", BackwardReport.sections(in));
    m.put("charts", charts);
    m.put("hasCharts", !charts.isEmpty());
    m.put("issues", issues(in));
    m.put(
        "backwardNotes",
        in.rows().stream().anyMatch(r -> r.dir().backward() && !r.kind().startsWith("model")));
    m.put("idleThreads", idleThreads(in));
    m.put("isa", isa(in));
    StringWriter w = new StringWriter();
    REPORT.execute(w, m);
    return w.toString();
  }

  static boolean isNet(Row r) {
    return r.kind().equals("network") || r.kind().startsWith("model");
  }

  private static Table setup(Input in) {
    Table t =
        new Table(
            "JVM",
            "requested",
            "BLAS loaded (Blas.backend())",
            "BLAS threads",
            "oneDNN threads (its verbose)",
            "oneDNN ISA",
            "sgemm GFLOP/s: ceiling (best) · start median [min–max] · end median",
            "JVM time");
    for (Config c : in.configs()) {
      Map<String, String> e = in.env(c);
      String loaded =
          e.getOrDefault("blas_vendor", "?") + " – " + e.getOrDefault("blas_version", "?");
      if (e.containsKey("fatal")) loaded += " **(" + e.get("fatal") + ")**";
      t.add(
          c.shortLabel(),
          e.getOrDefault("requested_blas", c.blas()),
          loaded.replace("|", "/"),
          e.getOrDefault("blas_threads", "?") + (e.containsKey("threads_warning") ? " ⚠" : ""),
          "OMP_NUM_THREADS="
              + e.getOrDefault("omp_num_threads", "?")
              + "; "
              + e.getOrDefault("onednn_threads_reported", ""),
          e.getOrDefault("onednn_isa", ""),
          String.format(
              "**%s** · %s [%s–%s] · %s",
              g1(e.get("sgemm_best")),
              g1(e.get("sgemm_gflops")),
              g1(e.get("sgemm_gflops_min")),
              g1(e.get("sgemm_gflops_max")),
              g1(e.get("sgemm_gflops_end"))),
          e.containsKey("elapsed_s")
              ? Progress.duration(Double.parseDouble(e.get("elapsed_s")))
              : "?");
    }
    return t;
  }

  /** The paper's sections: headline, memory, times per JVM, the k/s sweep, the paper beside. */
  private static void paper(Input in, Map<String, Object> m) {
    List<Config> head = in.headline();
    List<Map<String, Object>> headline = new ArrayList<>(), memory = new ArrayList<>();
    List<Double> memoryRatios = new ArrayList<>();
    int exact = 0, compared = 0;
    for (long b : in.batches(Dir.FWD)) {
      List<String> h =
          new ArrayList<>(List.of("layer", "shape (in, kernel×k_c, stride)", "MEC ran"));
      for (Config c : head)
        for (String r : List.of("MEC/im2col ", "MEC/oneDNN ", "MEC/ORT ", "MEC % sgemm "))
          h.add(r + c.shortLabel());
      h.add("memory im2col/L (formula)");
      Table t = new Table(h, new ArrayList<>());
      Table mem =
          new Table(
              "layer",
              "im2col",
              "MEC's lowering L",
              "mec4j's MEC (default)",
              "oneDNN scratchpad (impl)",
              "im2col/L measured",
              "formula o_h·k_h/i_h",
              "k_h/s_h",
              "measured = formula (bytes)");
      for (String l : in.layers(b, Dir.FWD)) {
        Row im = in.findAny("layer", l, b, Algo.IM2COL, Dir.FWD),
            mec = in.findAny("layer", l, b, Algo.MEC, Dir.FWD),
            solutionB = in.findAny("layer", l, b, Algo.MEC_B, Dir.FWD),
            dn = in.findAny("layer", l, b, Algo.ONEDNN, Dir.FWD),
            shown = mec != null ? mec : im;
        List<Object> cells = new ArrayList<>();
        cells.add(l);
        cells.add(shown == null ? "–" : shapeOf(Conv2d.parse(shown.shape())));
        cells.add(mec == null ? "–" : mec.resolved().replace("MEC_", ""));
        for (Config c : head) {
          Map<Algo, Row> x = cells(in, r -> c.ran(r) && isLayer(r, "layer", l, b, Dir.FWD));
          cells.add(ratio(div(x.get(Algo.MEC), x.get(Algo.IM2COL))));
          cells.add(ratio(div(x.get(Algo.MEC), x.get(Algo.ONEDNN))));
          cells.add(ratio(div(x.get(Algo.MEC), x.get(Algo.ONNXRUNTIME))));
          cells.add(x.get(Algo.MEC) == null ? "–" : pct(x.get(Algo.MEC).fractionOfSgemm()));
        }
        if (im == null) {
          cells.add("–");
          t.add(cells.toArray());
          continue;
        }
        Conv2d c = Conv2d.parse(im.shape());
        long lowering = loweringBytes(in, "layer", l, b, c);
        double measured = (double) im.workspaceBytes() / lowering;
        cells.add(ratio(measured) + " (" + ratio(paperRatio(c)) + ")");
        t.add(cells.toArray());
        if (lowering > 0) memoryRatios.add(measured);
        boolean same =
            im.workspaceBytes() == im.formulaBytes()
                && (solutionB == null || solutionB.workspaceBytes() == solutionB.formulaBytes());
        compared++;
        if (same) exact++;
        mem.add(
            l,
            bytes(im.workspaceBytes()),
            bytes(lowering) + (solutionB == null ? " (formula)" : ""),
            mec == null ? "–" : bytes(mec.workspaceBytes()),
            dn == null ? "–" : bytes(dn.workspaceBytes()) + " (" + dn.resolved() + ")",
            ratio(measured),
            ratio(paperRatio(c)),
            ratio((double) c.kernelHeight() / c.strideHeight()),
            same ? "yes" : "**no**");
      }
      List<Map<String, Object>> summaries = new ArrayList<>();
      for (Config c : head) summaries.add(versus(in, c, b));
      headline.add(Map.of("batch", b, "table", t, "summaries", summaries));
      memory.add(Map.of("batch", b, "table", mem));
    }
    m.put("paper", true);
    m.put("headline", headline);
    m.put("memory", memory);
    m.put("exact", exact);
    m.put("compared", compared);
    m.put("times", times(in));
    m.put("sweep", sweep(in));
    m.put(
        "memorySentence",
        memoryRatios.isEmpty()
            ? "no memory results"
            : String.format(
                "MEC's lowering is %s–%s× smaller than im2col's (geometric mean %s×); %d of %d "
                    + "workspaces equal the formula to the byte.",
                ratio(memoryRatios.stream().mapToDouble(x -> x).min().orElse(0)),
                ratio(memoryRatios.stream().mapToDouble(x -> x).max().orElse(0)),
                ratio(geomean(memoryRatios)),
                exact,
                compared));
    List<String> speed = new ArrayList<>();
    List<Double> vsDn = new ArrayList<>();
    int autoFaster = 0, bestFaster = 0, cases = 0;
    for (long b : in.batches(Dir.FWD)) {
      List<String> per = new ArrayList<>();
      for (Config c : head) {
        List<Double> vsIm = new ArrayList<>();
        for (String l : in.layers(b, Dir.FWD)) {
          Map<Algo, Row> x = cells(in, r -> c.ran(r) && isLayer(r, "layer", l, b, Dir.FWD));
          Row mec = x.get(Algo.MEC), im = x.get(Algo.IM2COL);
          vsIm.add(div(mec, im));
          vsDn.add(div(mec, x.get(Algo.ONEDNN)));
          if (mec == null || im == null) continue;
          cases++;
          if (mec.medianMs() < im.medianMs()) autoFaster++;
          if (best(x) < im.medianMs()) bestFaster++;
        }
        Tally v = Tally.of(vsIm);
        if (v.n() > 0)
          per.add(
              c.shortLabel()
                  + " "
                  + v.faster()
                  + "/"
                  + v.n()
                  + " (geo-mean MEC/im2col "
                  + v.geo()
                  + ")");
      }
      if (!per.isEmpty())
        speed.add("mini-batch " + b + ": MEC faster than im2col on " + String.join(", ", per));
    }
    m.put("speedSentence", speed.isEmpty() ? "(no results)" : String.join("; ", speed) + ".");
    Tally dn = Tally.of(vsDn);
    m.put(
        "onednnSentence",
        dn.n() == 0
            ? "(oneDNN not run)"
            : "MEC was faster than oneDNN in "
                + dn.faster()
                + " of "
                + dn.n()
                + " (layer, batch, backend) cases at the headline thread count.");
    m.put(
        "andersonSentence",
        cases == 0
            ? "(no results)"
            : "Automatic MEC beat im2col (same BLAS, same JVM) in "
                + autoFaster
                + " of "
                + cases
                + " (layer, batch, backend) cases at the headline thread count; the best of the"
                + " forced variants (A, B, ROWS, FUSED, PACKED) did in "
                + bestFaster
                + " of "
                + cases
                + ".");
  }

  /** The fastest MEC of a layer's rows in one JVM: the automatic choice or a forced variant. */
  private static double best(Map<Algo, Row> x) {
    return x.entrySet().stream()
        .filter(e -> e.getKey().isMecFamily())
        .mapToDouble(e -> e.getValue().medianMs())
        .min()
        .orElse(Double.NaN);
  }

  private static List<Map<String, Object>> times(Input in) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Config c : in.configs()) {
      Table t =
          new Table(
              "layer",
              "mb",
              "MEC (auto→)",
              "MEC A",
              "MEC B",
              "MEC ROWS",
              "MEC FUSED",
              "MEC PACKED",
              "im2col",
              "oneDNN",
              "oneDNN impl",
              "ONNX Runtime",
              "MEC/ORT",
              "best MEC/im2col",
              "% sgemm MEC / im2col / oneDNN / ORT",
              "GFLOP/s MEC / im2col / oneDNN / ORT");
      for (long b : in.batches(Dir.FWD))
        for (String l : in.layers(b, Dir.FWD)) {
          Map<Algo, Row> x = cells(in, r -> c.ran(r) && isLayer(r, "layer", l, b, Dir.FWD));
          Row mec = x.get(Algo.MEC), im = x.get(Algo.IM2COL), dn = x.get(Algo.ONEDNN);
          if (im == null) continue;
          List<Algo> four = List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN, Algo.ONNXRUNTIME);
          t.add(
              l,
              b,
              mec == null
                  ? "–"
                  : ms(mec.medianMs()) + " (" + mec.resolved().replace("MEC_", "") + ")",
              x.get(Algo.MEC_A) == null ? "n/a" : ms(x.get(Algo.MEC_A)),
              ms(x.get(Algo.MEC_B)),
              ms(x.get(Algo.MEC_ROWS)),
              ms(x.get(Algo.MEC_FUSED)),
              ms(x.get(Algo.MEC_PACKED)),
              ms(im),
              ms(dn),
              dn == null ? "" : dn.resolved(),
              ms(x.get(Algo.ONNXRUNTIME)),
              ratio(div(mec, x.get(Algo.ONNXRUNTIME))),
              ratio(best(x) / im.medianMs()),
              String.join(
                  " / ",
                  four.stream()
                      .map(a -> x.get(a) == null ? "–" : pct(x.get(a).fractionOfSgemm()))
                      .toList()),
              String.join(
                  " / ",
                  four.stream()
                      .map(
                          a ->
                              x.get(a) == null
                                  ? "–"
                                  : Row.num(Math.round(x.get(a).gflops() * 10) / 10.0))
                      .toList()));
        }
      out.add(Map.of("label", c.label(), "table", t.orNone("no results")));
    }
    return out;
  }

  private static Map<String, Object> sweep(Input in) {
    List<Config> ran =
        in.configs().stream()
            .filter(c -> in.rows().stream().anyMatch(r -> r.kind().equals("sweep") && c.ran(r)))
            .toList();
    if (ran.isEmpty()) return null;
    List<String> h =
        new ArrayList<>(
            List.of("k", "s", "k/s", "im2col", "MEC", "im2col/MEC", "formula", "MEC ran"));
    for (Config c : ran) h.add("MEC/im2col time " + c.shortLabel());
    Table t = new Table(h, new ArrayList<>());
    for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
      long b = p.spec().batch();
      Row im = in.findAny("sweep", p.name(), b, Algo.IM2COL, Dir.FWD),
          mec = in.findAny("sweep", p.name(), b, Algo.MEC, Dir.FWD);
      if (im == null || mec == null) continue;
      long lowering = loweringBytes(in, "sweep", p.name(), b, p.spec());
      List<Object> cells = new ArrayList<>();
      cells.addAll(
          List.of(
              p.k(),
              p.s(),
              ratio((double) p.k() / p.s()),
              bytes(im.workspaceBytes()),
              bytes(lowering),
              ratio((double) im.workspaceBytes() / lowering),
              ratio(paperRatio(p.spec())),
              mec.resolved().replace("MEC_", "")));
      for (Config c : ran)
        cells.add(
            ratio(
                div(
                    in.find("sweep", p.name(), b, c, Algo.MEC),
                    in.find("sweep", p.name(), b, c, Algo.IM2COL))));
      t.add(cells.toArray());
    }
    return Map.of("base", Plan.sweepSpecs(in.options()).get(0).spec(), "table", t);
  }

  /** The issues table, a skipped combination once for all JVMs; null when there is none. */
  private static Table issues(Input in) {
    Table t = new Table("severity", "layer", "mb", "JVM", "algorithm", "message");
    Set<String> skips = new LinkedHashSet<>();
    for (Issue i : in.issues()) {
      if (i.severity().equals("info")) continue;
      if (!i.isError() && !skips.add(i.layer() + "/" + i.batch() + "/" + i.algorithm())) continue;
      t.add(
          i.isError() ? "**error**" : i.severity(),
          i.layer(),
          i.batch(),
          i.isError() ? i.blas() + " t" + i.threads() : "all",
          i.algorithm(),
          i.message().replace("|", "\\|"));
    }
    return t.rows().isEmpty() ? null : t;
  }

  /** The rows of one layer (or node) in one JVM, by algorithm. */
  static Map<Algo, Row> cells(Input in, Predicate<Row> which) {
    Map<Algo, Row> m = new EnumMap<>(Algo.class);
    for (Row r : in.rows()) if (which.test(r) && r.algo() != null) m.put(r.algo(), r);
    return m;
  }

  static boolean isLayer(Row r, String kind, String layer, long batch, Dir d) {
    return r.kind().equals(kind) && r.layer().equals(layer) && r.batch() == batch && r.dir() == d;
  }

  /** Rows grouped by layer (name and batch) in row order, each by algorithm. */
  static List<Map<Algo, Row>> byLayer(Stream<Row> rows, Function<Row, String> key) {
    Map<String, Map<Algo, Row>> m = new LinkedHashMap<>();
    rows.filter(r -> r.algo() != null)
        .forEach(
            r -> m.computeIfAbsent(key.apply(r), k -> new EnumMap<>(Algo.class)).put(r.algo(), r));
    return new ArrayList<>(m.values());
  }

  /**
   * MEC against im2col, oneDNN and ONNX Runtime in one JVM over a batch's layers (the headline's
   * summary lines).
   */
  private static Map<String, Object> versus(Input in, Config c, long batch) {
    Map<Algo, List<Double>> v = new EnumMap<>(Algo.class);
    for (String l : in.layers(batch, Dir.FWD)) {
      Map<Algo, Row> x = cells(in, r -> c.ran(r) && isLayer(r, "layer", l, batch, Dir.FWD));
      for (Algo a : List.of(Algo.IM2COL, Algo.ONEDNN, Algo.ONNXRUNTIME))
        v.computeIfAbsent(a, k -> new ArrayList<>()).add(div(x.get(Algo.MEC), x.get(a)));
    }
    Function<Algo, Tally> t = a -> Tally.of(v.getOrDefault(a, List.of()));
    return Map.of(
        "label",
        c.label(),
        "im",
        t.apply(Algo.IM2COL),
        "dn",
        t.apply(Algo.ONEDNN),
        "ort",
        t.apply(Algo.ONNXRUNTIME));
  }

  /**
   * MEC's lowered matrix L, the paper's memory figure, in bytes: Solution B's workspace as the
   * library reported it (B always lowers the whole layer), else the library's answer for B. mec4j's
   * own MEC may use far less (none where MEC_FUSED reads an unpadded input in place, cache-sized
   * bands otherwise): that is the MEC row's workspace.
   */
  static long loweringBytes(Input in, String kind, String layer, long batch, Conv2d c) {
    Row b = in.findAny(kind, layer, batch, Algo.MEC_B, Dir.FWD);
    return b != null ? b.workspaceBytes() : c.workspaceBytes(Algorithm.MEC_B);
  }

  /** docs/MEC.md's predicted memory ratio im2col/MEC = o_h·k_h / i_h (i_h padded). */
  static double paperRatio(Conv2d c) {
    return (double) c.outputHeight()
        * c.kernelHeight()
        / (c.inputHeight() + c.padTop() + c.padBottom());
  }

  /** "56×56×64, 3×3×128, s1, pad 1": the headline's shape. */
  static String shapeOf(Conv2d c) {
    String pad =
        c.padTop() + c.padBottom() + c.padLeft() + c.padRight() == 0 ? "" : ", pad " + c.padTop();
    return String.format(
        "%d×%d×%d, %d×%d×%d, s%d%s",
        c.inputHeight(),
        c.inputWidth(),
        c.inputChannels(),
        c.kernelHeight(),
        c.kernelWidth(),
        c.outputChannels(),
        c.strideHeight(),
        pad);
  }

  /** What the child JVMs set for idle threads (env-*.properties), e.g. for the method notes. */
  static String idleThreads(Input in) {
    Map<String, String> e = in.anyEnv();
    String timeout = e.getOrDefault("openblas_thread_timeout", "null");
    if (timeout.equals("null"))
      return "the runtimes' defaults (`--spin-wait`): OpenBLAS and OpenMP threads spin after each call.";
    return String.format(
        "made to sleep at once (OPENBLAS_THREAD_TIMEOUT=%s, OMP_WAIT_POLICY=%s, KMP_BLOCKTIME=%s).",
        timeout, e.getOrDefault("omp_wait_policy", "?"), e.getOrDefault("kmp_blocktime", "?"));
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
    Map<String, List<String>> seen = new LinkedHashMap<>();
    for (Config c : in.configs()) {
      Map<String, String> x = in.env(c);
      String s =
          x.containsKey("mec4j_cpu_error")
              ? "error: " + x.get("mec4j_cpu_error")
              : x.containsKey("mec4j_cpu_igemm_kernel")
                  ? String.format(
                      "%s (cap %s), `%s`",
                      x.get("mec4j_cpu_isa"),
                      x.get("mec4j_cpu_max_isa"),
                      x.get("mec4j_cpu_igemm_kernel"))
                  : x.getOrDefault("mec4j_cpu_isa", "?");
      seen.computeIfAbsent(s, k -> new ArrayList<>()).add(c.shortLabel());
    }
    List<String> parts = new ArrayList<>();
    for (var kv : seen.entrySet())
      parts.add(
          seen.size() == 1 ? kv.getKey() : kv.getKey() + " in " + String.join(", ", kv.getValue()));
    return String.format(
        "`--max-isa %s`: %s (unset: the library's own choice for this CPU%s; oneDNN's fp32 math mode"
            + " ONEDNN_DEFAULT_FPMATH_MODE=%s%s. mec4j (org.mec4j.Cpu): %s.",
        e.get("max_isa"),
        String.join(", ", vars),
        "false".equals(e.get("host_avx512")) ? ", which has no AVX-512)" : ")",
        fp,
        fp.equalsIgnoreCase("STRICT")
            ? " (strict fp32: no bf16/AMX down-conversion)"
            : " (from the runner's environment, not STRICT)",
        String.join("; ", parts));
  }

  static String bytes(long b) {
    if (b < 0) return "–";
    if (b == 0) return "0";
    if (b < 1024) return b + " B";
    if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    return String.format(Locale.ROOT, "%.2f GiB", b / 1073741824.0);
  }

  static String ms(Row r) {
    return r == null ? "–" : ms(r.medianMs());
  }

  static String ms(double v) {
    if (Double.isNaN(v)) return "–";
    return String.format(
        Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f", v);
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
    double[] logs =
        v.stream().filter(x -> !Double.isNaN(x) && x > 0).mapToDouble(Math::log).toArray();
    return logs.length == 0
        ? Double.NaN
        : Math.exp(java.util.Arrays.stream(logs).average().orElse(0));
  }
}
