package org.mec4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The executor reuses the arrays of dead values (from step to step and from run to run): a value
 * that a later node still reads keeps its array, a graph output is never handed out again, and
 * repeated runs give the same bits.
 */
class BuffersTest {
  static {
    Ort.ENV.getVersion();
  }

  /**
   * c is read by the first node and again by the last; between them values of c's size die, and
   * their arrays are reused; Y1 is a graph output that a later node reads too.
   */
  static Graphs graph() {
    return OpsTest.afterConv()
        .output("Y1")
        .node("Relu", "r", List.of("c"), List.of("r1"))
        .node("Sigmoid", "s", List.of("r1"), List.of("s1"))
        .node("Neg", "n", List.of("s1"), List.of("n1"))
        .node("Tanh", "t", List.of("n1"), List.of("Y1"))
        .node("Mul", "m", List.of("Y1", "Y1"), List.of("m1"))
        .node("Sub", "op", List.of("m1", "c"), List.of("Y"));
  }

  static Map<String, Tensor> input(long seed) {
    return Map.of("X", Tensor.of(TestData.random(2 * 3 * 9 * 8, seed), OpsTest.IN));
  }

  @Test
  void aValueReadLaterKeepsItsArray() {
    OpsTest.check(graph());
  }

  @Test
  void outputsAreNeverReusedAndRunsRepeatBitForBit() {
    try (OnnxExecutor x = OnnxExecutor.load(graph().bytes())) {
      Map<String, Tensor> first = x.run(input(1));
      float[] y = first.get("Y").floats().clone(), y1 = first.get("Y1").floats().clone();
      for (int run = 0; run < 3; run++) {
        Map<String, Tensor> again = x.run(input(run % 2 == 0 ? 2 : 1));
        // The first run's outputs are untouched by the runs after it.
        assertArrayEquals(y, first.get("Y").floats(), "Y after run " + run);
        assertArrayEquals(y1, first.get("Y1").floats(), "Y1 after run " + run);
        if (run % 2 == 1) {
          assertArrayEquals(y, again.get("Y").floats(), "Y of run " + run);
          assertArrayEquals(y1, again.get("Y1").floats(), "Y1 of run " + run);
        }
      }
    }
  }
}
