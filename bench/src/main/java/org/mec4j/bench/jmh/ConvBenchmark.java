package org.mec4j.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.mec4j.Algorithm;
import org.mec4j.Blas;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;
import org.mec4j.PackedKernel;
import org.mec4j.bench.Layer;
import org.mec4j.bench.Layers;
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
 * The core paths of mec4j through its public API on a few of the paper's layers: im2col, MEC
 * Solution A, Solution B, the ROWS variant and the FUSED variant (same BLAS, thread count from
 * -Dmec4j.threads), and MEC_PACKED: FUSED with the kernel packed once at set-up ({@link
 * PackedKernel}, the inference path).
 *
 * <pre>
 * bench/jmh.sh ConvBenchmark                          # OpenBLAS, 1 thread
 * bench/jmh.sh ConvBenchmark -jvmArgsAppend -Dmec4j.blas=mkl -p layer=cv10
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Dmec4j.threads=1", "-Djava.awt.headless=true"})
public class ConvBenchmark {
  /** Layers of data/cv-layers.csv; MEC_A needs |O| <= |L|, true for these at any batch. */
  @Param({"cv5", "cv10", "cv12"})
  public String layer;

  @Param({"1"})
  public int batch;

  /** An org.mec4j.Algorithm, or MEC_PACKED. */
  @Param({"IM2COL", "MEC_A", "MEC_B", "MEC_ROWS", "MEC_FUSED", "MEC_PACKED"})
  public String algorithm;

  /**
   * Output channels: the layer's own (0), or e.g. 1 to approximate the lowering
   * (LoweringBenchmark).
   */
  public int outputChannels;

  Convolution conv;
  FloatPointer input, kernel, output;

  /** MEC_PACKED only. */
  PackedKernel packed;

  static Conv2d spec(String name, int batch, int outputChannels) {
    for (Layer l : Layers.paper()) {
      if (!l.name().equals(name)) continue;
      Conv2d c = l.at(batch);
      return outputChannels > 0 ? c.toBuilder().outputChannels(outputChannels).build() : c;
    }
    throw new IllegalArgumentException("unknown layer " + name);
  }

  @Setup(Level.Trial)
  public void setUp() {
    org.mec4j.bench.NativeCache.refreshStale();
    Blas.backend();
    Conv2d c = spec(layer, batch, outputChannels);
    boolean pack = algorithm.equals("MEC_PACKED");
    conv = Convolution.create(c, pack ? Algorithm.MEC_FUSED : Algorithm.valueOf(algorithm));
    input = fill(new FloatPointer(c.inputSize()), 1);
    kernel = fill(new FloatPointer(c.kernelSize()), 2);
    output = new FloatPointer(c.outputSize());
    if (pack) {
      float[] k = new float[(int) c.kernelSize()];
      kernel.get(k);
      packed = PackedKernel.pack(c, k);
    }
  }

  static FloatPointer fill(FloatPointer p, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    for (long i = 0; i < p.limit(); i++) p.put(i, (float) (r.nextDouble() * 2 - 1));
    return p;
  }

  @Benchmark
  public FloatPointer forward() {
    if (packed != null) conv.forward(input, packed, null, output);
    else conv.forward(input, kernel, null, output);
    return output;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    conv.close();
    if (packed != null) packed.close();
    input.close();
    kernel.close();
    output.close();
  }
}
