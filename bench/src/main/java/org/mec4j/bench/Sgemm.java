package org.mec4j.bench;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import org.mec4j.Blas;

/**
 * The machine's GEMM ceiling for this JVM: a square fp32 sgemm (C = A·B, row-major) through the
 * BLAS mec4j loaded (the OpenBLAS preset's cblas_sgemm, which is MKL's when MKL was selected) with
 * the same thread count.
 */
final class Sgemm {
  private Sgemm() {}

  /** GFLOP/s of each timed repetition. */
  static double[] measure(int n, int warmups, int reps) {
    Blas.backend(); // mec4j picks and loads the BLAS before the preset class is touched
    long size = (long) n * n;
    try (NativeFloats a = new NativeFloats(size).fillRandom(1);
        NativeFloats b = new NativeFloats(size).fillRandom(2);
        NativeFloats c = new NativeFloats(size).fill(0)) {
      double flops = 2.0 * n * n * (double) n;
      double[] gflops = new double[reps];
      for (int i = 0; i < warmups + reps; i++) {
        long t0 = System.nanoTime();
        cblas_sgemm(
            CblasRowMajor,
            CblasNoTrans,
            CblasNoTrans,
            n,
            n,
            n,
            1f,
            a.pointer(),
            n,
            b.pointer(),
            n,
            0f,
            c.pointer(),
            n);
        long t = System.nanoTime() - t0;
        if (i >= warmups) gflops[i - warmups] = flops / t;
      }
      // A cheap sanity check of one element, so that a silently broken call cannot set the ceiling.
      double want = 0;
      for (int k = 0; k < n; k++) want += (double) a.get(k) * b.get((long) k * n);
      if (Math.abs(want - c.get(0)) > 1e-3 * Math.sqrt(n))
        throw new IllegalStateException(
            "sgemm ceiling: C[0,0] = " + c.get(0) + ", expected " + want);
      return gflops;
    }
  }
}
