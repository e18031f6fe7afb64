package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class OptionsTest {
  private static Options parse(String... args) {
    Main m = new Main();
    new CommandLine(m).parseArgs(args);
    return m.options;
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
    assertTrue(o.algorithmSet().containsAll(List.of(Algo.MEC, Algo.MEC_A, Algo.MEC_B, Algo.MEC_FUSED, Algo.MEC_PACKED,
        Algo.IM2COL, Algo.ONEDNN)));
    assertEquals(Algo.MEC_PACKED, Algo.parse("packed"));
    assertEquals(Algo.MEC_FUSED.lib(), Algo.MEC_PACKED.lib());
    assertNull(o.fault());
  }

  @Test
  void listsReplaceTheDefaults() {
    Options o = parse("--layers", "cv1,cv5", "--batches", "1", "--backends", "openblas", "--threads", "1", "--reps", "5",
        "--no-sweep", "--layer", "x=ih8ic4oc5kh3", "--layer", "y=mb2ih8ic4oc5kh3");
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
    assertThrows(IllegalArgumentException.class, () -> parse("--algorithms", "winograd").validate());
    assertThrows(IllegalArgumentException.class, () -> parse("--batches", "0").validate());
    assertThrows(IllegalArgumentException.class, () -> parse("--layers", "cv0").validate());
    assertThrows(IllegalArgumentException.class, () -> parse("--sweep-k", "1", "--sweep-s", "2").validate());
    assertThrows(CommandLine.ParameterException.class, () -> parse("--reps", "x"));
    assertEquals(2, Main.run("--backends", "atlas"));  // usage error exit code, nothing run
  }

  @Test
  void maxIsaAcceptsFourValues() {
    assertEquals("best", parse().maxIsa);
    for (String v : List.of("best", "avx512", "avx2", "portable")) assertEquals(v, parse("--max-isa", v).maxIsa);
    assertEquals("avx2", parse("--max-isa=AVX2").maxIsa);
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> parse("--max-isa", "sse2"));
    assertTrue(e.getMessage().contains("--max-isa") && e.getMessage().contains("expected one of best, avx512, avx2, portable but was 'sse2'"),
        e.getMessage());
    assertEquals(2, Main.run("--max-isa", "avx10"));  // usage error exit code, nothing run
  }

  @Test
  void childArgumentsRoundTrip() {
    Options o = parse("--layers", "cv2", "--layer", "x=ih8ic4oc5kh3", "--batches", "1,4", "--threads", "1,all",
        "--algorithms", "MEC,IM2COL", "--reps", "4", "--max-reps", "9", "--min-time-ms", "12.5", "--tolerance", "8",
        "--seed", "7", "--no-sweep", "--sweep-k", "3,5", "--inject-fault", "MEC", "--max-isa", "portable");
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
  }

  @Test
  void planOrdersBatchesThenLayersAndAddsTheSweepOnce() {
    Options o = parse("--layers", "cv1,cv2", "--layer", "fixed=mb3ih8ic4oc5kh3", "--sweep-k", "1,3", "--sweep-s", "1,2");
    List<Plan.Task> t = Plan.build(o, 2, true);
    assertEquals(List.of("sgemm ceiling", "cv1 mb1", "cv2 mb1", "fixed mb3", "cv1 mb32", "cv2 mb32",
        "sweep k1s1 (mb8)", "sweep k3s1 (mb8)", "sweep k3s2 (mb8)"), t.stream().map(Plan.Task::label).toList());
    for (int i = 0; i < t.size(); i++) assertEquals(i, t.get(i).index());
    assertTrue(t.stream().allMatch(x -> x.estSeconds() > 0));
    assertEquals(6, Plan.build(o, 1, false).size());
  }
}
