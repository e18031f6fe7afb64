package org.mec4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The paper comparison: the MEC paper's layers (and any from the command line) through MEC (auto,
 * A, B, ROWS, FUSED, PACKED), im2col and oneDNN, under each BLAS and thread count in its own child
 * JVM; merges the children's rows and writes results.csv, report.md and PNG charts into one folder.
 */
@Command(
    name = "compare.sh",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpWidth = 110,
    description = {
      "Runs the MEC paper's 12 layers (data/cv-layers.csv) and any layer given with --layer through "
          + "MEC (automatic; A, B, ROWS, FUSED forced; FUSED with its kernel packed once), im2col (same BLAS) and oneDNN, each backend and thread count in its own JVM, "
          + "checks every result before timing it, and writes results.csv, report.md and charts. With --network: whole networks "
          + "(benchdnn shape lists), every 2-D layer, and per network the total time of MEC, im2col and oneDNN (networks.csv). "
          + "With --model FILE.onnx: a real ONNX model's Conv nodes on their real activations and weights, each checked "
          + "against ONNX Runtime's own output of the node, their totals (networks.csv), and the whole model in ONNX Runtime "
          + "and mec4j-onnx's OnnxExecutor.",
      ""
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:all results correct and measured",
      "1:the run could not be done",
      "2:usage error",
      "4:some layer failed its correctness check, a child failed, or a BLAS was not the one requested"
    })
public final class Main implements Callable<Integer> {
  public static final int EXIT_PROBLEMS = 4;

  /** The version Maven writes into the jar's manifest (none when run from target/classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"mec4j-bench " + (v != null ? v : "(not from a jar)")};
    }
  }

  @Mixin Options options = new Options();

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Output folder (created; must not hold a previous results.csv). Default: mec4j-results/<timestamp>.")
  Path out;

  @Option(names = "--no-progress", description = "No progress bar on stderr.")
  boolean noProgress;

  @Option(
      names = "--child-classpath",
      paramLabel = "CP",
      hidden = true,
      description = "Class path of the child JVMs (default: this JVM's).")
  String childClassPath;

  @Option(
      names = "--child-jvm-arg",
      paramLabel = "ARG",
      hidden = true,
      description = "An extra argument for the child JVMs, e.g. -Xmx8g. Repeatable.")
  List<String> childJvmArgs = new ArrayList<>();

  @Option(
      names = "--report-from",
      paramLabel = "DIR",
      hidden = true,
      description =
          "Re-render report.md and the charts of an existing run folder (nothing is run).")
  Path reportFrom;

  private final PrintStream err = System.err;
  private final List<String> argv = new ArrayList<>();

  /** The --max-isa caps and oneDNN's fp32 mode, the same for every child. */
  private Map<String, String> isaEnv = Map.of();

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    Main m = new Main();
    m.argv.addAll(List.of(args));
    CommandLine cl = new CommandLine(m);
    cl.setExecutionExceptionHandler(
        (e, c, p) -> {
          if (e instanceof IllegalArgumentException) {
            c.getErr().println("error: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cl.execute(args);
  }

  /** A child: one BLAS and one thread count. */
  /**
   * A child: one BLAS and one thread count; {@code wholeModelsOnly}: the models' whole-model
   * timings alone (a 1-thread JVM added when the run has none, for OnnxExecutor at 1 thread).
   */
  record Child(
      String blas, int threads, boolean sweep, List<Plan.Task> tasks, boolean wholeModelsOnly) {
    String tag() {
      return ChildMain.tag(blas, threads);
    }
  }

  /** What a child said about itself beyond its env file (read from its stdout). */
  static final class ChildLog {
    Integer exitCode;
    String onednnThreads = "";
    String onednnIsa = "";
    final List<String> fatal = new ArrayList<>();
  }

  @Override
  public Integer call() throws Exception {
    if (reportFrom != null) return rerender(reportFrom);
    options.resolveDefaults();
    options.validate();
    if (options.hasModels()) {
      OrtConv.env(); // ONNX Runtime first (see ChildMain), then the models, sized by a run of each
      options.modelList();
    }
    NativeCache.refreshStale();
    Path dir =
        out != null
            ? out
            : Path.of(
                "mec4j-results",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    if (Files.exists(dir.resolve("results.csv")))
      throw new IllegalArgumentException(
          dir + " already holds a results.csv: choose another --out");
    Files.createDirectories(dir);
    dir = dir.toAbsolutePath().normalize();

    List<Integer> threads = options.threadCounts();
    int maxThreads = threads.stream().mapToInt(Integer::intValue).max().orElse(1);
    List<Child> children = new ArrayList<>();
    boolean sweepPlaced = false;
    for (String b : options.backendList())
      for (int t : threads) {
        boolean sweep = !sweepPlaced && t == maxThreads; // the sweep runs once
        sweepPlaced |= sweep;
        children.add(new Child(b, t, sweep, Plan.build(options, t, sweep), false));
      }
    // The whole models at 1 thread too: OnnxExecutor's threads are mec4j's, fixed when it loads.
    if (options.hasModels() && !threads.contains(1))
      for (String b : options.backendList()) {
        children.add(new Child(b, 1, false, Plan.build(options, 1, false, true), true));
      }
    double total = 0;
    for (Child c : children) {
      total += 2.5; // JVM start, native loads
      for (Plan.Task t : c.tasks()) total += t.estSeconds();
    }
    Files.writeString(
        dir.resolve("command.txt"),
        "bench/compare.sh "
            + String.join(" ", quoteAll(argv))
            + "\n"
            + "child options: "
            + String.join(" ", quoteAll(options.toArgs()))
            + "\n");

    int nLayers = options.layerList().size();
    boolean nets = options.hasNetworks() || options.hasModels();
    String what =
        nLayers > 0 || !nets ? nLayers + " layer(s) x batches " + options.batches + ", " : "";
    String kinds =
        options.hasNetworks() && options.hasModels()
            ? "networks and models"
            : options.hasNetworks() ? "networks" : "models";
    err.printf(
        Locale.ROOT,
        "mec4j %s -> %s%n  %sbackends %s, threads %s%s; first estimate ~%s%n",
        nets ? (nLayers > 0 ? "paper comparison and " + kinds : kinds) : "paper comparison",
        dir,
        what,
        options.backendList(),
        threads,
        options.sweep ? ", k/s sweep" : "",
        Progress.duration(total));
    for (Networks.Network n : options.networkList())
      err.printf(
          Locale.ROOT,
          "  network %s: %d 2-D layer(s), %d convolution(s) with counts%s, at %s; %s%n",
          n.name(),
          n.layers().size(),
          n.convolutions(),
          n.skipped().isEmpty() ? "" : ", " + n.skipped().size() + " line(s) skipped",
          options.networkBatches.isEmpty() ? "the list's mb" : "mb " + options.networkBatches,
          n.file());
    for (Models.Model m : options.modelList())
      err.printf(
          Locale.ROOT,
          "  model %s: %d Conv node(s)%s, input %s; %s%n",
          m.name(),
          m.nodes().size(),
          m.transposedNodes() > 0 ? " (" + m.transposedNodes() + " ConvTranspose)" : "",
          m.inputsText(),
          m.file());
    boolean avx512 = Isa.hostAvx512();
    String note = Isa.note(options.maxIsa, avx512);
    if (note != null) err.println("  " + note);
    isaEnv = Isa.childEnv(options.maxIsa, avx512, System.getenv());
    Progress progress = new Progress(err, total, !noProgress);
    Map<String, ChildLog> logs = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    for (Child c : children) logs.put(c.tag(), runChild(c, dir, progress));
    progress.end();
    double wall = (System.nanoTime() - t0) / 1e9;

    // Merge.
    List<String> tags = children.stream().map(Child::tag).toList();
    List<String> layerOrder = new ArrayList<>();
    for (Layer l : options.layerList()) layerOrder.add(l.name());
    if (options.sweep) for (Plan.SweepPoint p : Plan.sweepSpecs(options)) layerOrder.add(p.name());
    for (Networks.Network n : options.networkList())
      for (Networks.NetLayer l : n.layers()) layerOrder.add(n.name() + "/" + l.name());
    for (Models.Model m : options.modelList()) {
      for (Models.Node n : m.nodes()) layerOrder.add(m.name() + "/" + n.name());
      layerOrder.add(m.name() + "/(whole model)");
    }
    List<Issue> issues = new ArrayList<>();
    for (Networks.Network n : options.networkList())
      for (Networks.Skip k : n.skipped())
        issues.add(
            new Issue(
                "skipped",
                n.name() + "/line" + k.line(),
                0,
                "*",
                0,
                "list",
                k.reason() + ": " + k.text()));
    issues.addAll(Merge.readIssues(dir, tags));
    Map<String, Map<String, String>> envs = new LinkedHashMap<>();
    Map<String, Double> ceilings = new LinkedHashMap<>();
    java.util.Properties parentEnv = new java.util.Properties();
    for (Child c : children) {
      Map<String, String> env = readEnv(dir.resolve("env-" + c.tag() + ".properties"));
      ChildLog log = logs.get(c.tag());
      env.put("onednn_threads_reported", log.onednnThreads);
      env.put("onednn_isa", log.onednnIsa);
      env.put("exit_code", String.valueOf(log.exitCode));
      parentEnv.setProperty(c.tag() + ".onednn_threads_reported", log.onednnThreads);
      parentEnv.setProperty(c.tag() + ".onednn_isa", log.onednnIsa);
      parentEnv.setProperty(c.tag() + ".exit_code", String.valueOf(log.exitCode));
      envs.put(c.tag(), env);
      try {
        ceilings.put(c.tag(), Double.parseDouble(env.getOrDefault("sgemm_best", "NaN")));
      } catch (NumberFormatException e) {
        // no ceiling: the child failed before measuring it
      }
      if (log.exitCode == null || log.exitCode != 0) {
        String why =
            log.exitCode != null && log.exitCode == ChildMain.EXIT_WRONG_BLAS
                ? "the loaded BLAS is not the one requested"
                : "the child JVM failed (exit code " + log.exitCode + ")";
        String detail =
            log.fatal.isEmpty() ? "see child-" + c.tag() + ".log" : String.join("; ", log.fatal);
        boolean dup =
            issues.stream()
                .anyMatch(
                    i ->
                        i.isError()
                            && i.blas().equals(c.blas())
                            && i.threads() == c.threads()
                            && i.layer().equals("*"));
        if (!dup)
          issues.add(new Issue("error", "*", 0, c.blas(), c.threads(), "*", why + ": " + detail));
      }
    }
    List<Row> rows =
        Merge.withCeilings(
            Merge.merge(Merge.readChildren(dir, tags), layerOrder, options.backendList()),
            ceilings);
    Merge.writeCsv(dir.resolve("results.csv"), rows);
    writeIssues(dir.resolve("errors.csv"), issues);
    try (Writer w =
        Files.newBufferedWriter(dir.resolve("run-env.properties"), StandardCharsets.UTF_8)) {
      parentEnv.store(w, "read by the parent from each child's output");
    }

    Report.Input in =
        new Report.Input(
            options, rows, issues, envs, wall, argv, children.stream().map(Child::tag).toList());
    Report.write(dir, in);
    java.util.Properties run = new java.util.Properties();
    run.setProperty("wall_seconds", Double.toString(wall));
    run.setProperty("tags", String.join(",", in.tags()));
    for (int i = 0; i < argv.size(); i++) run.setProperty("argv." + i, argv.get(i));
    List<String> childArgs = options.toArgs();
    for (int i = 0; i < childArgs.size(); i++) run.setProperty("options." + i, childArgs.get(i));
    try (Writer w =
        Files.newBufferedWriter(dir.resolve("run.properties"), StandardCharsets.UTF_8)) {
      run.store(w, "mec4j-bench run: what --report-from needs to re-render this folder");
    }

    long errors = issues.stream().filter(Issue::isError).count();
    err.printf(
        Locale.ROOT,
        "%nDone in %s: %d result rows, %d error(s).%n  %s%n  %s%n",
        Progress.duration(wall),
        rows.size(),
        errors,
        dir.resolve("report.md"),
        dir.resolve("results.csv"));
    if (Files.exists(dir.resolve("networks.csv"))) err.println("  " + dir.resolve("networks.csv"));
    for (Issue i : issues)
      if (i.isError())
        err.println(
            "  ERROR "
                + i.layer()
                + " mb"
                + i.batch()
                + " "
                + i.blas()
                + " t"
                + i.threads()
                + " "
                + i.algorithm()
                + ": "
                + i.message());
    return errors > 0 ? EXIT_PROBLEMS : 0;
  }

  /** Rebuilds report.md and the charts from a finished run folder. */
  private int rerender(Path dir) throws IOException {
    java.util.Properties run = new java.util.Properties();
    try (var r = Files.newBufferedReader(dir.resolve("run.properties"), StandardCharsets.UTF_8)) {
      run.load(r);
    }
    List<String> args = new ArrayList<>(), childArgs = new ArrayList<>();
    for (int i = 0; run.containsKey("argv." + i); i++) args.add(run.getProperty("argv." + i));
    for (int i = 0; run.containsKey("options." + i); i++)
      childArgs.add(run.getProperty("options." + i));
    Main m = new Main();
    new CommandLine(m).parseArgs(childArgs.toArray(String[]::new));
    List<String> tags = List.of(run.getProperty("tags").split(","));
    List<Row> rows =
        Merge.parseRows(
            Files.readString(dir.resolve("results.csv"), StandardCharsets.UTF_8), "results.csv");
    List<Issue> issues =
        Merge.parseIssues(
            Files.readString(dir.resolve("errors.csv"), StandardCharsets.UTF_8), "errors.csv");
    Map<String, Map<String, String>> envs = new LinkedHashMap<>();
    for (String t : tags) envs.put(t, readEnv(dir.resolve("env-" + t + ".properties")));
    // what the parent added from the children's output
    java.util.Properties extra = new java.util.Properties();
    Path ef = dir.resolve("run-env.properties");
    if (Files.exists(ef))
      try (var r = Files.newBufferedReader(ef, StandardCharsets.UTF_8)) {
        extra.load(r);
      }
    for (String k : extra.stringPropertyNames()) {
      int dot = k.indexOf('.');
      envs.computeIfAbsent(k.substring(0, dot), x -> new LinkedHashMap<>())
          .put(k.substring(dot + 1), extra.getProperty(k));
    }
    Report.Input in =
        new Report.Input(
            m.options,
            rows,
            issues,
            envs,
            Double.parseDouble(run.getProperty("wall_seconds")),
            args,
            tags);
    Report.write(dir, in);
    err.println("re-rendered " + dir.resolve("report.md"));
    return 0;
  }

  private static final Pattern NTHR =
      Pattern.compile("onednn_verbose.*runtime:([A-Za-z]+),nthr:(\\d+)");
  private static final Pattern ISA = Pattern.compile("onednn_verbose.*info,cpu,isa:(.*)");

  private ChildLog runChild(Child c, Path dir, Progress progress)
      throws IOException, InterruptedException {
    ChildLog log = new ChildLog();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-Dmec4j.blas=" + c.blas(),
                "-Dmec4j.threads=" + c.threads(),
                "-Djava.awt.headless=true",
                "-XX:+UseSerialGC",
                "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"));
    cmd.addAll(childJvmArgs);
    // The class path goes through CLASSPATH, not -cp: ONNX Runtime 1.29's Java binding crashes the
    // JVM (SIGSEGV in OrtEnvironment's creation) when the process's command line exceeds ~4 KB, as
    // a
    // -cp of every jar in ~/.m2 (surefire's class path) does.
    String cp = childClassPath != null ? childClassPath : classPath();
    cmd.add(ChildMain.class.getName());
    cmd.addAll(options.toArgs());
    cmd.addAll(
        List.of(
            "--blas",
            c.blas(),
            "--nthreads",
            Integer.toString(c.threads()),
            "--dir",
            dir.toString()));
    if (c.sweep()) cmd.add("--with-sweep");
    if (c.wholeModelsOnly()) cmd.add("--whole-models-only");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.put("CLASSPATH", cp);
    String n = Integer.toString(c.threads());
    env.put("OMP_NUM_THREADS", n); // oneDNN (OpenMP) and MKL
    env.put("OPENBLAS_NUM_THREADS", n);
    env.put("MKL_NUM_THREADS", n);
    if (!options.spinWait) { // idle threads sleep at once (see --spin-wait)
      env.put("OPENBLAS_THREAD_TIMEOUT", "4");
      env.put("OMP_WAIT_POLICY", "PASSIVE");
      env.put("KMP_BLOCKTIME", "0");
    }
    env.remove("MEC4J_BLAS");
    env.remove("MEC4J_NUM_THREADS");
    for (String v : Isa.CAPS) env.remove(v); // --max-isa owns them
    env.putAll(isaEnv);
    Path logFile = dir.resolve("child-" + c.tag() + ".log");
    String where = c.blas() + " t" + c.threads();
    progress.startTask(where, "starting JVM", 2.5);
    Process p = pb.start();
    Thread hook = new Thread(p::destroyForcibly);
    Runtime.getRuntime().addShutdownHook(hook);
    try (Writer w = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
      w.write("CLASSPATH=" + cp + " " + String.join(" ", cmd) + "\n");
      Thread pump =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    synchronized (w) {
                      w.write("[stderr] " + line + "\n");
                    }
                  }
                } catch (IOException e) {
                  // the child is gone
                }
              },
              "stderr-" + c.tag());
      pump.setDaemon(true);
      pump.start();
      boolean first = true;
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (w) {
            w.write(line + "\n");
          }
          Matcher m = NTHR.matcher(line);
          if (m.find()) log.onednnThreads = m.group(1) + ", nthr " + m.group(2);
          m = ISA.matcher(line);
          if (m.find()) log.onednnIsa = m.group(1).trim();
          if (!line.startsWith(ChildMain.PREFIX)) continue;
          String[] f = line.substring(ChildMain.PREFIX.length()).split(" ", 2);
          String rest = f.length > 1 ? f[1] : "";
          switch (f[0]) {
            case "task" -> {
              if (first) progress.finishTask(); // the JVM start
              first = false;
              String[] g = rest.split(" ", 2);
              Plan.Task t = c.tasks().get(Integer.parseInt(g[0]));
              progress.startTask(where, t.label(), t.estSeconds());
            }
            case "step" -> {
              String[] g = rest.split(" ", 3);
              progress.step(
                  c.tasks().get(Integer.parseInt(g[0])).label() + ": " + (g.length > 2 ? g[2] : ""),
                  Double.parseDouble(g[1]));
            }
            case "done" -> progress.finishTask();
            case "error" -> progress.message("ERROR (" + where + ") " + rest);
            case "fatal" -> {
              log.fatal.add(rest);
              progress.message("FATAL (" + where + ") " + rest);
            }
            default -> {}
          }
        }
      }
      log.exitCode = p.waitFor();
      pump.join(5000);
      if (first) progress.finishTask();
    } finally {
      Runtime.getRuntime().removeShutdownHook(hook);
      if (p.isAlive()) p.destroyForcibly();
    }
    if (log.exitCode != 0)
      progress.message(
          "child " + c.tag() + " exited with code " + log.exitCode + " (log: " + logFile + ")");
    return log;
  }

  /**
   * The class path of this JVM, absolute (a jar's manifest Class-Path is followed by the child
   * too).
   */
  static String classPath() {
    List<String> parts = new ArrayList<>();
    for (String s : System.getProperty("java.class.path").split(java.io.File.pathSeparator))
      if (!s.isEmpty()) parts.add(Path.of(s).toAbsolutePath().toString());
    return String.join(java.io.File.pathSeparator, parts);
  }

  static Map<String, String> readEnv(Path f) throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    if (!Files.exists(f)) return m;
    java.util.Properties p = new java.util.Properties();
    try (var r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    for (String k : new java.util.TreeSet<>(p.stringPropertyNames())) m.put(k, p.getProperty(k));
    return m;
  }

  private static void writeIssues(Path f, List<Issue> issues) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(Issue.HEADER);
    for (Issue i : issues) lines.add(i.toCsv());
    Files.write(f, lines, StandardCharsets.UTF_8);
  }

  private static List<String> quoteAll(List<String> args) {
    List<String> out = new ArrayList<>();
    for (String a : args)
      out.add(a.matches("[A-Za-z0-9_./=,:+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    return out;
  }
}
