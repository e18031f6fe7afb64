package org.mec4j.bench.jmh;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * An approximation of the lowering alone, which the API does not expose: the same layers with a
 * single output channel (k_c = 1), so that the GEMMs shrink to matrix-vector products.
 *
 * <p>What remains is the lowering plus one pass of the GEMMs over the lowered data (N = 1). For
 * im2col that pass reads the lowered matrix once, about as much as writing it; for MEC the windows
 * overlap, so the pass reads o_h·o_w·k_h·k_w·i_c floats, im2col's size, out of a smaller L. Read
 * these numbers as an upper bound on the lowering: a lowering-only entry point in the native
 * library would be exact.
 */
@State(Scope.Benchmark)
public class LoweringBenchmark extends ConvBenchmark {
  @Param({"1"})
  public int kc;

  @Override
  @Setup(Level.Trial)
  public void setUp() {
    outputChannels = kc;
    super.setUp();
  }
}
