package org.mec4j.bench;

import static org.mec4j.bench.Algo.IM2COL;
import static org.mec4j.bench.Algo.MEC;
import static org.mec4j.bench.Algo.MEC_B;
import static org.mec4j.bench.Algo.ONEDNN;
import static org.mec4j.bench.Algo.ONNXRUNTIME;
import static org.mec4j.bench.Dir.FWD;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
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
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.mec4j.Conv2d;

/**
 * report.md: the run's figures as data ({@link Cell}s format themselves), laid out by
 * report.mustache, which holds the prose; networks and models: {@link NetworkReport}.
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

    /** One layer's rows in one JVM, by algorithm. */
    Map<Algo, Row> at(Config c, String kind, String layer, long batch, Dir d) {
      Map<Algo, Row> m = new EnumMap<>(Algo.class);
      for (Row r : rows)
        if (r.algo() != null && c.ran(r) && isLayer(r, kind, layer, batch, d)) m.put(r.algo(), r);
      return m;
    }

    /** A row of any JVM, the headline's first: the figures that do not depend on the JVM. */
    Row findAny(String kind, String layer, long batch, Algo a, Dir d) {
      return Stream.concat(headline().stream(), configs().stream())
          .map(c -> at(c, kind, layer, batch, d).get(a))
          .filter(r -> r != null)
          .findFirst()
          .orElse(null);
    }

    List<Row> rows(Dir d) {
      return rows.stream().filter(r -> r.dir() == d).toList();
    }

    /** (blas, threads) of every child, in run order. */
    List<Config> configs() {
      return tags.stream()
          .map(t -> t.split("-t(?=\\d+$)"))
          .map(t -> new Config(t[0], Integer.parseInt(t[1])))
          .toList();
    }

    /** The configurations at the largest thread count: the headline. */
    List<Config> headline() {
      int max = configs().stream().mapToInt(Config::threads).max().orElse(1);
      return configs().stream().filter(c -> c.threads() == max).toList();
    }

    /** The layers of the paper (and --layer) rows of a pass at a batch, in row order. */
    List<String> layers(long batch, Dir d) {
      Stream<Row> x = rows.stream().filter(r -> isLayer(r, "layer", r.layer(), batch, d));
      return x.map(Row::layer).distinct().toList();
    }

    /** The batches of the paper (and --layer) rows of a pass. */
    List<Long> batches(Dir d) {
      Stream<Row> x = rows.stream().filter(r -> r.kind().equals("layer") && r.dir() == d);
      return x.map(Row::batch).distinct().sorted().toList();
    }

    Map<String, String> env(Config c) {
      return envs.getOrDefault(ChildMain.tag(c.blas(), c.threads()), Map.of());
    }

    /** The first JVM's environment: what all JVMs share. */
    Map<String, String> anyEnv() {
      return envs.values().stream().findFirst().orElse(Map.of());
    }

    /** The JVMs that ran the k/s sweep. */
    List<Config> sweepConfigs() {
      return configs().stream()
          .filter(c -> rows.stream().anyMatch(r -> r.kind().equals("sweep") && c.ran(r)))
          .toList();
    }
  }

  public record Config(String blas, int threads) {
    String label() {
      String name = blas.equals("mkl") ? "MKL" : blas.equals("openblas") ? "OpenBLAS" : blas;
      return name + ", " + threads + (threads == 1 ? " thread" : " threads");
    }

    String shortLabel() {
      return (blas.equals("mkl") ? "MKL" : "OpenBLAS") + " t" + threads;
    }

    /** Whether a row ran in this JVM. */
    boolean ran(Row r) {
      return r.blas().equals(blas) && r.threads() == threads;
    }
  }

  /** One algorithm's row as a table shows it ("–" where it did not run), and MEC's time over it. */
  record Cell(Row r, Row mec) {
    Cell(Row r) {
      this(r, null);
    }

    String ms() {
      return r == null ? "–" : Report.ms(r.medianMs());
    }

    /** Solution A's time, "n/a" where it cannot run (|O| > |L|). */
    String msOrNa() {
      return r == null ? "n/a" : ms();
    }

    /** MEC's time and the variant it ran: "1.40 (FUSED (measured))". */
    String msRan() {
      return r == null ? "–" : ms() + " (" + ran() + ")";
    }

    String ws() {
      return r == null ? "–" : bytes(r.workspaceBytes());
    }

    String pct() {
      return r == null ? "–" : Report.pct(r.fractionOfSgemm());
    }

    String gflops() {
      return r == null ? "–" : Row.num(Math.round(r.gflops() * 10) / 10.0);
    }

    /** What ran: MEC's variant ("FUSED (measured)"), oneDNN's implementation. */
    String ran() {
      return r == null ? "–" : r.resolved().replace("MEC_", "").replace("|", "/");
    }

    /** The variant alone ("FUSED"). */
    String variant() {
      return ran().replaceAll(" \\(.*", "");
    }

    String impl() {
      return r == null ? "" : ran();
    }

    /** MEC's median time over this one's. */
    String vs() {
      return ratio(div(mec, r));
    }
  }

  /**
   * One layer's (or node's) rows in one JVM as the tables read them: {{MEC.ms}}, {{IM2COL.ws}},
   * {{ONEDNN.vs}} (MEC's time over oneDNN's), {{name}}, {{shape}}, ...
   */
  static Map<String, Object> layerView(Map<Algo, Row> m) {
    Map<String, Object> v = new HashMap<>();
    for (Algo a : Algo.values()) v.put(a.name(), new Cell(m.get(a), m.get(MEC)));
    if (m.isEmpty()) return v; // the JVM did not run this layer: its cells show "–"
    Row any = m.values().iterator().next(), im = m.get(IM2COL);
    v.put("name", any.layer().replace("|", "\\|"));
    v.put("count", any.count());
    v.put("batch", any.batch());
    v.put("shape", NetworkReport.shortShape(any));
    v.put("pass", any.dir().backward() ? "ConvTranspose (bwd_d)" : "fwd");
    v.put("worst", Row.sci(m.values().stream().mapToDouble(Row::maxRelErr).max().orElse(0)));
    v.put("best", ratio(best(m) / (im == null ? Double.NaN : im.medianMs())));
    return v;
  }

  /**
   * How often MEC was faster (ratio below 1) over a set of ratios, and their geometric mean; n
   * counts the ratios measured (NaN: one side did not run).
   */
  record Tally(int faster, int n, String geo) {
    static Tally of(List<Double> ratios) {
      List<Double> v = ratios.stream().filter(x -> !Double.isNaN(x) && x > 0).toList();
      return new Tally((int) v.stream().filter(x -> x < 1).count(), v.size(), ratio(geomean(v)));
    }

    /** MEC over another algorithm, layer by layer (each layer's rows by algorithm). */
    static Tally of(List<Map<Algo, Row>> layers, Algo a) {
      return of(layers.stream().map(x -> div(x.get(MEC), x.get(a))).toList());
    }

    boolean any() {
      return n > 0;
    }
  }

  /** Markdown is not HTML: the values go out as they are. */
  private static final Mustache REPORT =
      new DefaultMustacheFactory("org/mec4j/bench") {
        @Override
        public void encode(String value, Writer writer) {
          try {
            writer.write(value);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }.compile("report.mustache");

  /** networks.csv (with network or model rows), the charts and report.md of a run folder. */
  static void write(Path dir, Input in) throws IOException {
    if (NetworkReport.any(in) || in.rows().stream().anyMatch(Report::isModel))
      NetworkReport.writeCsv(dir.resolve("networks.csv"), in);
    List<String> charts = Charts.write(dir, in);
    Files.writeString(dir.resolve("report.md"), render(in, charts));
  }

  public static String render(Input in, List<String> charts) {
    Options o = in.options();
    Map<String, String> any = in.anyEnv();
    boolean networks = o.hasNetworks() || NetworkReport.any(in);
    List<Map<String, Object>> models = NetworkReport.models(in);
    // The paper's sections when paper (or command-line) layers were asked for, or no network or
    // model; not when only backward passes ran (they would be empty).
    boolean paper =
        !(networks || !models.isEmpty())
            || !o.layerList().isEmpty()
            || in.rows().stream().anyMatch(r -> !isNet(r));
    boolean forward =
        o.directionList().contains(FWD) || in.rows(FWD).stream().anyMatch(r -> !isNet(r));
    List<String> what = new ArrayList<>();
    if (paper) what.add("the paper's layers");
    if (networks) what.add("whole networks");
    if (!models.isEmpty()) what.add("real ONNX models");
    long errors = in.issues().stream().filter(Issue::isError).count();
    Map<String, Object> m = new HashMap<>();
    m.put("what", String.join(" and ", what));
    m.put("wall", Progress.duration(in.wallSeconds()));
    m.put("jvms", in.configs().size());
    m.put("started", any.getOrDefault("started", "?"));
    m.put("command", in.argv().isEmpty() ? "" : " " + String.join(" ", in.argv()));
    m.put("env", any);
    m.put("machine", Machine.describe());
    m.put("onednn", any.getOrDefault("onednn", "oneDNN ?"));
    m.put("errors", errors > 0 ? errors : null);
    m.put("o", o);
    m.put("tolerance", Row.num(o.tolerance));
    m.put("minTimeMs", Row.num(o.minTimeMs));
    m.put("maxAlgSeconds", Row.num(o.maxAlgSeconds));
    m.put("hasModels", o.hasModels() || !models.isEmpty());
    m.put("setup", in.configs().stream().map(c -> setup(in, c)).toList());
    // The forward network totals, unless only backward passes were asked for (theirs are in the
    // backward sections).
    if (networks && (NetworkReport.any(in) || o.directionList().contains(FWD)))
      m.put("networks", NetworkReport.networks(in));
    m.put("models", models);
    if (paper && forward) paper(in, m);
    m.put("backward", backward(in));
    m.put("charts", charts);
    m.put("issues", issues(in));
    m.put("backwardNotes", in.rows().stream().anyMatch(r -> r.dir().backward() && !isModel(r)));
    // idle threads made to sleep, unless --spin-wait kept the runtimes' defaults
    m.put("sleep", any.getOrDefault("openblas_thread_timeout", "null").equals("null") ? null : any);
    m.put("isa", isa(in));
    StringWriter w = new StringWriter();
    REPORT.execute(w, m);
    return w.toString();
  }

  static boolean isNet(Row r) {
    return r.kind().equals("network") || isModel(r);
  }

  static boolean isModel(Row r) {
    return r.kind().startsWith("model");
  }

  /**
   * A JVM's line of the setup table (what it loaded, its threads, its sgemm ceiling): its
   * env-*.properties as read by the template, "?" where a figure is missing.
   */
  private static Map<String, Object> setup(Input in, Config c) {
    Map<String, String> e = in.env(c);
    Map<String, Object> v = new HashMap<>(e);
    v.replaceAll((k, x) -> x.toString().replace("|", "/")); // a table cell
    for (String k : List.of("blas_vendor", "blas_version", "blas_threads", "omp_num_threads"))
      v.putIfAbsent(k, "?");
    for (String k : List.of("best", "gflops", "gflops_min", "gflops_max", "gflops_end"))
      v.put("sgemm_" + k, g1(e.get("sgemm_" + k)));
    String elapsed = e.get("elapsed_s");
    v.put("elapsed", elapsed == null ? "?" : Progress.duration(Double.parseDouble(elapsed)));
    v.putIfAbsent("requested_blas", c.blas());
    v.putIfAbsent("blas_library", "?");
    v.put("jvm", c.shortLabel());
    return v;
  }

  /** The paper's sections: headline, memory, times per JVM, the k/s sweep, the paper beside. */
  private static void paper(Input in, Map<String, Object> m) {
    List<Config> head = in.headline();
    List<Map<String, Object>> batches = new ArrayList<>();
    List<Map<Algo, Row>> cases = new ArrayList<>(); // every (layer, batch, headline JVM)
    List<Double> memoryRatios = new ArrayList<>();
    List<String> speed = new ArrayList<>();
    int exact = 0, compared = 0;
    for (long b : in.batches(FWD)) {
      List<Map<String, Object>> layers = new ArrayList<>(), summaries = new ArrayList<>();
      List<List<String>> memory = new ArrayList<>();
      for (String l : in.layers(b, FWD)) {
        List<Map<Algo, Row>> jvms = head.stream().map(c -> in.at(c, "layer", l, b, FWD)).toList();
        cases.addAll(jvms);
        Row im = in.findAny("layer", l, b, IM2COL, FWD), mec = in.findAny("layer", l, b, MEC, FWD);
        Row solutionB = in.findAny("layer", l, b, MEC_B, FWD);
        Row dn = in.findAny("layer", l, b, ONEDNN, FWD);
        if (mec == null && im == null) continue; // neither to show the shape by
        Conv2d c = (mec != null ? mec : im).conv();
        Map<String, Object> v = new HashMap<>(Map.of("name", l, "shape", shapeOf(c)));
        v.putAll(Map.of("ran", new Cell(mec).ran(), "memory", "–"));
        v.put("jvms", jvms.stream().map(Report::layerView).toList());
        layers.add(v);
        if (im == null) continue;
        long lowering = loweringBytes(in, "layer", l, b, c);
        double measured = (double) im.workspaceBytes() / lowering;
        v.put("memory", ratio(measured) + " (" + ratio(Formula.ratio(c)) + ")");
        if (lowering > 0) memoryRatios.add(measured);
        boolean same =
            im.workspaceBytes() == im.formulaBytes()
                && (solutionB == null || solutionB.workspaceBytes() == solutionB.formulaBytes());
        compared++;
        if (same) exact++;
        memory.add(
            List.of(
                l,
                bytes(im.workspaceBytes()),
                bytes(lowering) + (solutionB == null ? " (formula)" : ""),
                new Cell(mec).ws(),
                dn == null ? "–" : bytes(dn.workspaceBytes()) + " (" + dn.resolved() + ")",
                ratio(measured),
                ratio(Formula.ratio(c)),
                ratio((double) c.kernelHeight() / c.strideHeight()),
                same ? "yes" : "**no**"));
      }
      List<String> per = new ArrayList<>();
      for (Config c : head) {
        List<Map<Algo, Row>> x =
            in.layers(b, FWD).stream().map(l -> in.at(c, "layer", l, b, FWD)).toList();
        Map<String, Object> s = new HashMap<>(Map.of("label", c.label()));
        for (Algo a : List.of(IM2COL, ONEDNN, ONNXRUNTIME)) s.put(a.name(), Tally.of(x, a));
        summaries.add(s);
        Tally t = Tally.of(x, IM2COL);
        if (t.any())
          per.add(
              String.format(
                  "%s %d/%d (geo-mean MEC/im2col %s)", c.shortLabel(), t.faster(), t.n(), t.geo()));
      }
      if (!per.isEmpty())
        speed.add("mini-batch " + b + ": MEC faster than im2col on " + String.join(", ", per));
      batches.add(Map.of("batch", b, "layers", layers, "summaries", summaries, "memory", memory));
    }
    // the cases the paper's speed claims compare: automatic MEC and im2col both ran
    List<Map<Algo, Row>> both =
        cases.stream().filter(x -> x.containsKey(MEC) && x.containsKey(IM2COL)).toList();
    m.put("paper", true);
    m.put("head", head.stream().map(Config::shortLabel).toList());
    m.put("batches", batches);
    m.put("exact", exact);
    m.put("compared", compared);
    m.put("times", times(in));
    m.put("sweep", sweep(in));
    m.put("memoryRatios", memoryRatios.isEmpty() ? null : memoryRatios);
    m.put("minRatio", ratio(memoryRatios.stream().mapToDouble(x -> x).min().orElse(0)));
    m.put("maxRatio", ratio(memoryRatios.stream().mapToDouble(x -> x).max().orElse(0)));
    m.put("geoRatio", ratio(geomean(memoryRatios)));
    m.put("speed", speed.isEmpty() ? null : String.join("; ", speed));
    m.put("vsOneDnn", Tally.of(cases, ONEDNN));
    m.put("cases", both.isEmpty() ? null : both.size());
    m.put("autoFaster", both.stream().filter(x -> div(x.get(MEC), x.get(IM2COL)) < 1).count());
    m.put("bestFaster", both.stream().filter(x -> best(x) < x.get(IM2COL).medianMs()).count());
  }

  /** The fastest MEC of a layer's rows in one JVM: the automatic choice or a forced variant. */
  private static double best(Map<Algo, Row> x) {
    return x.entrySet().stream()
        .filter(e -> e.getKey().isMecFamily())
        .mapToDouble(e -> e.getValue().medianMs())
        .min()
        .orElse(Double.NaN);
  }

  /** Per JVM, every paper layer that im2col ran, in batch order. */
  private static List<Map<String, Object>> times(Input in) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Config c : in.configs()) {
      List<Map<String, Object>> layers = new ArrayList<>();
      for (long b : in.batches(FWD))
        for (String l : in.layers(b, FWD)) {
          Map<Algo, Row> x = in.at(c, "layer", l, b, FWD);
          if (x.containsKey(IM2COL)) layers.add(layerView(x));
        }
      out.add(Map.of("label", c.label(), "layers", layers));
    }
    return out;
  }

  private static Map<String, Object> sweep(Input in) {
    List<Config> ran = in.sweepConfigs();
    if (ran.isEmpty()) return null;
    List<List<Object>> rows = new ArrayList<>();
    for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
      long b = p.spec().batch();
      Row im = in.findAny("sweep", p.name(), b, IM2COL, FWD);
      Row mec = in.findAny("sweep", p.name(), b, MEC, FWD);
      if (im == null || mec == null) continue;
      long lowering = loweringBytes(in, "sweep", p.name(), b, p.spec());
      List<Object> cells =
          new ArrayList<>(
              List.of(
                  p.k(),
                  p.s(),
                  ratio((double) p.k() / p.s()),
                  bytes(im.workspaceBytes()),
                  bytes(lowering),
                  ratio((double) im.workspaceBytes() / lowering),
                  ratio(Formula.ratio(p.spec())),
                  new Cell(mec).ran()));
      for (Config c : ran) {
        Map<Algo, Row> x = in.at(c, "sweep", p.name(), b, FWD);
        cells.add(ratio(div(x.get(MEC), x.get(IM2COL))));
      }
      rows.add(cells);
    }
    return Map.of(
        "base", Plan.sweepSpecs(in.options()).get(0).spec(),
        "jvms", ran.stream().map(Config::shortLabel).toList(),
        "rows", rows);
  }

  /**
   * The backward sections, one per direction that has rows: per batch and JVM, per network and JVM,
   * each layer's times, workspaces and MEC's ratios (backward-table.mustache).
   */
  private static List<Map<String, Object>> backward(Input in) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Dir d : List.of(Dir.BWD_D, Dir.BWD_W)) {
      // a model's ConvTranspose nodes (bwd_d) are in the model's own section
      List<Row> rows = in.rows(d).stream().filter(r -> !isModel(r)).toList();
      if (rows.isEmpty()) continue;
      List<Map<String, Object>> batches = new ArrayList<>(), networks = new ArrayList<>();
      for (long b : in.batches(d)) {
        Predicate<Row> at = r -> r.kind().equals("layer") && r.batch() == b;
        batches.add(Map.of("batch", b, "jvms", backwardJvms(in, rows, at)));
      }
      for (String n : new LinkedHashSet<>(rows.stream().map(Row::network).toList())) {
        List<Map<String, Object>> jvms = backwardJvms(in, rows, r -> r.network().equals(n));
        if (!n.isEmpty()) networks.add(Map.of("name", n, "network", true, "jvms", jvms));
      }
      out.add(Map.of("bwdD", d == Dir.BWD_D, "batches", batches, "networks", networks));
    }
    return out;
  }

  /**
   * Per JVM that ran some of these rows: its layers, the geometric means of MEC's ratios, and the
   * totals Σ median × count over the layers MEC, im2col and oneDNN all ran.
   */
  private static List<Map<String, Object>> backwardJvms(
      Input in, List<Row> rows, Predicate<Row> which) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Config c : in.configs()) {
      List<Row> ran = rows.stream().filter(r -> c.ran(r) && which.test(r)).toList();
      if (ran.isEmpty()) continue;
      NetworkReport.Summary s = NetworkReport.summarize("", "", List.of(), c, ran, null);
      Map<String, Object> v = new HashMap<>(Map.of("label", c.label(), "summary", s));
      v.putAll(Map.of("dn", Tally.of(s.rows(), ONEDNN), "im", Tally.of(s.rows(), IM2COL)));
      double all = s.total(MEC) + s.total(IM2COL) + s.total(ONEDNN);
      v.put("totals", Double.isNaN(all) ? null : s);
      out.add(v);
    }
    return out;
  }

  /** The issues table's lines, a skipped combination once for all JVMs; null when none. */
  private static Map<String, Object> issues(Input in) {
    List<List<Object>> out = new ArrayList<>();
    Set<String> skips = new LinkedHashSet<>();
    for (Issue i : in.issues())
      if (!i.severity().equals("info")
          && (i.isError() || skips.add(i.layer() + "/" + i.batch() + "/" + i.algorithm())))
        out.add(
            List.of(
                i.isError() ? "**error**" : i.severity(),
                i.layer(),
                i.batch(),
                i.isError() ? i.blas() + " t" + i.threads() : "all",
                i.algorithm(),
                i.message().replace("|", "\\|")));
    return out.isEmpty() ? null : Map.of("rows", out);
  }

  static boolean isLayer(Row r, String kind, String layer, long batch, Dir d) {
    return r.kind().equals(kind) && r.layer().equals(layer) && r.batch() == batch && r.dir() == d;
  }

  /** Rows grouped by layer in row order, each by algorithm. */
  static List<Map<Algo, Row>> byLayer(Stream<Row> rows, Function<Row, String> key) {
    Map<String, Map<Algo, Row>> m = new LinkedHashMap<>();
    rows.filter(r -> r.algo() != null)
        .forEach(
            r -> m.computeIfAbsent(key.apply(r), k -> new EnumMap<>(Algo.class)).put(r.algo(), r));
    return new ArrayList<>(m.values());
  }

  /**
   * MEC's lowered matrix L, the paper's memory figure, in bytes: Solution B's workspace as the
   * library reported it (B always lowers the whole layer), else MEC.md's formula. mec4j's own MEC
   * may use far less (none where MEC_FUSED reads an unpadded input in place, cache-sized bands
   * otherwise): that is the MEC row's workspace.
   */
  static long loweringBytes(Input in, String kind, String layer, long batch, Conv2d c) {
    Row b = in.findAny(kind, layer, batch, MEC_B, FWD);
    return b != null ? b.workspaceBytes() : Formula.mecBytes(c);
  }

  /** "56×56×64, 3×3×128, s1, pad 1": the headline's shape. */
  static String shapeOf(Conv2d c) {
    boolean padded = c.padTop() + c.padBottom() + c.padLeft() + c.padRight() > 0;
    return String.format(
        "%d×%d×%d, %d×%d×%d, s%d%s",
        c.inputHeight(),
        c.inputWidth(),
        c.inputChannels(),
        c.kernelHeight(),
        c.kernelWidth(),
        c.outputChannels(),
        c.strideHeight(),
        padded ? ", pad " + c.padTop() : "");
  }

  /**
   * --max-isa and what the child JVMs got for it, oneDNN's fp32 mode, mec4j's ISA per JVM
   * (env-*.properties), for the method notes; null for a run from before --max-isa.
   */
  static Map<String, Object> isa(Input in) {
    Map<String, String> e =
        in.envs().values().stream().filter(x -> x.containsKey("max_isa")).findFirst().orElse(null);
    if (e == null) return null;
    List<String> caps = new ArrayList<>();
    for (String v : Isa.CAPS) {
      String x = e.getOrDefault(v.toLowerCase(Locale.ROOT), "null");
      caps.add(v + "=" + (x.equals("null") || x.isEmpty() ? "unset" : x));
    }
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
    List<String> mec4j = new ArrayList<>();
    for (var kv : seen.entrySet())
      mec4j.add(kv.getKey() + (seen.size() == 1 ? "" : " in " + String.join(", ", kv.getValue())));
    String fp = e.getOrDefault("onednn_default_fpmath_mode", "?");
    Map<String, Object> v = new HashMap<>(Map.of("max_isa", e.get("max_isa"), "fpmath", fp));
    v.putAll(Map.of("caps", String.join(", ", caps), "mec4j", String.join("; ", mec4j)));
    v.putAll(
        Map.of(
            "noAvx512",
            "false".equals(e.get("host_avx512")),
            "strict",
            fp.equalsIgnoreCase("STRICT")));
    return v;
  }

  static String bytes(long b) {
    if (b <= 0) return b < 0 ? "–" : "0";
    if (b < 1024) return b + " B";
    if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    return String.format(Locale.ROOT, "%.2f GiB", b / 1073741824.0);
  }

  static String ms(double v) {
    if (Double.isNaN(v)) return "–";
    String f = v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, f, v);
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
    return Math.exp(
        v.stream()
            .filter(x -> !Double.isNaN(x) && x > 0)
            .mapToDouble(Math::log)
            .average()
            .orElse(Double.NaN));
  }
}
