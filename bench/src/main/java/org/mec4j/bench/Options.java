package org.mec4j.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/** What to run and how much: shared by the parent command and its child JVMs. */
public final class Options {
  /** The default layer of the k/s sweep: ResNet conv2_x's input (cv9) with its kernel varied. */
  public static final String DEFAULT_SWEEP_LAYER = "mb8ih56iw56ic64oc64";

  @Option(
      names = "--layers",
      paramLabel = "LIST",
      defaultValue = "all",
      description =
          "Paper layers to run: comma-separated names (cv1,cv5), 'all' or 'none'. Default: ${DEFAULT-VALUE} "
              + "(none with --network or --model).")
  String layers = "all";

  @Option(
      names = "--layer",
      paramLabel = "NAME=SHAPE",
      description =
          "An extra layer, benchdnn-style, e.g. mine=mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0 "
              + "(or SHAPEn\"NAME\"). With mb it runs at that batch only. Repeatable.")
  List<String> userLayers = new ArrayList<>();

  @Option(
      names = "--batches",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "1,32",
      description =
          "Mini-batch sizes. Default: ${DEFAULT-VALUE} (a network: its list's own mb; given, they replace it).")
  List<Long> batches = new ArrayList<>(List.of(1L, 32L));

  @Option(
      names = "--backends",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "openblas,mkl",
      description = "BLAS backends, one child JVM each: openblas, mkl. Default: ${DEFAULT-VALUE}.")
  List<String> backends = new ArrayList<>(List.of("openblas", "mkl"));

  @Option(
      names = "--threads",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "all",
      description =
          "Thread counts (BLAS and oneDNN), one child JVM each; 'all' = every core. Default: ${DEFAULT-VALUE} "
              + "(1 and all threads: --threads 1,all, about twice as long).")
  List<String> threads = new ArrayList<>(List.of("all"));

  @Option(
      names = "--algorithms",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "MEC,MEC_A,MEC_B,MEC_ROWS,MEC_FUSED,MEC_PACKED,IM2COL,ONEDNN,ONNXRUNTIME",
      description =
          "What to time; IM2COL always runs (it is the check's reference). MEC_PACKED is MEC_FUSED with the "
              + "kernel packed once, outside the timing (the inference path; DEPTHWISE on depthwise layers). ONNXRUNTIME (alias ORT) "
              + "is ONNX Runtime's CPU provider on a one-node model of the layer (forward only). Default: ${DEFAULT-VALUE} (a network: "
              + "MEC,IM2COL,ONEDNN,ONNXRUNTIME "
              + "unless given; a variant that refuses a layer is skipped there).")
  List<String> algorithms =
      new ArrayList<>(
          List.of(
              "MEC",
              "MEC_A",
              "MEC_B",
              "MEC_ROWS",
              "MEC_FUSED",
              "MEC_PACKED",
              "IM2COL",
              "ONEDNN",
              "ONNXRUNTIME"));

  @Option(
      names = "--directions",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "fwd",
      description =
          "Passes to run on every layer (paper, --layer and network layers; the sweep is forward only): fwd, bwd_d "
              + "(backward data: the input's gradient), bwd_w (backward weights: the kernel's and the bias's gradients), or 'all'. "
              + "Backward passes run MEC, MEC_ROWS, MEC_FUSED (weight gradients; input gradients at stride 1), IM2COL and ONEDNN of --algorithms (the other variants and ONNXRUNTIME are forward-only). "
              + "Default: ${DEFAULT-VALUE}.")
  List<String> directions = new ArrayList<>(List.of("fwd"));

  @Option(
      names = "--spin-wait",
      negatable = true,
      defaultValue = "false",
      description =
          "Leave the thread runtimes' idle spinning at their defaults (OpenBLAS ~0.1 s, OpenMP up to 0.2 s "
              + "after each call). By default the child JVMs make idle threads sleep at once (OPENBLAS_THREAD_TIMEOUT=4, "
              + "OMP_WAIT_POLICY=PASSIVE, KMP_BLOCKTIME=0): the algorithms are interleaved, and three runtimes (the BLAS's, "
              + "oneDNN's OpenMP, mec4j's pool) otherwise spin on the cores the next algorithm needs.")
  boolean spinWait;

  @Option(
      names = "--max-isa",
      paramLabel = "ISA",
      defaultValue = "best",
      converter = Isa.Converter.class,
      description =
          "Cap every library at one instruction set, for a fair comparison: best (no cap), avx512, avx2 or portable. "
              + "Sets MEC4J_MAX_ISA, OPENBLAS_CORETYPE (SKYLAKEX, HASWELL, PRESCOTT), MKL_ENABLE_INSTRUCTIONS (AVX512, AVX2, SSE4_2) "
              + "and ONEDNN_MAX_CPU_ISA (AVX512_CORE, AVX2, SSE41) in the child JVMs; none of them for best, nor the last three for "
              + "avx512 on a host without AVX-512. Default: ${DEFAULT-VALUE}.")
  String maxIsa = "best";

  @Option(
      names = "--reps",
      paramLabel = "N",
      defaultValue = "3",
      description = "Timed repetitions per algorithm, at least. Default: ${DEFAULT-VALUE}.")
  int reps = 3;

  @Option(
      names = "--max-reps",
      paramLabel = "N",
      defaultValue = "25",
      description =
          "At most this many repetitions (short layers repeat until --min-time-ms). Default: ${DEFAULT-VALUE}.")
  int maxReps = 25;

  @Option(
      names = "--max-alg-seconds",
      paramLabel = "S",
      defaultValue = "10",
      description =
          "Timed seconds per algorithm and layer beyond which its repetitions are cut (to at least 1): "
              + "keeps a very slow variant from dominating the run. Default: ${DEFAULT-VALUE}.")
  double maxAlgSeconds = 10;

  @Option(
      names = "--min-time-ms",
      paramLabel = "MS",
      defaultValue = "60",
      description = "Timed time per algorithm and layer to aim for. Default: ${DEFAULT-VALUE}.")
  double minTimeMs = 60;

  @Option(
      names = "--warmup-ms",
      paramLabel = "MS",
      defaultValue = "30",
      description =
          "Untimed warm-up per algorithm and layer, at least one run (the correctness check). Default: ${DEFAULT-VALUE}.")
  double warmupMs = 30;

  @Option(
      names = "--tolerance",
      paramLabel = "F",
      defaultValue = "16",
      description =
          "Correctness check: max|diff|/max|ref| must be <= F * 2^-23 * sqrt(kh*kw*ic/g). Default: ${DEFAULT-VALUE}.")
  double tolerance = Checker.DEFAULT_FACTOR;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "20170706",
      description = "Seed of the random inputs and weights. Default: ${DEFAULT-VALUE}.")
  long seed = 20170706L;

  @Option(
      names = "--sgemm-size",
      paramLabel = "N",
      defaultValue = "2048",
      description =
          "Size of the square sgemm that measures the ceiling. Default: ${DEFAULT-VALUE}.")
  int sgemmSize = 2048;

  @Option(
      names = "--sweep",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Run the k/s sweep, once: first backend, largest thread count. Default: on (off with --network); --no-sweep to skip.")
  boolean sweep = true;

  @Option(
      names = "--sweep-layer",
      paramLabel = "SHAPE",
      defaultValue = DEFAULT_SWEEP_LAYER,
      description =
          "Base of the sweep without kernel and stride (mb, ih, iw, ic, oc). Default: ${DEFAULT-VALUE}.")
  String sweepLayer = DEFAULT_SWEEP_LAYER;

  @Option(
      names = "--sweep-k",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "1,3,5,7,9,11",
      description = "Kernel sizes of the sweep (square). Default: ${DEFAULT-VALUE}.")
  List<Long> sweepK = new ArrayList<>(List.of(1L, 3L, 5L, 7L, 9L, 11L));

  @Option(
      names = "--sweep-s",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "1,2,4",
      description = "Strides of the sweep; only k >= s is run. Default: ${DEFAULT-VALUE}.")
  List<Long> sweepS = new ArrayList<>(List.of(1L, 2L, 4L));

  @Option(
      names = "--network",
      paramLabel = "NAME|FILE",
      description =
          "A whole network: a benchdnn conv shape list, by NAME (resnet_50, mobilenet_dw: the file shapes_NAME "
              + "in --network-dir) or FILE. Runs at the list's own mini-batch unless --batches is given; algorithms MEC, "
              + "IM2COL, ONEDNN, ONNXRUNTIME unless --algorithms is given; no paper layers (unless --layers) and no sweep (unless --sweep). Repeatable.")
  List<String> networks = new ArrayList<>();

  @Option(
      names = "--networks",
      paramLabel = "all",
      description =
          "'all': every shapes_* list of --network-dir, as if each were given with --network.")
  String networksAll;

  @Option(
      names = "--network-dir",
      paramLabel = "DIR",
      description =
          "Folder of the benchdnn lists. Default: $"
              + Networks.ENV_DIR
              + ", else the 11 lists bundled in the runner (data/benchdnn: oneDNN's benchdnn"
              + " lists, Apache-2.0).")
  java.nio.file.Path networkDir;

  // Resolved by the parent (resolveDefaults) and passed to the children as such.
  @Option(
      names = "--network-batches",
      split = ",",
      hidden = true,
      description = "Mini-batches of the networks (empty: each list's own).")
  List<Long> networkBatches = new ArrayList<>();

  @Option(
      names = "--network-algorithms",
      split = ",",
      hidden = true,
      defaultValue = "MEC,IM2COL,ONEDNN,ONNXRUNTIME",
      description = "What to time on the network layers.")
  List<String> networkAlgorithms =
      new ArrayList<>(List.of("MEC", "IM2COL", "ONEDNN", "ONNXRUNTIME"));

  @Option(
      names = "--model",
      paramLabel = "FILE.onnx",
      description =
          "A real ONNX model: ONNX Runtime runs it once on a seeded input (--seed) with every Conv's input and output "
              + "exposed, then each Conv node runs on its real input with its real weights and bias through MEC, IM2COL, "
              + "ONEDNN and ONNXRUNTIME (a one-node model of it; --algorithms to change), checked against ONNX Runtime's "
              + "own output of the node and timed; a ConvTranspose node times mec4j's backward-data pass (MEC, IM2COL, "
              + "ONEDNN; ONNXRUNTIME: a one-node ConvTranspose). Also the whole model in ONNX Runtime and in mec4j-onnx's OnnxExecutor in every JVM "
              + "(and in an extra 1-thread JVM per backend when --threads has no 1). No paper layers (unless --layers) and no sweep (unless --sweep). Repeatable.")
  List<Path> models = new ArrayList<>();

  @Option(
      names = "--model-input",
      paramLabel = "NAME=D0,D1,...",
      description =
          "The size of a model input with dynamic dimensions, e.g. x=1,3,48,320 (every --model with an input NAME). "
              + "Default for dynamic dimensions: "
              + Models.DEFAULTS_HELP
              + ". Repeatable.")
  List<String> modelInputs = new ArrayList<>();

  @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
  picocli.CommandLine.Model.CommandSpec mixee;

  private List<Networks.Network> networkCache;

  private List<Models.Model> modelCache;

  @Option(
      names = "--inject-fault",
      paramLabel = "ALGORITHM",
      hidden = true,
      description =
          "Test hook: corrupt this algorithm's output after its check run (the run must refuse it).")
  String injectFault;

  // ---- derived values ---------------------------------------------------------------------

  public Set<Algo> algorithmSet() {
    Set<Algo> s = EnumSet.noneOf(Algo.class);
    for (String a : algorithms) s.add(Algo.parse(a));
    s.add(Algo.IM2COL);
    return s;
  }

  /** What the network layers time (IM2COL always: the reference of the check). */
  public Set<Algo> networkAlgorithmSet() {
    Set<Algo> s = EnumSet.noneOf(Algo.class);
    for (String a : networkAlgorithms) s.add(Algo.parse(a));
    s.add(Algo.IM2COL);
    return s;
  }

  /** The passes to run, in the order fwd, bwd_d, bwd_w whatever the order given. */
  public List<Dir> directionList() {
    Set<Dir> s = EnumSet.noneOf(Dir.class);
    for (String d : directions) {
      if (d.trim().equalsIgnoreCase("all")) s.addAll(EnumSet.allOf(Dir.class));
      else s.add(Dir.parse(d));
    }
    if (s.isEmpty()) throw new IllegalArgumentException("--directions: empty");
    return new ArrayList<>(s);
  }

  public boolean hasNetworks() {
    return !networks.isEmpty() || networksAll != null;
  }

  public boolean hasModels() {
    return !models.isEmpty();
  }

  /**
   * The models of --model, read and sized once (ONNX Runtime runs each once for the shapes of its
   * Conv nodes: call this after ONNX Runtime's environment exists, before the BLAS loads).
   */
  public List<Models.Model> modelList() {
    if (modelCache != null) return modelCache;
    Map<String, long[]> given = Models.parseInputs(modelInputs);
    List<Models.Model> out = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>(), usedInputs = new java.util.HashSet<>();
    for (Path f : models) {
      if (!java.nio.file.Files.isRegularFile(f))
        throw new IllegalArgumentException("--model " + f + ": no such file");
      Models.Model m = Models.read(f, given, seed);
      if (!names.add(m.name()))
        throw new IllegalArgumentException("--model: two models are named " + m.name());
      usedInputs.addAll(m.inputs().keySet());
      out.add(m);
    }
    for (String n : given.keySet())
      if (!usedInputs.contains(n))
        throw new IllegalArgumentException(
            "--model-input " + n + ": no --model has an input named '" + n + "'");
    return modelCache = out;
  }

  /**
   * The network lists, read once: --network values in order, then --networks all; each file once.
   */
  public List<Networks.Network> networkList() {
    if (networkCache != null) return networkCache;
    java.util.LinkedHashSet<java.nio.file.Path> files = new java.util.LinkedHashSet<>();
    Path[] dir = {null};
    java.util.function.Supplier<Path> d =
        () -> dir[0] != null ? dir[0] : (dir[0] = Networks.directory(networkDir, System.getenv()));
    for (String n : networks) files.add(Networks.find(n.trim(), d));
    if (networksAll != null) {
      if (!networksAll.trim().equalsIgnoreCase("all"))
        throw new IllegalArgumentException(
            "--networks: only 'all' is accepted (name single lists with --network), got '"
                + networksAll
                + "'");
      files.addAll(Networks.all(d.get()));
    }
    List<Networks.Network> out = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Path f : files) {
      Networks.Network n = Networks.read(f);
      if (!names.add(n.name()))
        throw new IllegalArgumentException("two network lists are named '" + n.name() + "': " + f);
      if (n.layers().isEmpty())
        throw new IllegalArgumentException("network list " + f + " has no 2-D layer");
      out.add(n);
    }
    return networkCache = out;
  }

  /**
   * Parent only, once, before validate: with networks, options not given on the command line take
   * their network defaults (no paper layers, no sweep; batches and algorithms of --batches and
   * --algorithms only when given). The children get the result spelled out.
   */
  public void resolveDefaults() {
    List<Path> abs = new ArrayList<>();
    for (Path m : models) abs.add(m.toAbsolutePath().normalize());
    models = abs;
    if (!hasNetworks() && !hasModels()) return;
    if (!given("--layers")) layers = "none";
    if (!given("--sweep")) sweep = false;
    if (given("--batches")) networkBatches = new ArrayList<>(batches);
    if (given("--algorithms")) networkAlgorithms = new ArrayList<>(algorithms);
  }

  private boolean given(String option) {
    if (mixee == null || mixee.commandLine() == null) return false;
    picocli.CommandLine.ParseResult pr = mixee.commandLine().getParseResult();
    return pr != null && pr.hasMatchedOption(option);
  }

  public Algo fault() {
    return injectFault == null || injectFault.isBlank() ? null : Algo.parse(injectFault);
  }

  public static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  /** The thread counts, 'all' resolved, duplicates removed, in the given order. */
  public List<Integer> threadCounts() {
    List<Integer> out = new ArrayList<>();
    for (String t : threads) {
      String s = t.trim().toLowerCase(Locale.ROOT);
      int n;
      if (s.equals("all") || s.equals("max")) {
        n = cores();
      } else {
        try {
          n = Integer.parseInt(s);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--threads: '" + t + "' is not a number or 'all'");
        }
        if (n < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + n);
      }
      if (!out.contains(n)) out.add(n);
    }
    if (out.isEmpty()) throw new IllegalArgumentException("--threads: empty");
    return out;
  }

  public List<String> backendList() {
    List<String> out = new ArrayList<>();
    for (String b : backends) {
      String s = b.trim().toLowerCase(Locale.ROOT);
      if (!s.equals("openblas") && !s.equals("mkl"))
        throw new IllegalArgumentException("--backends: '" + b + "' is not openblas or mkl");
      if (!out.contains(s)) out.add(s);
    }
    if (out.isEmpty()) throw new IllegalArgumentException("--backends: empty");
    return out;
  }

  public List<Layer> layerList() {
    return Layers.select(Layers.paper(), layers, userLayersParsed(), hasNetworks() || hasModels());
  }

  private List<Layer> userLayersParsed() {
    List<Layer> user = new ArrayList<>();
    for (String u : userLayers) user.add(Layers.parseUser(u));
    return user;
  }

  /** Checks everything that can be checked before a child starts. */
  public void validate() {
    backendList();
    threadCounts();
    algorithmSet();
    directionList();
    fault();
    networkList();
    if (hasModels()) Models.parseInputs(modelInputs);
    layerList();
    networkAlgorithmSet();
    for (long b : networkBatches)
      if (b < 1) throw new IllegalArgumentException("--batches: must be >= 1, got " + b);
    for (long b : batches)
      if (b < 1) throw new IllegalArgumentException("--batches: must be >= 1, got " + b);
    if (batches.isEmpty()) throw new IllegalArgumentException("--batches: empty");
    if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1");
    if (maxReps < reps) maxReps = reps;
    if (maxAlgSeconds <= 0) throw new IllegalArgumentException("--max-alg-seconds must be > 0");
    if (tolerance <= 0) throw new IllegalArgumentException("--tolerance must be > 0");
    if (sgemmSize < 64) throw new IllegalArgumentException("--sgemm-size must be >= 64");
    if (sweep) Plan.sweepSpecs(this);
  }

  public LayerRunner.Settings settings() {
    return new LayerRunner.Settings(
        reps,
        maxReps,
        minTimeMs,
        warmupMs,
        tolerance,
        seed,
        algorithmSet(),
        fault(),
        maxAlgSeconds);
  }

  /**
   * These options, as the parent resolved them (resolveDefaults, validate), as arguments for a
   * child JVM: every option of this class, read from picocli's model of it, so that a new option
   * reaches the children with no code here. The networks go as the files they resolved to, without
   * --networks and --network-dir: the children neither search nor depend on the environment.
   */
  public List<String> toArgs() {
    if (mixee == null) throw new IllegalStateException("Options not parsed by picocli");
    CommandSpec own =
        mixee.mixins().values().stream()
            .filter(m -> m.userObject() == this)
            .findFirst()
            .orElseThrow(
                () -> new IllegalStateException("Options is not a mixin of " + mixee.name()));
    List<String> a = new ArrayList<>();
    for (OptionSpec o : own.options()) {
      String name = o.longestName();
      if (name.equals("--networks") || name.equals("--network-dir")) continue;
      if (name.equals("--network")) {
        if (hasNetworks()) for (Networks.Network n : networkList()) a.add("--network=" + n.file());
        continue;
      }
      Object v = o.getValue();
      if (v instanceof Boolean b) {
        if (b || o.negatable()) a.add(b ? name : "--no-" + name.substring(2));
      } else if (v instanceof Collection<?> c) {
        if (o.splitRegex().isEmpty()) for (Object x : c) a.add(name + "=" + x);
        else if (!c.isEmpty())
          a.add(name + "=" + c.stream().map(String::valueOf).collect(Collectors.joining(",")));
      } else if (v != null) {
        a.add(name + "=" + v);
      }
    }
    return a;
  }
}
