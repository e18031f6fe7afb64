package org.mec4j.bench.jmh;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.mec4j.Algorithm;
import org.mec4j.Blas;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;
import org.mec4j.Workspace;
import org.mec4j.internal.MecNative;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the Java layer costs on top of the native call (the goal: under 2% on cv12 at batch 1,
 * zero-copy paths). In one JVM, with one workspace and the same FloatPointers:
 *
 * <ul>
 *   <li>{@code api}: {@link Convolution#forward(FloatPointer, FloatPointer, FloatPointer,
 *       FloatPointer)}, every Java-side check included;
 *   <li>{@code raw}: the JavaCPP binding {@code MecNative.mec4j_forward_at} with the same arguments
 *       (same struct contents, algorithm MEC, workspace), no Java-side check.
 * </ul>
 *
 * <p>On cv12 the two differ by less than the machine's noise, so the overhead is bounded on the
 * 1x1x1 shape, where the native work is next to nothing: overhead = (api - raw on tiny) / (api on
 * cv12). MEC, 1 BLAS thread, no bias.
 *
 * <p>JMH runs api and raw one after the other, so on a shared machine load drift between them shows
 * up as a difference. {@link #main} compares them paired instead: rounds of api, raw and raw again
 * in rotating order, timed call by call, as the median of per-round ratios; raw against raw is the
 * control (it should be 0).
 *
 * <pre>
 * bench/jmh.sh JavaOverheadBenchmark -rf json -rff overhead.json
 * java -cp bench/target/mec4j-bench.jar org.mec4j.bench.jmh.JavaOverheadBenchmark [SHAPE [SECONDS]]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(
    value = 4,
    jvmArgsAppend = {"-Dmec4j.threads=1", "-Djava.awt.headless=true"})
public class JavaOverheadBenchmark {
  static final String CV12 = "mb1ih7iw7ic512oc512kh3kw3", TINY = "mb1ih1iw1ic1oc1kh1kw1";

  /** cv12 at batch 1, and a 1x1x1 layer whose native work is negligible. */
  @Param({CV12, TINY})
  public String shape;

  Conv2d spec;
  Workspace workspace;
  Convolution conv;
  MecNative.Conv2dStruct nativeSpec;
  int algorithmCode;
  Pointer workspacePointer;
  long workspaceBytes;
  FloatPointer input, kernel, output;
  final FloatPointer bias = null;
  int threadsBefore;

  @Setup(Level.Trial)
  public void setUp() throws ReflectiveOperationException {
    org.mec4j.bench.NativeCache.refreshStale();
    threadsBefore = Blas.backend().threads();
    Blas.setThreads(1);
    if (Blas.backend().threads() != 1)
      throw new IllegalStateException("BLAS threads: " + Blas.backend().threads() + ", wanted 1");
    spec = Conv2d.parse(shape);
    workspaceBytes = spec.workspaceBytes(Algorithm.MEC);
    workspace = Workspace.allocate(Math.max(1, workspaceBytes)); // 1x1 layers need none
    conv = Convolution.create(spec, Algorithm.MEC, workspace);
    input = ConvBenchmark.fill(new FloatPointer(spec.inputSize()), 1);
    kernel = ConvBenchmark.fill(new FloatPointer(spec.kernelSize()), 2);
    output = new FloatPointer(spec.outputSize());

    // What Convolution passes to the binding: Conv2d.toNative()'s struct, the algorithm's native
    // code (MEC itself: the native side applies its measured or heuristic choice, the same for both
    // paths) and the workspace's pointer (package-private, read once here).
    Method toNative = Conv2d.class.getDeclaredMethod("toNative");
    toNative.setAccessible(true);
    nativeSpec = (MecNative.Conv2dStruct) toNative.invoke(spec);
    Field code = Algorithm.class.getDeclaredField("code");
    code.setAccessible(true);
    algorithmCode = code.getInt(Algorithm.MEC);
    Method pointer = Workspace.class.getDeclaredMethod("pointer");
    pointer.setAccessible(true);
    workspacePointer = (Pointer) pointer.invoke(workspace);

    // Both paths must do the same work: same status, bit-identical outputs.
    api();
    float[] viaApi = new float[(int) spec.outputSize()];
    output.get(viaApi);
    output.fill(0);
    int status = raw();
    if (status != 0) throw new IllegalStateException("raw binding call returned status " + status);
    float[] viaRaw = new float[viaApi.length];
    output.get(viaRaw);
    if (!java.util.Arrays.equals(viaApi, viaRaw))
      throw new IllegalStateException(
          "raw binding call and Convolution.forward disagree on " + shape);
  }

  /** The public API, zero-copy overload. */
  @Benchmark
  public FloatPointer api() {
    conv.forward(input, kernel, bias, output);
    return output;
  }

  /** The JavaCPP binding alone: the call Convolution.forward ends in. */
  @Benchmark
  public int raw() {
    return MecNative.mec4j_forward_at(
        nativeSpec,
        algorithmCode,
        input,
        0,
        kernel,
        0,
        bias,
        0,
        output,
        0,
        workspacePointer,
        workspaceBytes);
  }

  /**
   * Paired, interleaved api/raw/raw rounds on one shape (default cv12) for SECONDS (default 20).
   */
  public static void main(String[] args) throws Exception {
    String shape = args.length > 0 ? args[0] : CV12;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 20;
    System.setProperty("java.awt.headless", "true");
    // The JIT compiles Convolution.forward after thousands of calls, which a 20 s run of cv12 does
    // not make: warm it on the tiny shape first, as a long-running application would have.
    JavaOverheadBenchmark warm = new JavaOverheadBenchmark();
    warm.shape = TINY;
    warm.setUp();
    try {
      warm.paired(2, 0);
    } finally {
      warm.tearDown();
    }
    JavaOverheadBenchmark b = new JavaOverheadBenchmark();
    b.shape = shape;
    b.setUp();
    try {
      double[][] r = b.paired(seconds / 5, seconds);
      System.out.println(b.report(r));
    } finally {
      b.tearDown();
    }
  }

  /**
   * Warms up for warmupSeconds, then times (at least 10) rounds of (api, raw, raw) in rotating
   * order for seconds: per round {api ns, raw ns, second raw ns}.
   */
  double[][] paired(double warmupSeconds, double seconds) {
    for (long end = System.nanoTime() + (long) (warmupSeconds * 1e9); System.nanoTime() < end; ) {
      api();
      raw();
    }
    java.util.List<double[]> rounds = new java.util.ArrayList<>();
    long[] t = new long[3];
    for (long end = System.nanoTime() + (long) (seconds * 1e9);
        System.nanoTime() < end || rounds.size() < 10; ) {
      int rot = rounds.size() % 3;
      for (int j = 0; j < 3; j++) {
        int which = (j + rot) % 3;
        long t0 = System.nanoTime();
        if (which == 0) api();
        else raw();
        t[which] = System.nanoTime() - t0;
      }
      rounds.add(new double[] {t[0], t[1], t[2]});
    }
    return rounds.toArray(new double[0][]);
  }

  String report(double[][] r) {
    int n = r.length;
    double[] api = new double[n], raw = new double[n], d = new double[n], control = new double[n];
    for (int i = 0; i < n; i++) {
      api[i] = r[i][0];
      raw[i] = r[i][1];
      d[i] = 100 * (r[i][0] / r[i][1] - 1);
      control[i] = 100 * (r[i][2] / r[i][1] - 1);
    }
    for (double[] a : new double[][] {api, raw, d, control}) java.util.Arrays.sort(a);
    return String.format(
        java.util.Locale.ROOT,
        "%s, MEC (%s), %s, %d paired rounds:%n  api median %.0f ns, raw median %.0f ns%n"
            + "  api/raw - 1, median of rounds: %+.3f%% (quartiles %+.3f%%, %+.3f%%)%n"
            + "  control raw/raw - 1:           %+.3f%% (quartiles %+.3f%%, %+.3f%%)",
        shape,
        conv.resolvedAlgorithm(),
        Blas.backend(),
        n,
        api[n / 2],
        raw[n / 2],
        d[n / 2],
        d[n / 4],
        d[3 * n / 4],
        control[n / 2],
        control[n / 4],
        control[3 * n / 4]);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    conv.close();
    nativeSpec.close();
    workspace.close();
    input.close();
    kernel.close();
    output.close();
    Blas.setThreads(threadsBefore);
  }
}
