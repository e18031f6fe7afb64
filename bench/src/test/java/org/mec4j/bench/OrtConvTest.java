package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.EnumSet;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.mec4j.Algorithm;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;

/** ONNX Runtime's column: one-node models against the library's reference, and in the runner. */
class OrtConvTest {
  @org.junit.jupiter.api.BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
  }

  /** Strided, padded (asymmetric too), grouped, dilated, depthwise. */
  static List<Conv2d> layers() {
    return List.of(
        Conv2d.parse("mb2ih9iw11ic4oc6kh3kw2sh2sw1ph1pw2g2dh1"),
        Conv2d.parse("mb1ih7ic4oc8kh3g4dh1ph4pw3"),
        Conv2d.parse("mb2ih12ic6oc6kh3g3dh1ph2sh2"),
        Conv2d.parse("mb1ih10ic8oc8kh3g8ph1sh2"),
        Conv2d.builder()
            .batch(2)
            .input(8, 9, 6)
            .kernel(3, 2)
            .outputChannels(4)
            .stride(2, 3)
            .groups(2)
            .dilation(2, 1)
            .padding(1, 2, 0, 3)
            .build());
  }

  @Test
  void oneNodeModelEqualsTheLibrarysReference() {
    org.mec4j.Blas.backend();
    for (Conv2d c : layers()) {
      for (boolean withBias : new boolean[] {false, true}) {
        float[] bias = null;
        if (withBias) {
          bias = new float[(int) c.outputChannels()];
          for (int i = 0; i < bias.length; i++) bias[i] = 0.25f * i - 0.5f;
        }
        try (NativeFloats in = new NativeFloats(c.inputSize()).fillRandom(1);
            NativeFloats k = new NativeFloats(c.kernelSize()).fillRandom(2);
            NativeFloats ref = new NativeFloats(c.outputSize());
            NativeFloats out = new NativeFloats(c.outputSize());
            Convolution r = Convolution.create(c, Algorithm.REFERENCE);
            OrtConv ort = new OrtConv(c, in, k, bias, out)) {
          FloatPointer b = null;
          if (bias != null) b = new FloatPointer(bias);
          r.forward(in.pointer(), k.pointer(), b, ref.pointer());
          out.fill(Float.NaN);
          ort.runAndCapture();
          Checker.Result res =
              Checker.compare(out, ref, Layer.dotLength(c), Checker.DEFAULT_FACTOR);
          assertTrue(res.ok(), c + " bias " + withBias + ": " + res);
          ort.run(); // the timed call runs too
        }
      }
    }
  }

  @Test
  void kernelLayoutIsTheInverseOfKernelFromPyTorch() {
    for (Conv2d c : layers()) {
      float[] oihw = new float[(int) c.kernelSize()];
      for (int i = 0; i < oihw.length; i++) oihw[i] = i;
      assertArrayEquals(oihw, OrtConv.oihw(c, c.kernelFromPyTorch(oihw)), c.toString());
    }
  }

  @Test
  void ortAliasParses() {
    assertEquals(Algo.ONNXRUNTIME, Algo.parse("ORT"));
    assertEquals(Algo.ONNXRUNTIME, Algo.parse("ort"));
    assertEquals(Algo.ONNXRUNTIME, Algo.parse("onnxruntime"));
    assertEquals(Algo.ONNXRUNTIME, Algo.parse("ONNX-Runtime"));
    Options o = new Options();
    new picocli.CommandLine(o).parseArgs("--algorithms", "MEC,ORT");
    assertTrue(o.algorithmSet().contains(Algo.ONNXRUNTIME), o.algorithmSet().toString());
    assertTrue(new Options().algorithmSet().contains(Algo.ONNXRUNTIME)); // in the default set
  }

  static final EnumSet<Algo> WITH_ORT =
      EnumSet.of(Algo.MEC, Algo.MEC_PACKED, Algo.IM2COL, Algo.ONEDNN, Algo.ONNXRUNTIME);

  @Test
  void runnerTimesOrtAfterItsCheck() {
    for (Conv2d c : layers()) {
      LayerRunner.Outcome o =
          LayerRunner.run(c, LayerRunnerTest.settings(WITH_ORT, null), (l, f) -> {});
      LayerRunner.Measured m =
          o.measured().stream().filter(x -> x.algo() == Algo.ONNXRUNTIME).findFirst().orElseThrow();
      assertTrue(m.samplesMs().length >= 2, c.toString());
      assertEquals(-1, m.workspaceBytes()); // unknown
      assertEquals(OrtConv.RESOLVED, m.resolved());
      assertTrue(
          m.maxRelErr() <= Checker.tolerance(Layer.dotLength(c), Checker.DEFAULT_FACTOR),
          c + ": " + m.maxRelErr());
    }
  }

  @Test
  void aWrongOrtResultAbortsTheLayer() {
    LayerRunner.MismatchException e =
        assertThrows(
            LayerRunner.MismatchException.class,
            () -> LayerRunnerTest.run("mb2ih9ic3oc4kh3", WITH_ORT, Algo.ONNXRUNTIME));
    assertEquals(Algo.ONNXRUNTIME, e.algo());
    assertTrue(e.getMessage().contains("ONNX Runtime and im2col disagree"), e.getMessage());
  }

  @Test
  void backwardPassesLeaveOrtOutWithoutAnIssue() {
    for (Dir d : new Dir[] {Dir.BWD_D, Dir.BWD_W}) {
      LayerRunner.Outcome o =
          LayerRunner.run(
              Conv2d.parse("mb1ih8ic4oc5kh3sh2ph1pw2"),
              LayerRunnerTest.settings(WITH_ORT, null),
              d,
              (l, f) -> {});
      assertTrue(o.measured().stream().noneMatch(m -> m.algo() == Algo.ONNXRUNTIME), d.id());
      assertTrue(o.skipped().stream().noneMatch(s -> s.algo() == Algo.ONNXRUNTIME), d.id());
      assertTrue(o.measured().stream().anyMatch(m -> m.algo() == Algo.ONEDNN), d.id());
    }
  }

  @Test
  void mecPackedRunsDepthwiseOnADepthwiseLayer() {
    Conv2d c = Conv2d.parse("mb1ih10ic8oc8kh3g8ph1sh2");
    assertTrue(c.isDepthwise());
    LayerRunner.Outcome o =
        LayerRunner.run(c, LayerRunnerTest.settings(WITH_ORT, null), (l, f) -> {});
    LayerRunner.Measured pk =
        o.measured().stream().filter(x -> x.algo() == Algo.MEC_PACKED).findFirst().orElseThrow();
    assertEquals(LayerRunner.PACKED_DEPTHWISE, pk.resolved());
    assertEquals(c.workspaceBytes(Algorithm.DEPTHWISE), pk.workspaceBytes());
    assertNull(o.packedKernelIsa()); // nothing packed, no info row
    assertEquals("DEPTHWISE", c.resolution(Algorithm.MEC).algorithm().name());
  }
}
