package org.mec4j.bench.jmh;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mec4j.Blas;

class JavaOverheadBenchmarkTest {
  /**
   * setUp checks that the raw binding call and the API agree bit for bit; then one call of each.
   */
  @Test
  void bothPathsRunAndAgreeOnBothShapes() throws Exception {
    int threads = Blas.backend().threads();
    for (String shape : new String[] {JavaOverheadBenchmark.CV12, JavaOverheadBenchmark.TINY}) {
      JavaOverheadBenchmark b = new JavaOverheadBenchmark();
      b.shape = shape;
      b.setUp();
      try {
        assertEquals(1, Blas.backend().threads());
        assertSame(b.output, b.api());
        assertEquals(0, b.raw());
        double[][] rounds = b.paired(0, 0);
        assertEquals(10, rounds.length);
        for (double[] round : rounds) for (double ns : round) assertTrue(ns > 0);
        assertTrue(b.report(rounds).contains("10 paired rounds"), b.report(rounds));
      } finally {
        b.tearDown();
      }
    }
    assertEquals(threads, Blas.backend().threads());
  }
}
