package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class OptionsTest {
  private static Options parse(String... args) {
    Main m = new Main();
    new CommandLine(m).parseArgs(args);
    return m.options;
  }

  /** As the parent does: network defaults for what the command line does not give. */
  private static Options parent(String... args) {
    Options o = parse(args);
    o.resolveDefaults();
    o.validate();
    return o;
  }

  static Path tinyList(Path dir) throws java.io.IOException {
    Files.writeString(
        dir.resolve("shapes_tiny"),
        "# tiny\nmb3ic4ih8oc4kh3ph1n\"tiny:a*2\"\ng4mb3ic4ih8oc8kh3ph1n\"tiny:dw\"\n"
            + "mb3ic4id8ih8oc4kd3kh3n\"tiny:3d\"\n");
    Files.writeString(dir.resolve("shapes_other"), "mb1ic4ih6oc4kh1n\"other:a\"\n");
    return dir.resolve("shapes_tiny");
  }

  @Test
  void aNetworkRunsAloneAtItsOwnBatchWithMecIm2colAndOneDnn(@TempDir Path tmp) throws Exception {
    tinyList(tmp);
    Options o = parent("--network", "tiny", "--network-dir", tmp.toString());
    assertEquals("none", o.layers);
    assertFalse(o.sweep);
    assertTrue(o.layerList().isEmpty());
    assertTrue(o.networkBatches.isEmpty());
    assertEquals(
        java.util.EnumSet.of(Algo.MEC, Algo.IM2COL, Algo.ONEDNN, Algo.ONNXRUNTIME),
        o.networkAlgorithmSet());
    assertEquals(1, o.networkList().size());
    assertEquals(2, o.networkList().get(0).layers().size());
    assertEquals(1, o.networkList().get(0).skipped().size());
    List<Plan.Task> t = Plan.build(o, 1, true);
    assertEquals(
        List.of("sgemm ceiling", "[tiny] tiny:a x2 mb3", "[tiny] tiny:dw mb3"),
        t.stream().map(Plan.Task::label).toList());
    assertEquals(Plan.Kind.NETWORK, t.get(1).kind());
    assertEquals(2, t.get(1).count());
    // paper runs are unchanged
    Options paper = parent();
    assertEquals("all", paper.layers);
    assertTrue(paper.sweep);
    assertEquals(List.of(1L, 32L), paper.batches);
  }

  @Test
  void givenOptionsOverrideTheNetworkDefaults(@TempDir Path tmp) throws Exception {
    Path f = tinyList(tmp);
    Options o =
        parent(
            "--network",
            f.toString(),
            "--networks",
            "all",
            "--network-dir",
            tmp.toString(),
            "--batches",
            "1,2",
            "--algorithms",
            "MEC,MEC_FUSED",
            "--layers",
            "cv1",
            "--sweep");
    assertEquals(
        List.of("tiny", "other"),
        o.networkList().stream().map(Networks.Network::name).toList()); // each once
    assertEquals(List.of(1L, 2L), o.networkBatches);
    assertEquals(
        java.util.EnumSet.of(Algo.MEC, Algo.MEC_FUSED, Algo.IM2COL), o.networkAlgorithmSet());
    assertEquals(List.of("cv1"), o.layerList().stream().map(Layer::name).toList());
    assertTrue(o.sweep);
    List<String> labels = Plan.build(o, 1, false).stream().map(Plan.Task::label).toList();
    assertEquals(
        List.of(
            "sgemm ceiling",
            "cv1 mb1",
            "cv1 mb2",
            "[tiny] tiny:a x2 mb1",
            "[tiny] tiny:dw mb1",
            "[tiny] tiny:a x2 mb2",
            "[tiny] tiny:dw mb2",
            "[other] other:a mb1",
            "[other] other:a mb2"),
        labels);
    // The children get it all spelled out, files resolved: the same plan without the folder or the
    // parse result.
    ChildMain c = new ChildMain();
    List<String> args = new java.util.ArrayList<>(o.toArgs());
    assertTrue(args.contains("--network=" + f.toAbsolutePath()), args.toString());
    args.addAll(List.of("--blas", "openblas", "--nthreads", "1", "--dir", tmp.toString()));
    new CommandLine(c).parseArgs(args.toArray(String[]::new));
    assertEquals(o.toArgs(), c.options.toArgs());
    assertEquals(labels, Plan.build(c.options, 1, false).stream().map(Plan.Task::label).toList());
  }

  @Test
  void badNetworkOptionsAreUsageErrors(@TempDir Path tmp) throws Exception {
    tinyList(tmp);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parent("--network", "tiny", "--network-dir", tmp.resolve("nope").toString()));
    assertTrue(e.getMessage().contains("--network-dir"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parent("--network", "resnet", "--network-dir", tmp.toString()));
    assertTrue(
        e.getMessage().contains("no list 'resnet'") && e.getMessage().contains("tiny"),
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> parent("--networks", "some", "--network-dir", tmp.toString()));
    assertThrows(
        IllegalArgumentException.class,
        () -> parent("--network", tmp.resolve("missing/list").toString()));
    assertEquals(2, Main.run("--network", "resnet", "--network-dir", tmp.toString()));
  }

  @Test
  void defaultsCoverThePaper() {
    Options o = parse();
    o.validate();
    assertEquals(List.of(1L, 32L), o.batches);
    assertEquals(List.of("openblas", "mkl"), o.backendList());
    assertEquals(List.of(Options.cores()), o.threadCounts());
    assertEquals(12, o.layerList().size());
    assertTrue(o.sweep);
    assertTrue(
        o.algorithmSet()
            .containsAll(
                List.of(
                    Algo.MEC,
                    Algo.MEC_A,
                    Algo.MEC_B,
                    Algo.MEC_FUSED,
                    Algo.MEC_PACKED,
                    Algo.IM2COL,
                    Algo.ONEDNN)));
    assertEquals(Algo.MEC_PACKED, Algo.parse("packed"));
    assertEquals(Algo.MEC_FUSED.lib(), Algo.MEC_PACKED.lib());
    assertNull(o.fault());
  }

  @Test
  void listsReplaceTheDefaults() {
    Options o =
        parse(
            "--layers",
            "cv1,cv5",
            "--batches",
            "1",
            "--backends",
            "openblas",
            "--threads",
            "1",
            "--reps",
            "5",
            "--no-sweep",
            "--layer",
            "x=ih8ic4oc5kh3",
            "--layer",
            "y=mb2ih8ic4oc5kh3");
    o.validate();
    assertEquals(List.of(1L), o.batches);
    assertEquals(List.of("openblas"), o.backendList());
    assertEquals(List.of(1), o.threadCounts());
    assertEquals(5, o.reps);
    assertFalse(o.sweep);
    assertEquals(List.of("cv1", "cv5", "x", "y"), o.layerList().stream().map(Layer::name).toList());
  }

  @Test
  void threadsAllIsEveryCore() {
    Options o = parse("--threads", "all,1,ALL");
    assertEquals(List.of(Options.cores(), 1).stream().distinct().toList(), o.threadCounts());
    assertThrows(IllegalArgumentException.class, () -> parse("--threads", "0").threadCounts());
    assertThrows(IllegalArgumentException.class, () -> parse("--threads", "two").threadCounts());
  }

  @Test
  void badValuesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> parse("--backends", "atlas").validate());
    assertThrows(
        IllegalArgumentException.class, () -> parse("--algorithms", "winograd").validate());
    assertThrows(IllegalArgumentException.class, () -> parse("--batches", "0").validate());
    assertThrows(IllegalArgumentException.class, () -> parse("--layers", "cv0").validate());
    assertThrows(
        IllegalArgumentException.class, () -> parse("--sweep-k", "1", "--sweep-s", "2").validate());
    assertThrows(CommandLine.ParameterException.class, () -> parse("--reps", "x"));
    assertEquals(2, Main.run("--backends", "atlas")); // usage error exit code, nothing run
  }

  @Test
  void maxIsaAcceptsFourValues() {
    assertEquals("best", parse().maxIsa);
    for (String v : List.of("best", "avx512", "avx2", "portable"))
      assertEquals(v, parse("--max-isa", v).maxIsa);
    assertEquals("avx2", parse("--max-isa=AVX2").maxIsa);
    CommandLine.ParameterException e =
        assertThrows(CommandLine.ParameterException.class, () -> parse("--max-isa", "sse2"));
    assertTrue(
        e.getMessage().contains("--max-isa")
            && e.getMessage()
                .contains("expected one of best, avx512, avx2, portable but was 'sse2'"),
        e.getMessage());
    assertEquals(2, Main.run("--max-isa", "avx10")); // usage error exit code, nothing run
  }

  @Test
  void childArgumentsRoundTrip() {
    Options o =
        parse(
            "--layers",
            "cv2",
            "--layer",
            "x=ih8ic4oc5kh3",
            "--batches",
            "1,4",
            "--threads",
            "1,all",
            "--algorithms",
            "MEC,IM2COL",
            "--reps",
            "4",
            "--max-reps",
            "9",
            "--min-time-ms",
            "12.5",
            "--tolerance",
            "8",
            "--seed",
            "7",
            "--no-sweep",
            "--sweep-k",
            "3,5",
            "--inject-fault",
            "MEC",
            "--max-isa",
            "portable",
            "--directions",
            "fwd,bwd_w");
    ChildMain c = new ChildMain();
    List<String> args = new java.util.ArrayList<>(o.toArgs());
    args.addAll(List.of("--blas", "mkl", "--nthreads", "2", "--dir", "/tmp/x"));
    new CommandLine(c).parseArgs(args.toArray(String[]::new));
    assertEquals(o.toArgs(), c.options.toArgs());
    assertEquals("mkl", c.blas);
    assertEquals(2, c.nthreads);
    assertEquals(Algo.MEC, c.options.fault());
    assertEquals(List.of(3L, 5L), c.options.sweepK);
    assertEquals("portable", c.options.maxIsa);
    assertTrue(o.toArgs().contains("--max-isa=portable"));
    assertEquals(List.of(Dir.FWD, Dir.BWD_W), c.options.directionList());
  }

  @Test
  void directionsDefaultToForwardAndRunEveryLayerInEachGivenDirection(@TempDir Path tmp)
      throws Exception {
    Options o = parse("--layers", "cv1,cv2", "--batches", "1", "--no-sweep");
    o.validate();
    assertEquals(List.of(Dir.FWD), o.directionList());
    List<Plan.Task> fwd = Plan.build(o, 1, false);
    assertTrue(fwd.stream().allMatch(t -> t.direction() == Dir.FWD));
    assertEquals(
        List.of("sgemm ceiling", "cv1 mb1", "cv2 mb1"),
        fwd.stream().map(Plan.Task::label).toList());

    // given in any order, with duplicates: run as fwd, bwd_d, bwd_w; each layer's passes one after
    // another
    Options b =
        parse(
            "--layers",
            "cv1,cv2",
            "--batches",
            "1",
            "--no-sweep",
            "--directions",
            "bwd_w,FWD,bwd_d,bwd_w");
    b.validate();
    assertEquals(List.of(Dir.FWD, Dir.BWD_D, Dir.BWD_W), b.directionList());
    List<Plan.Task> t = Plan.build(b, 1, false);
    assertEquals(
        List.of(
            "sgemm ceiling",
            "cv1 mb1",
            "cv1 mb1 bwd_d",
            "cv1 mb1 bwd_w",
            "cv2 mb1",
            "cv2 mb1 bwd_d",
            "cv2 mb1 bwd_w"),
        t.stream().map(Plan.Task::label).toList());
    assertEquals(
        List.of(Dir.FWD, Dir.BWD_D, Dir.BWD_W),
        t.subList(1, 4).stream().map(Plan.Task::direction).toList());
    // a backward pass runs fewer algorithms (MEC, MEC_ROWS, IM2COL, ONEDNN): a smaller estimate
    assertTrue(
        t.get(2).estSeconds() < t.get(1).estSeconds(),
        t.get(2).estSeconds() + " vs " + t.get(1).estSeconds());
    assertEquals(4, Plan.runs(b.algorithmSet(), Dir.BWD_D));
    assertEquals(
        List.of(Dir.FWD, Dir.BWD_D, Dir.BWD_W), parse("--directions", "all").directionList());

    // the children get the same directions, and the sweep stays forward
    Options s =
        parse(
            "--layers",
            "cv1",
            "--batches",
            "1",
            "--directions",
            "bwd_d",
            "--sweep-k",
            "1,3",
            "--sweep-s",
            "1");
    ChildMain c = new ChildMain();
    List<String> args = new java.util.ArrayList<>(s.toArgs());
    assertTrue(args.contains("--directions=bwd_d"), args.toString());
    args.addAll(List.of("--blas", "openblas", "--nthreads", "1", "--dir", tmp.toString()));
    new CommandLine(c).parseArgs(args.toArray(String[]::new));
    assertEquals(List.of(Dir.BWD_D), c.options.directionList());
    List<Plan.Task> ct = Plan.build(c.options, 1, true);
    assertEquals(
        List.of("sgemm ceiling", "cv1 mb1 bwd_d", "sweep k1s1 (mb8)", "sweep k3s1 (mb8)"),
        ct.stream().map(Plan.Task::label).toList());
    assertEquals(Dir.FWD, ct.get(2).direction());
  }

  @Test
  void networkLayersRunInEachDirection(@TempDir Path tmp) throws Exception {
    tinyList(tmp);
    Options o =
        parent("--network", "tiny", "--network-dir", tmp.toString(), "--directions", "fwd,bwd_w");
    assertEquals(
        List.of(
            "sgemm ceiling",
            "[tiny] tiny:a x2 mb3",
            "[tiny] tiny:a x2 mb3 bwd_w",
            "[tiny] tiny:dw mb3",
            "[tiny] tiny:dw mb3 bwd_w"),
        Plan.build(o, 1, true).stream().map(Plan.Task::label).toList());
  }

  @Test
  void badDirectionsAreUsageErrors() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> parse("--directions", "bwd").validate());
    assertTrue(
        e.getMessage().contains("'bwd'") && e.getMessage().contains("fwd, bwd_d, bwd_w"),
        e.getMessage());
    assertEquals(2, Main.run("--directions", "fwd,backward")); // usage error exit code, nothing run
  }

  @Test
  void planOrdersBatchesThenLayersAndAddsTheSweepOnce() {
    Options o =
        parse(
            "--layers",
            "cv1,cv2",
            "--layer",
            "fixed=mb3ih8ic4oc5kh3",
            "--sweep-k",
            "1,3",
            "--sweep-s",
            "1,2");
    List<Plan.Task> t = Plan.build(o, 2, true);
    assertEquals(
        List.of(
            "sgemm ceiling",
            "cv1 mb1",
            "cv2 mb1",
            "fixed mb3",
            "cv1 mb32",
            "cv2 mb32",
            "sweep k1s1 (mb8)",
            "sweep k3s1 (mb8)",
            "sweep k3s2 (mb8)"),
        t.stream().map(Plan.Task::label).toList());
    for (int i = 0; i < t.size(); i++) assertEquals(i, t.get(i).index());
    assertTrue(t.stream().allMatch(x -> x.estSeconds() > 0));
    assertEquals(6, Plan.build(o, 1, false).size());
  }
}
