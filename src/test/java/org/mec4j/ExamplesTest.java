package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mec4j.examples.Cv1Example;
import org.mec4j.examples.TrainSmallCnn;

/** The README's examples run as written (under whichever BLAS this suite runs with). */
class ExamplesTest {
  @Test
  void cv1Example() {
    Cv1Example.main(new String[0]); // throws on a mismatch
  }

  /** 3 epochs of 16 steps with each algorithm: the loss falls, and MEC and IM2COL train alike. */
  @Test
  void trainSmallCnn() {
    List<TrainSmallCnn.Run> runs =
        TrainSmallCnn.run(
            TrainSmallCnn.Options.parse(
                "--epochs",
                "3",
                "--samples",
                "512",
                "--batch",
                "32",
                "--algorithm",
                "both",
                "--seed",
                "7"));
    assertEquals(2, runs.size());
    TrainSmallCnn.Run mec = runs.get(0), im2col = runs.get(1);
    for (TrainSmallCnn.Run run : runs) {
      double first = run.loss()[0], last = run.loss()[2];
      assertTrue(last < 0.7 * first, run.algorithm() + ": loss " + first + " -> " + last);
    }
    // Same data, same initial weights: only fp32 rounding differs (the order of the sums).
    for (int epoch = 0; epoch < 3; epoch++)
      assertEquals(
          im2col.loss()[epoch],
          mec.loss()[epoch],
          1e-4 * im2col.loss()[epoch],
          "epoch " + (epoch + 1));
    assertTrue(
        mec.workspaceBytes() < im2col.workspaceBytes(),
        mec.workspaceBytes() + " vs " + im2col.workspaceBytes());
  }
}
