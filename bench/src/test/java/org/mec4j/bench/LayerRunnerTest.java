package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mec4j.Conv2d;

/** The runner on tiny layers, in this JVM (OpenBLAS, as surefire asks). */
class LayerRunnerTest {
  @org.junit.jupiter.api.BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
  }

  static final Set<Algo> ALL =
      EnumSet.of(
          Algo.MEC,
          Algo.MEC_A,
          Algo.MEC_B,
          Algo.MEC_ROWS,
          Algo.MEC_FUSED,
          Algo.MEC_PACKED,
          Algo.IM2COL,
          Algo.ONEDNN);

  static LayerRunner.Settings settings(Set<Algo> algos, Algo fault) {
    return new LayerRunner.Settings(2, 4, 1, 0, Checker.DEFAULT_FACTOR, 42, algos, fault, 10);
  }

  static LayerRunner.Outcome run(String shape, Set<Algo> algos, Algo fault) {
    return LayerRunner.run(Conv2d.parse(shape), settings(algos, fault), (l, f) -> {});
  }

  @Test
  void everyAlgorithmAgreesAndIsTimed() {
    for (String shape :
        new String[] {
          "mb2ih9iw11ic3oc4kh3kw2sh1sw2",
          "mb1ih8ic4oc5kh3sh2ph1pw2",
          "mb3ih7ic2oc3kh7",
          "mb2ih6ic8oc20kh1"
        }) {
      LayerRunner.Outcome o = run(shape, ALL, null);
      Conv2d c = Conv2d.parse(shape);
      for (LayerRunner.Measured m : o.measured()) {
        assertTrue(m.samplesMs().length >= 2, shape + " " + m.algo());
        assertTrue(
            m.maxRelErr() <= Checker.tolerance(Layer.dotLength(c), Checker.DEFAULT_FACTOR),
            shape + " " + m.algo());
        if (m.algo().lib() != null)
          assertEquals(c.workspaceBytes(m.algo().lib()), m.workspaceBytes());
        if (m.algo() == Algo.IM2COL || m.algo().isMecFamily() && m.algo() != Algo.MEC_A)
          assertEquals(
              WorkspaceFormula.bytes(m.algo(), c), m.workspaceBytes(), shape + " " + m.algo());
      }
      List<Algo> got = o.measured().stream().map(LayerRunner.Measured::algo).toList();
      assertTrue(
          got.containsAll(
              List.of(
                  Algo.MEC, Algo.MEC_B, Algo.MEC_FUSED, Algo.MEC_PACKED, Algo.IM2COL, Algo.ONEDNN)),
          got.toString());
      assertNotNull(o.onednnImpl());
      // MEC_PACKED: MEC_FUSED's workspace and formula, its kernel packed once (reported like
      // oneDNN's reorder)
      assertEquals(
          find(o, Algo.MEC_FUSED).workspaceBytes(),
          find(o, Algo.MEC_PACKED).workspaceBytes(),
          shape);
      assertEquals(
          WorkspaceFormula.bytes(Algo.MEC_FUSED, c),
          WorkspaceFormula.bytes(Algo.MEC_PACKED, c),
          shape);
      assertEquals("MEC_FUSED (kernel packed once)", find(o, Algo.MEC_PACKED).resolved());
      assertEquals(org.mec4j.Cpu.effectiveIsa().toString(), o.packedKernelIsa());
      assertTrue(o.packedKernelBytes() >= 4L * c.kernelSize(), shape + " " + o.packedKernelBytes());
      // MEC_A either ran or was skipped with a reason, never silently dropped
      assertTrue(
          got.contains(Algo.MEC_A) || o.skipped().stream().anyMatch(s -> s.algo() == Algo.MEC_A));
    }
  }

  @Test
  void mecAutoSharesTheSamplesOfItsVariant() {
    LayerRunner.Outcome o = run("mb2ih10ic3oc4kh3", ALL, null);
    LayerRunner.Measured auto = find(o, Algo.MEC);
    assertTrue(auto.resolved().endsWith("(measured)"), auto.resolved()); // mec4j's default tuning
    LayerRunner.Measured twin = find(o, Algo.valueOf(auto.resolved().split(" ")[0]));
    assertArrayEquals(twin.samplesMs(), auto.samplesMs());
    // timed on its own when its variant is not asked for
    LayerRunner.Outcome alone = run("mb2ih10ic3oc4kh3", EnumSet.of(Algo.MEC, Algo.IM2COL), null);
    assertEquals(2, alone.measured().size());
    assertNull(alone.packedKernelIsa());
  }

  @Test
  void mecPackedIsNeverTheTwinOfMecAuto() {
    // MEC (auto) resolves to FUSED here or not; either way it is timed on its own beside
    // MEC_PACKED.
    for (String shape : new String[] {"mb2ih10ic3oc4kh3", "mb1ih7ic64oc64kh3"}) {
      LayerRunner.Outcome o = run(shape, EnumSet.of(Algo.MEC, Algo.MEC_PACKED, Algo.IM2COL), null);
      LayerRunner.Measured auto = find(o, Algo.MEC), packed = find(o, Algo.MEC_PACKED);
      assertNotSame(auto.samplesMs(), packed.samplesMs());
      assertFalse(
          java.util.Arrays.equals(auto.samplesMs(), packed.samplesMs()),
          shape + " " + auto.resolved());
      for (org.mec4j.Algorithm a : org.mec4j.Algorithm.values())
        assertNotEquals(a.name(), packed.resolved());
    }
  }

  @Test
  void aDeliberatelyWrongResultAbortsTheLayer() {
    for (Algo bad : new Algo[] {Algo.MEC, Algo.MEC_B, Algo.MEC_PACKED, Algo.ONEDNN, Algo.IM2COL}) {
      LayerRunner.MismatchException e =
          assertThrows(
              LayerRunner.MismatchException.class,
              () -> run("mb2ih9ic3oc4kh3", ALL, bad),
              bad.toString());
      if (bad != Algo.IM2COL) assertEquals(bad, e.algo());
      assertTrue(e.getMessage().contains("max|diff|/max|ref|"), e.getMessage());
    }
  }

  @Test
  void slowAlgorithmsGetFewerRepetitionsButAtLeastOne() {
    LayerRunner.Settings capped =
        new LayerRunner.Settings(3, 3, 1, 0, Checker.DEFAULT_FACTOR, 42, ALL, null, 1e-9);
    LayerRunner.Outcome o = LayerRunner.run(Conv2d.parse("mb2ih10ic3oc4kh3"), capped, (l, f) -> {});
    for (LayerRunner.Measured m : o.measured())
      assertEquals(1, m.samplesMs().length, m.algo().toString());
  }

  @Test
  void sameDataInEveryJvm() {
    Conv2d c = Conv2d.parse("mb2ih9ic3oc4kh3");
    assertEquals(LayerRunner.seed(1, c, "input"), LayerRunner.seed(1, c, "input"));
    assertNotEquals(LayerRunner.seed(1, c, "input"), LayerRunner.seed(1, c, "kernel"));
    assertNotEquals(LayerRunner.seed(1, c, "input"), LayerRunner.seed(2, c, "input"));
  }

  @Test
  void oneDnnReportsWhatItChose() {
    org.mec4j.Blas.backend();
    Conv2d c = Conv2d.parse("mb1ih12ic8oc16kh3");
    try (NativeFloats in = new NativeFloats(c.inputSize()).fillRandom(1);
        NativeFloats k = new NativeFloats(c.kernelSize()).fillRandom(2);
        NativeFloats out = new NativeFloats(c.outputSize());
        OneDnnConv d = new OneDnnConv(c, in, k, out)) {
      d.run();
      assertFalse(d.impl().isBlank());
      assertTrue(d.scratchpadBytes() >= 0);
      assertTrue(OneDnnConv.version().startsWith("oneDNN 3."), OneDnnConv.version());
    }
  }

  /** Grouped, depthwise, dilated, padding beyond the kernel: the real networks' layers. */
  static final String[] NETWORK_SHAPES = {
    "mb2ih9iw8ic6oc4kh3kw2g2ph1",
    "mb1ih10ic8oc8kh3g8ph1sh2sw2",
    "mb2ih11iw9ic3oc4kh3dh1dw2ph2",
    "mb1ih7ic4oc8kh3g4dh1ph4pw3",
    "mb2ih12ic6oc6kh3g3dh1ph2sh2"
  };

  @Test
  void oneDnnAgreesWithTheReferenceOnGroupedAndDilatedLayers() {
    org.mec4j.Blas.backend();
    for (String shape : NETWORK_SHAPES) {
      Conv2d c = Conv2d.parse(shape);
      try (NativeFloats in = new NativeFloats(c.inputSize()).fillRandom(1);
          NativeFloats k = new NativeFloats(c.kernelSize()).fillRandom(2);
          NativeFloats ref = new NativeFloats(c.outputSize());
          NativeFloats out = new NativeFloats(c.outputSize());
          org.mec4j.Convolution r = org.mec4j.Convolution.create(c, org.mec4j.Algorithm.REFERENCE);
          OneDnnConv d = new OneDnnConv(c, in, k, out)) {
        r.forward(in.pointer(), k.pointer(), null, ref.pointer());
        out.fill(Float.NaN);
        d.run();
        Checker.Result res = Checker.compare(out, ref, Layer.dotLength(c), Checker.DEFAULT_FACTOR);
        assertTrue(res.ok(), shape + " (" + d.impl() + "): " + res);
      }
    }
  }

  @Test
  void networkLayersRunEveryApplicableAlgorithm() {
    for (String shape : NETWORK_SHAPES) {
      Conv2d c = Conv2d.parse(shape);
      LayerRunner.Outcome o = run(shape, ALL, null);
      List<Algo> got = o.measured().stream().map(LayerRunner.Measured::algo).toList();
      assertTrue(got.containsAll(List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN)), shape + " " + got);
      for (Algo a : ALL) // each algorithm ran or was skipped with the library's reason
      assertTrue(
            got.contains(a) || o.skipped().stream().anyMatch(s -> s.algo() == a), shape + " " + a);
      if (c.groups() > 1)
        assertFalse(got.contains(Algo.MEC_A) || got.contains(Algo.MEC_B), shape + " " + got);
      for (LayerRunner.Measured m : o.measured())
        assertTrue(
            m.maxRelErr() <= Checker.tolerance(Layer.dotLength(c), Checker.DEFAULT_FACTOR),
            shape + " " + m.algo());
    }
  }

  static final Set<Algo> BACKWARD =
      EnumSet.of(Algo.MEC, Algo.MEC_ROWS, Algo.MEC_FUSED, Algo.IM2COL, Algo.ONEDNN);

  @Test
  void backwardPassesRunMecRowsIm2colAndOneDnnChecked() {
    String[] shapes = {
      "mb2ih9iw11ic3oc4kh3kw2sh1sw2",
      "mb1ih8ic4oc5kh3sh2ph1pw2",
      "mb2ih6ic8oc20kh1",
      NETWORK_SHAPES[0],
      NETWORK_SHAPES[1],
      NETWORK_SHAPES[2],
      NETWORK_SHAPES[3]
    };
    for (Dir d : new Dir[] {Dir.BWD_D, Dir.BWD_W})
      for (String shape : shapes) {
        Conv2d c = Conv2d.parse(shape);
        LayerRunner.Outcome o = LayerRunner.run(c, settings(ALL, null), d, (l, f) -> {});
        List<Algo> got = o.measured().stream().map(LayerRunner.Measured::algo).toList();
        assertTrue(
            got.containsAll(List.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN)),
            d + " " + shape + " " + got);
        // the forward-only variants are left out silently; MEC_ROWS runs or is skipped with the
        // library's reason;
        // MEC_FUSED runs the weight gradients, and the input gradients at stride 1
        assertTrue(BACKWARD.containsAll(got), d + " " + shape + " " + got);
        assertEquals(
            d == Dir.BWD_W || c.strideHeight() == 1 && c.strideWidth() == 1,
            got.contains(Algo.MEC_FUSED),
            d + " " + shape + " " + got);
        assertTrue(
            got.contains(Algo.MEC_ROWS)
                || o.skipped().stream()
                    .anyMatch(k -> k.algo() == Algo.MEC_ROWS && k.reason().startsWith(d.id())),
            d + " " + shape + " " + o.skipped());
        assertTrue(o.skipped().stream().noneMatch(k -> !d.runs(k.algo())), o.skipped().toString());
        for (LayerRunner.Measured m : o.measured()) {
          assertTrue(m.samplesMs().length >= 2, d + " " + shape + " " + m.algo());
          assertTrue(
              m.maxRelErr() <= Checker.tolerance(Layer.dotLength(c, d), Checker.DEFAULT_FACTOR),
              d + " " + shape + " " + m.algo());
          if (m.algo().lib() != null)
            assertEquals(
                c.workspaceBytes(m.algo().lib(), d.lib()),
                m.workspaceBytes(),
                d + " " + shape + " " + m.algo());
        }
        assertNotNull(o.onednnImpl());
        assertNull(o.packedKernelIsa());
      }
  }

  @Test
  void aWrongGradientAbortsTheLayer() {
    for (Dir d : new Dir[] {Dir.BWD_D, Dir.BWD_W})
      for (Algo bad : new Algo[] {Algo.MEC, Algo.MEC_ROWS, Algo.ONEDNN, Algo.IM2COL}) {
        LayerRunner.MismatchException e =
            assertThrows(
                LayerRunner.MismatchException.class,
                () ->
                    LayerRunner.run(
                        Conv2d.parse("mb2ih9ic3oc4kh3"), settings(ALL, bad), d, (l, f) -> {}),
                d + " " + bad);
        if (bad != Algo.IM2COL) assertEquals(bad, e.algo());
        assertTrue(
            e.getMessage()
                .contains(d == Dir.BWD_D ? "(gradient of the input)" : "(gradient of the kernel)"),
            e.getMessage());
      }
  }

  static LayerRunner.Measured find(LayerRunner.Outcome o, Algo a) {
    return o.measured().stream().filter(m -> m.algo() == a).findFirst().orElseThrow();
  }
}
