package org.mec4j.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mec4j.Blas;
import org.mec4j.BlasBackend;
import org.mec4j.Conv2d;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One child JVM: one BLAS (chosen at load with -Dmec4j.blas), one thread count (-Dmec4j.threads and
 * OMP_NUM_THREADS for oneDNN). Runs its plan and writes rows-TAG.csv, issues-TAG.csv and
 * env-TAG.properties into the run folder; progress goes to stdout as "@@mec4j ..." lines.
 */
@Command(name = "mec4j-bench-child", mixinStandardHelpOptions = true, hidden = true)
public final class ChildMain implements Callable<Integer> {
  public static final String PREFIX = "@@mec4j ";

  /** Exit code when the loaded BLAS is not the one requested. */
  public static final int EXIT_WRONG_BLAS = 3;

  @Mixin Options options = new Options();

  @Option(names = "--blas", required = true)
  String blas;

  @Option(names = "--nthreads", required = true)
  int nthreads;

  @Option(names = "--dir", required = true)
  Path dir;

  @Option(names = "--with-sweep")
  boolean withSweep;

  @Option(names = "--whole-models-only")
  boolean wholeModelsOnly;

  private final PrintStream out = System.out;

  /** --model: the held activations of the model being run. */
  private ModelRunner models;

  public static String tag(String blas, int threads) {
    return blas + "-t" + threads;
  }

  public static void main(String[] args) {
    NativeCache.refreshStale();
    System.exit(new CommandLine(new ChildMain()).execute(args));
  }

  /** Null if the loaded BLAS is the one requested, else why the child must stop. */
  public static String blasMismatch(String requested, BlasBackend b) {
    String loaded = b.isMkl() ? "mkl" : b.isOpenBlas() ? "openblas" : "unknown";
    if (loaded.equals(requested)) return null;
    return requested.toUpperCase(Locale.ROOT)
        + " was requested (-Dmec4j.blas="
        + requested
        + ") but "
        + b.vendor()
        + " is loaded ("
        + b.library()
        + "): refusing to report its numbers under "
        + requested;
  }

  private void emit(String s) {
    synchronized (out) {
      out.println(PREFIX + s);
      out.flush();
    }
  }

  @Override
  public Integer call() throws IOException {
    String tag = tag(blas, nthreads);
    Files.createDirectories(dir);
    Path rowsFile = dir.resolve("rows-" + tag + ".csv"),
        issuesFile = dir.resolve("issues-" + tag + ".csv");
    Env env = new Env(dir.resolve("env-" + tag + ".properties"));
    env.put("tag", tag);
    env.put("requested_blas", blas);
    env.put("requested_threads", Integer.toString(nthreads));
    env.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
    for (String v : new String[] {"OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY", "KMP_BLOCKTIME"})
      env.put(v.toLowerCase(java.util.Locale.ROOT), String.valueOf(System.getenv(v)));
    env.put("max_isa", options.maxIsa);
    env.put("host_avx512", Boolean.toString(Isa.hostAvx512()));
    for (String v : Isa.RECORDED)
      env.put(v.toLowerCase(Locale.ROOT), String.valueOf(System.getenv(v)));
    env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    env.put("started", java.time.Instant.now().toString());
    long t0 = System.nanoTime();

    try (Writer rows = Files.newBufferedWriter(rowsFile, StandardCharsets.UTF_8);
        Writer issues = Files.newBufferedWriter(issuesFile, StandardCharsets.UTF_8)) {
      rows.write(Row.header() + "\n");
      issues.write(Issue.HEADER + "\n");
      rows.flush();
      issues.flush();

      // ONNX Runtime first, before the BLAS, oneDNN and their OpenMP runtimes load: its native
      // library, loaded after them, crashed the JVM (SIGSEGV) in some class-path layouts.
      OrtConv.threads = nthreads;
      OrtConv.allowSpinning = options.spinWait;
      if (options.algorithmSet().contains(Algo.ONNXRUNTIME)
          || options.hasModels()
          || (options.hasNetworks() && options.networkAlgorithmSet().contains(Algo.ONNXRUNTIME)))
        env.put("onnxruntime", OrtConv.version() + ", intra-op threads " + nthreads);
      // The models' Conv nodes are sized by an ONNX Runtime run: before the BLAS loads, too.
      for (Models.Model m : options.modelList())
        env.put("model." + m.name(), m.inputsText() + "; " + m.nodes().size() + " Conv nodes");
      BlasBackend b = Blas.backend();
      String loaded = b.isMkl() ? "mkl" : b.isOpenBlas() ? "openblas" : "unknown";
      env.put("blas", loaded);
      env.put("blas_vendor", b.vendor());
      env.put("blas_version", b.version());
      env.put("blas_library", b.library());
      env.put("blas_threads", Integer.toString(b.threads()));
      String msg = blasMismatch(blas, b);
      if (msg != null) {
        issues.write(new Issue("error", "*", 0, blas, nthreads, "*", msg).toCsv() + "\n");
        issues.flush();
        emit("fatal " + msg);
        env.put("fatal", msg);
        return EXIT_WRONG_BLAS;
      }
      for (var e : mec4jCpu().entrySet()) env.put(e.getKey(), e.getValue());
      if (b.threads() != nthreads)
        env.put(
            "threads_warning",
            "BLAS reports " + b.threads() + " threads, " + nthreads + " requested");
      env.put("onednn", OneDnnConv.version());
      OneDnnConv.announce = true;

      List<Plan.Task> tasks = Plan.build(options, nthreads, withSweep, wholeModelsOnly);
      models = new ModelRunner(options, nthreads);
      LayerRunner.Settings settings = options.settings();
      double ceiling = Double.NaN;
      for (Plan.Task t : tasks) {
        emit("task " + t.index() + " " + t.label());
        if (t.kind() == Plan.Kind.SGEMM) {
          double[] g = Sgemm.measure(options.sgemmSize, 2, 7);
          Stats s = Stats.of(g);
          ceiling = s.max(); // the best of 7: a ceiling; the parent raises it with the end run
          env.put("sgemm_n", Integer.toString(options.sgemmSize));
          env.put("sgemm_gflops", Row.num(s.median()));
          env.put("sgemm_gflops_min", Row.num(s.min()));
          env.put("sgemm_gflops_max", Row.num(s.max()));
          env.put("sgemm_best", Row.num(s.max()));
        } else if (t.kind() == Plan.Kind.MODEL_RUN) {
          runWholeModel(t, ceiling, rows, issues);
        } else {
          runLayer(t, settings, ceiling, rows, issues);
        }
        emit("done " + t.index());
      }
      // The ceiling again at the end: how much the machine drifted during the run.
      Stats end = Stats.of(Sgemm.measure(options.sgemmSize, 1, 5));
      models.close();
      env.put("sgemm_gflops_end", Row.num(end.median()));
      env.put("sgemm_best", Row.num(Math.max(ceiling, end.max())));
    } catch (RuntimeException | Error e) {
      if (models != null) models.close();
      env.put("fatal", e.toString());
      emit("fatal " + e);
      e.printStackTrace();
      return 1;
    } finally {
      env.put("elapsed_s", Row.num((System.nanoTime() - t0) / 1e9));
      env.put("finished", java.time.Instant.now().toString());
    }
    return 0;
  }

  private void runLayer(
      Plan.Task t, LayerRunner.Settings settings, double ceiling, Writer rows, Writer issues)
      throws IOException {
    Conv2d c = t.spec();
    boolean model = t.kind() == Plan.Kind.MODEL;
    boolean net = t.kind() == Plan.Kind.NETWORK || model;
    String kind =
        t.kind() == Plan.Kind.SWEEP ? "sweep" : model ? "model" : net ? "network" : "layer";
    Dir d = t.direction();
    // Issues have no network or direction column: both go into the layer's name.
    String layer =
        (net ? t.network() + "/" + t.name() : t.name()) + (d.backward() ? " " + d.id() : "");
    LayerRunner.Settings s = settings;
    if (net)
      s =
          new LayerRunner.Settings(
              settings.minReps(),
              settings.maxReps(),
              settings.minTimeMs(),
              settings.warmupMs(),
              settings.tolerance(),
              settings.seed(),
              options.networkAlgorithmSet(),
              settings.fault(),
              settings.maxAlgSeconds());
    if (t.kind() == Plan.Kind.SWEEP) {
      java.util.Set<Algo> a = java.util.EnumSet.of(Algo.MEC, Algo.IM2COL);
      s =
          new LayerRunner.Settings(
              settings.minReps(),
              settings.maxReps(),
              settings.minTimeMs(),
              settings.warmupMs(),
              settings.tolerance(),
              settings.seed(),
              a,
              settings.fault() == Algo.MEC ? Algo.MEC : null,
              settings.maxAlgSeconds());
    }
    long last[] = {0};
    LayerRunner.Outcome o;
    try {
      LayerRunner.Given given = model ? models.given(t) : null;
      o =
          LayerRunner.run(
              c,
              s,
              d,
              given,
              (label, f) -> {
                long now = System.nanoTime();
                if (now - last[0] > 100_000_000L || f >= 1) {
                  last[0] = now;
                  emit(String.format(Locale.ROOT, "step %d %.3f %s", t.index(), f, label));
                }
              });
    } catch (LayerRunner.MismatchException e) {
      issues.write(
          new Issue(
                      "error",
                      layer,
                      c.batch(),
                      blas,
                      nthreads,
                      e.algo().name(),
                      "wrong result, layer aborted: " + e.getMessage())
                  .toCsv()
              + "\n");
      issues.flush();
      emit("error " + t.label() + ": " + e.getMessage());
      return;
    } catch (RuntimeException | OutOfMemoryError e) {
      issues.write(
          new Issue("error", layer, c.batch(), blas, nthreads, "*", "layer failed: " + e).toCsv()
              + "\n");
      issues.flush();
      emit("error " + t.label() + ": " + e);
      return;
    }
    for (LayerRunner.Skipped k : o.skipped())
      issues.write(
          new Issue("skipped", layer, c.batch(), blas, nthreads, k.algo().name(), k.reason())
                  .toCsv()
              + "\n");
    for (LayerRunner.Measured m : o.measured()) {
      Stats st = m.stats();
      double gflops = c.flops() / 1e9 / (st.median() / 1e3);
      // A backward pass has the forward's multiply-adds; docs/MEC.md's memory formula is for the
      // forward only.
      rows.write(
          new Row(
                      t.name(),
                      c.batch(),
                      nthreads,
                      blas,
                      m.algo().name(),
                      st.median(),
                      st.min(),
                      st.max(),
                      gflops,
                      gflops / ceiling,
                      m.workspaceBytes(),
                      d.backward() ? -1 : Formula.bytes(m.algo(), c),
                      m.resolved(),
                      st.n(),
                      kind,
                      c.toString(),
                      c.flops() / 1e9,
                      ceiling,
                      m.maxRelErr(),
                      net ? t.network() : "",
                      net ? t.count() : 1,
                      d.id())
                  .toCsv()
              + "\n");
    }
    if (o.onednnImpl() != null) {
      // Kept for the report: oneDNN's copy of the weights in its own format (forward, bwd_d:
      // reordered once, not
      // timed; bwd_w: the gradients' layout, reordered into HWIO inside every timed call).
      long wb = o.onednnWeightsBytes();
      String msg =
          d != Dir.BWD_W
              ? "weights reordered once into oneDNN's format: " + wb + " bytes"
              : wb > 0
                  ? "weight gradients written in oneDNN's format ("
                      + wb
                      + " bytes) and reordered into HWIO inside each timed call"
                  : "weight gradients written straight into HWIO (oneDNN's own choice of layout): no reorder";
      issues.write(
          new Issue("info", layer, c.batch(), blas, nthreads, "ONEDNN", msg).toCsv() + "\n");
    }
    if (o.packedKernelIsa() != null) {
      // Likewise MEC_PACKED's kernel, packed once into MEC_FUSED's micro-kernel layout (not timed).
      issues.write(
          new Issue(
                      "info",
                      layer,
                      c.batch(),
                      blas,
                      nthreads,
                      "MEC_PACKED",
                      "kernel packed once into MEC_FUSED's layout ("
                          + o.packedKernelIsa()
                          + "): "
                          + o.packedKernelBytes()
                          + " bytes")
                  .toCsv()
              + "\n");
    }
    rows.flush();
    issues.flush();
  }

  /** The whole-model rows of a --model: ONNX Runtime and OnnxExecutor. */
  private void runWholeModel(Plan.Task t, double ceiling, Writer rows, Writer issues)
      throws IOException {
    String layer = t.network() + "/" + t.name();
    Models.Model m = models.model(t.network());
    double gflop = 0;
    for (Models.Node n : m.nodes()) gflop += n.spec().flops() / 1e9;
    long batch = m.nodes().get(0).spec().batch();
    long last[] = {0};
    ModelRunner.Whole w;
    try {
      w =
          models.whole(
              t,
              (label, f) -> {
                long now = System.nanoTime();
                if (now - last[0] > 100_000_000L || f >= 1) {
                  last[0] = now;
                  emit(String.format(Locale.ROOT, "step %d %.3f %s", t.index(), f, label));
                }
              });
    } catch (RuntimeException | OutOfMemoryError e) {
      issues.write(
          new Issue("error", layer, batch, blas, nthreads, "*", "whole model failed: " + e).toCsv()
              + "\n");
      issues.flush();
      emit("error " + t.label() + ": " + e);
      return;
    }
    for (String[] i : w.issues()) {
      issues.write(new Issue(i[0], layer, batch, blas, nthreads, i[1], i[2]).toCsv() + "\n");
      if (i[0].equals("error")) emit("error " + t.label() + ": " + i[2]);
    }
    for (ModelRunner.Timing x : w.timings()) {
      Stats st = Stats.of(x.samplesMs());
      double gflops = gflop / (st.median() / 1e3);
      rows.write(
          new Row(
                      t.name(),
                      batch,
                      x.threads(),
                      blas,
                      x.algorithm(),
                      st.median(),
                      st.min(),
                      st.max(),
                      gflops,
                      gflops / ceiling,
                      -1,
                      -1,
                      x.resolved(),
                      st.n(),
                      "model_run",
                      m.inputsText(),
                      gflop,
                      ceiling,
                      x.maxRelErr(),
                      t.network(),
                      1,
                      "fwd")
                  .toCsv()
              + "\n");
    }
    rows.flush();
    issues.flush();
  }

  /**
   * mec4j's instruction set and micro-kernel as this JVM sees them (org.mec4j.Cpu), for
   * env-TAG.properties: mec4j_cpu_isa, mec4j_cpu_max_isa, mec4j_cpu_igemm_kernel (mec4j_cpu_error
   * if a call fails).
   */
  static java.util.Map<String, String> mec4jCpu() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    try {
      m.put("mec4j_cpu_isa", String.valueOf(org.mec4j.Cpu.effectiveIsa()));
      m.put("mec4j_cpu_max_isa", String.valueOf(org.mec4j.Cpu.maxIsa()));
      m.put("mec4j_cpu_igemm_kernel", org.mec4j.Cpu.igemmKernel());
    } catch (RuntimeException | LinkageError e) {
      m.put("mec4j_cpu_error", e.toString());
    }
    return m;
  }

  /** env-TAG.properties, rewritten after every change so that a crash leaves what was known. */
  static final class Env {
    private final Path file;
    private final java.util.Properties p = new java.util.Properties();

    Env(Path file) {
      this.file = file;
    }

    void put(String k, String v) throws IOException {
      p.setProperty(k, v == null ? "" : v);
      try (java.io.Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        p.store(w, "what this child JVM ran with (read by the parent)");
      }
    }
  }
}
