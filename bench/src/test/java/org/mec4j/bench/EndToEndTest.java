package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mec4j.BlasBackend;

/** The whole runner on tiny layers: child JVMs, merge, report, charts. */
class EndToEndTest {
  @org.junit.jupiter.api.BeforeAll
  static void freshNatives() {
    NativeCache.refreshStale();
  }

  static List<String> tiny(Path out, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "--layers",
                "none",
                "--layer",
                "t1=ih9iw9ic3oc4kh3",
                "--layer",
                "t2=mb3ih8ic4oc5kh3sh2ph1pw1",
                "--batches",
                "1,2",
                "--reps",
                "2",
                "--max-reps",
                "3",
                "--min-time-ms",
                "1",
                "--warmup-ms",
                "0",
                "--sgemm-size",
                "128",
                "--sweep-layer",
                "mb1ih12iw12ic3oc4",
                "--sweep-k",
                "1,3,5",
                "--sweep-s",
                "1,2",
                "--out",
                out.toString(),
                "--no-progress"));
    a.addAll(List.of(more));
    return a;
  }

  @Test
  void bothBackendsInChildJvmsMergedIntoOneFolder(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    int code =
        Main.run(tiny(out, "--backends", "openblas,mkl", "--threads", "1").toArray(String[]::new));
    assertEquals(0, code, () -> read(out.resolve("errors.csv")));
    List<Row> rows = Merge.parseRows(Files.readString(out.resolve("results.csv")), "results.csv");
    // t1 at batches 1 and 2, t2 at its fixed batch 3; both BLAS; sweep once: 5 points x 2
    // algorithms
    assertTrue(
        rows.stream()
            .anyMatch(r -> r.layer().equals("t1") && r.batch() == 2 && r.blas().equals("mkl")));
    assertTrue(
        rows.stream()
            .anyMatch(
                r -> r.layer().equals("t2") && r.batch() == 3 && r.blas().equals("openblas")));
    assertFalse(rows.stream().anyMatch(r -> r.layer().equals("t2") && r.batch() != 3));
    assertEquals(5 * 2, rows.stream().filter(r -> r.kind().equals("sweep")).count());
    assertTrue(
        rows.stream()
            .filter(r -> r.kind().equals("sweep"))
            .allMatch(r -> r.blas().equals("openblas")));
    for (Row r : rows) {
      assertTrue(
          r.medianMs() > 0 && r.minMs() <= r.medianMs() && r.medianMs() <= r.maxMs(), r.toCsv());
      assertTrue(r.sgemmGflops() > 0 && r.fractionOfSgemm() > 0, r.toCsv());
    }
    // MEC_PACKED: a row beside every MEC_FUSED row, same workspace and formula; its packed kernel
    // an info row
    List<Row> fused = rows.stream().filter(r -> r.algorithm().equals("MEC_FUSED")).toList();
    assertEquals(2 * 3, fused.size()); // (t1 mb1, t1 mb2, t2 mb3) x 2 BLAS
    for (Row f : fused) {
      Row p =
          rows.stream()
              .filter(
                  r ->
                      r.algorithm().equals("MEC_PACKED")
                          && r.key().equals(f.key().replace("MEC_FUSED", "MEC_PACKED")))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no MEC_PACKED beside " + f.toCsv()));
      assertEquals(f.workspaceBytes(), p.workspaceBytes(), p.toCsv());
      assertEquals(f.formulaBytes(), p.formulaBytes(), p.toCsv());
      assertEquals("MEC_FUSED (kernel packed once)", p.resolved());
    }
    // ONNX Runtime (in the default set): a row beside every im2col row of a paper or --layer layer,
    // its workspace unknown (-1)
    List<Row> ort = rows.stream().filter(r -> r.algorithm().equals("ONNXRUNTIME")).toList();
    assertEquals(2 * 3, ort.size(), ort.toString());
    for (Row r : ort) {
      assertEquals(-1, r.workspaceBytes(), r.toCsv());
      assertEquals(OrtConv.RESOLVED, r.resolved());
    }
    String issues = Files.readString(out.resolve("errors.csv"));
    assertEquals(
        2 * 3,
        issues
            .lines()
            .filter(
                l ->
                    l.startsWith("info,")
                        && l.contains(",MEC_PACKED,")
                        && l.contains("kernel packed once into MEC_FUSED's layout"))
            .count(),
        issues);
    String env = Files.readString(out.resolve("env-mkl-t1.properties"));
    assertTrue(env.contains("blas_vendor=Intel MKL"), env);
    String report = Files.readString(out.resolve("report.md"));
    for (String s :
        new String[] {
          "## Headline",
          "## Memory",
          "## k/s sweep",
          "What the paper reports",
          "Intel MKL",
          "OpenBLAS",
          "OMP_NUM_THREADS=1",
          "nthr 1",
          "| MEC PACKED |",
          "MEC_PACKED is the inference path",
          " MEC/ORT OpenBLAS t1 |",
          "| ONNX Runtime | MEC/ORT |",
          "geometric mean of MEC/ORT",
          "ONNX Runtime 1.29.0 (CPU provider)",
          "workspace-mb1.png",
          "sweep-time.png",
          "None: every result passed"
        }) assertTrue(report.contains(s), s);
    for (String png :
        new String[] {
          "workspace-mb1.png",
          "workspace-mb2.png",
          "time-vs-im2col-mb1.png",
          "sweep-memory.png",
          "sweep-time.png"
        }) {
      byte[] b = Files.readAllBytes(out.resolve(png));
      assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png);
    }
    // The folder is not reused.
    assertEquals(
        2, Main.run(tiny(out, "--backends", "openblas", "--threads", "1").toArray(String[]::new)));
  }

  @Test
  void backwardDirectionsAddRowsSectionsAndChartsBesideAnUnchangedForward(@TempDir Path tmp)
      throws Exception {
    Path fwd = tmp.resolve("fwd"), all = tmp.resolve("all");
    assertEquals(
        0,
        Main.run(
            tiny(fwd, "--backends", "openblas", "--threads", "1", "--no-sweep")
                .toArray(String[]::new)),
        () -> read(fwd.resolve("errors.csv")));
    assertEquals(
        0,
        Main.run(
            tiny(
                    all,
                    "--backends",
                    "openblas",
                    "--threads",
                    "1",
                    "--no-sweep",
                    "--directions",
                    "fwd,bwd_d,bwd_w")
                .toArray(String[]::new)),
        () -> read(all.resolve("errors.csv")));
    List<Row> f = Merge.parseRows(Files.readString(fwd.resolve("results.csv")), "results.csv");
    List<Row> a = Merge.parseRows(Files.readString(all.resolve("results.csv")), "results.csv");
    assertEquals(Row.header(), Files.readAllLines(all.resolve("results.csv")).get(0));
    // the forward rows are the same rows (keys, in the same order) and come first
    List<Row> af = a.stream().filter(r -> r.dir() == Dir.FWD).toList();
    assertEquals(f.stream().map(Row::key).toList(), af.stream().map(Row::key).toList());
    assertEquals(af, a.subList(0, af.size()));
    for (Dir d : new Dir[] {Dir.BWD_D, Dir.BWD_W}) {
      List<Row> b = a.stream().filter(r -> r.dir() == d).toList();
      // t1 mb1, t1 mb2, t2 mb3, each with MEC, MEC_ROWS, IM2COL, ONEDNN, and MEC_FUSED for the
      // weights, and for the input gradients of t1 (stride 1; t2 is strided)
      java.util.Set<String> algorithms =
          java.util.Set.of("MEC", "MEC_ROWS", "MEC_FUSED", "IM2COL", "ONEDNN");
      assertEquals(d == Dir.BWD_W ? 15 : 14, b.size(), d + " " + b);
      assertEquals(
          algorithms, b.stream().map(Row::algorithm).collect(java.util.stream.Collectors.toSet()));
      for (Row r : b) {
        assertEquals(-1, r.formulaBytes(), r.toCsv());
        assertTrue(r.medianMs() > 0 && r.workspaceBytes() >= 0 && r.maxRelErr() >= 0, r.toCsv());
      }
    }
    String report = Files.readString(all.resolve("report.md")),
        before = Files.readString(fwd.resolve("report.md"));
    for (String s :
        new String[] {
          "## Backward data (bwd_d)",
          "## Backward weights (bwd_w)",
          "workspace-bwd_d-mb1.png",
          "time-bwd_w-vs-im2col-mb2.png"
        }) assertTrue(report.contains(s), s);
    // the backward sections sit before the charts; without them, the same headings in the same
    // order as forward alone
    String cut =
        report.substring(0, report.indexOf("## Backward data"))
            + report.substring(report.indexOf("## Charts"));
    assertEquals(
        before.lines().filter(l -> l.startsWith("#")).toList(),
        cut.lines().filter(l -> l.startsWith("#")).toList());
    for (String png :
        new String[] {
          "workspace-bwd_d-mb1.png",
          "workspace-bwd_w-mb2.png",
          "time-bwd_d-vs-im2col-mb1.png",
          "time-bwd_w-vs-im2col-mb2.png"
        }) {
      byte[] b = Files.readAllBytes(all.resolve(png));
      assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png);
    }
    String issues = Files.readString(all.resolve("errors.csv"));
    assertTrue(issues.contains("info,t1 bwd_d,1,openblas,1,ONEDNN,weights reordered once"), issues);
    assertTrue(issues.contains("info,t1 bwd_w,1,openblas,1,ONEDNN,weight gradients "), issues);
  }

  @Test
  void aWrongResultIsAnErrorNotARow(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    int code =
        Main.run(
            tiny(
                    out,
                    "--backends",
                    "openblas",
                    "--threads",
                    "1",
                    "--no-sweep",
                    "--inject-fault",
                    "MEC_B")
                .toArray(String[]::new));
    assertEquals(Main.EXIT_PROBLEMS, code);
    List<Row> rows = Merge.parseRows(Files.readString(out.resolve("results.csv")), "results.csv");
    assertTrue(rows.isEmpty(), "no layer may have rows: every one had a wrong MEC_B: " + rows);
    List<String> errors =
        Files.readAllLines(out.resolve("errors.csv")).stream()
            .filter(l -> l.startsWith("error,"))
            .toList();
    assertEquals(3, errors.size(), errors.toString()); // t1 mb1, t1 mb2, t2 mb3
    assertTrue(errors.get(0).contains("MEC_B differs from im2col"), errors.get(0));
    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("3 error(s)"), report);
  }

  @Test
  void aChildWithoutMklThatAsksForMklFailsLoudly(@TempDir Path tmp) throws Exception {
    // No MKL jar on the child's class path and an empty JavaCPP cache (which would otherwise still
    // hold MKL's libraries): the OpenBLAS preset silently falls back to OpenBLAS.
    String cp =
        java.util.Arrays.stream(
                System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(e -> !e.contains("mkl-"))
            .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    Path out = tmp.resolve("run");
    int code =
        Main.run(
            tiny(
                    out,
                    "--backends",
                    "mkl",
                    "--threads",
                    "1",
                    "--no-sweep",
                    "--child-classpath",
                    cp,
                    "--child-jvm-arg",
                    "-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache"))
                .toArray(String[]::new));
    assertEquals(Main.EXIT_PROBLEMS, code);
    String errors = Files.readString(out.resolve("errors.csv"));
    assertTrue(
        errors.contains("MKL was requested (-Dmec4j.blas=mkl) but OpenBLAS is loaded"), errors);
    assertEquals(1, Files.readAllLines(out.resolve("results.csv")).size(), "header only");
    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("1 error(s)") && report.contains("MKL was requested"), report);
    assertTrue(
        Files.readString(out.resolve("env-mkl-t1.properties")).contains("blas_vendor=OpenBLAS"));
  }

  @Test
  void mklRequestedButOpenBlasLoadedIsRefused() {
    BlasBackend openblas = new BlasBackend("OpenBLAS", "0.3.31", "/x/libopenblas.so.0", 1, "mkl");
    String msg = ChildMain.blasMismatch("mkl", openblas);
    assertNotNull(msg);
    assertTrue(msg.contains("MKL was requested") && msg.contains("OpenBLAS is loaded"), msg);
    assertNull(ChildMain.blasMismatch("openblas", openblas));
    assertNull(
        ChildMain.blasMismatch("mkl", new BlasBackend("Intel MKL", "2025.3", "/x", 1, "mkl")));
  }

  @Test
  void aWholeNetworkIsSummedLayerByLayer(@TempDir Path tmp) throws Exception {
    Path list = tmp.resolve("shapes_mini");
    Files.writeString(
        list,
        String.join(
            "\n",
            "# a grouped, a depthwise and a dilated layer; a 3-D line (skipped)",
            "g2mb2ic8ih10oc6oh10kh3n\"mini:grouped*3\"",
            "g8mb2ic8ih10oc8kh3ph1sh2n\"mini:dw*2\"",
            "mb2ic4ih12oc5kh3dh1ph2n\"mini:dilated\"",
            "mb2ic4id6ih6oc4kd3kh3n\"mini:3d\"",
            ""));
    Path out = tmp.resolve("run");
    int code =
        Main.run(
            "--network",
            list.toString(),
            "--backends",
            "openblas",
            "--threads",
            "1",
            "--reps",
            "1",
            "--max-reps",
            "2",
            "--min-time-ms",
            "1",
            "--warmup-ms",
            "0",
            "--sgemm-size",
            "128",
            "--out",
            out.toString(),
            "--no-progress");
    assertEquals(0, code, () -> read(out.resolve("errors.csv")));
    List<Row> rows = Merge.parseRows(Files.readString(out.resolve("results.csv")), "results.csv");
    assertEquals(
        3 * 4,
        rows.size(),
        rows.toString()); // 3 layers x MEC, IM2COL, ONEDNN, ONNXRUNTIME; no paper layer, no sweep
    assertTrue(
        rows.stream()
            .allMatch(
                r -> r.kind().equals("network") && r.network().equals("mini") && r.batch() == 2));
    assertEquals(
        java.util.Set.of("MEC", "IM2COL", "ONEDNN", "ONNXRUNTIME"),
        rows.stream().map(Row::algorithm).collect(java.util.stream.Collectors.toSet()));
    List<String> csv = Files.readAllLines(out.resolve("networks.csv"));
    assertEquals(2, csv.size(), csv.toString());
    assertEquals(NetworkReport.CSV_COLUMNS, List.of(csv.get(0).split(",")));
    java.util.Map<String, String> net = new java.util.HashMap<>();
    List<String> f = Csv.fields(csv.get(1));
    for (int i = 0; i < f.size(); i++) net.put(NetworkReport.CSV_COLUMNS.get(i), f.get(i));
    assertEquals("mini", net.get("network"));
    assertEquals("3", net.get("layers"));
    assertEquals("6", net.get("convolutions"));
    assertEquals("1", net.get("depthwise_layers"));
    for (String[] a :
        new String[][] {
          {"MEC", "mec"}, {"IM2COL", "im2col"}, {"ONEDNN", "onednn"}, {"ONNXRUNTIME", "onnxruntime"}
        }) {
      double sum = 0;
      long peak = 0;
      for (Row r : rows)
        if (r.algorithm().equals(a[0])) {
          sum += r.medianMs() * r.count();
          peak = Math.max(peak, r.workspaceBytes());
        }
      assertEquals(sum, Double.parseDouble(net.get(a[1] + "_ms")), 1e-4 * sum, a[0]);
      if (a[0].equals("ONNXRUNTIME")) continue; // no workspace exposed: no peak column
      assertEquals(
          peak,
          Long.parseLong(
              net.get(
                  a[1]
                      + (a[0].equals("ONEDNN")
                          ? "_peak_scratchpad_bytes"
                          : "_peak_workspace_bytes"))),
          a[0]);
    }
    // Relative: the CSV keeps 6 significant digits, and a ratio of tiny layers can exceed 10.
    double mecOverOnednn =
        Double.parseDouble(net.get("mec_ms")) / Double.parseDouble(net.get("onednn_ms"));
    assertEquals(
        mecOverOnednn, Double.parseDouble(net.get("mec_over_onednn")), 1e-4 * mecOverOnednn);
    double mecOverOrt =
        Double.parseDouble(net.get("mec_ms")) / Double.parseDouble(net.get("onnxruntime_ms"));
    assertEquals(
        mecOverOrt, Double.parseDouble(net.get("mec_over_onnxruntime")), 1e-4 * mecOverOrt);
    double mecOverIm2col =
        Double.parseDouble(net.get("mec_ms")) / Double.parseDouble(net.get("im2col_ms"));
    assertEquals(
        mecOverIm2col, Double.parseDouble(net.get("mec_over_im2col")), 1e-4 * mecOverIm2col);
    Row dwMec =
        rows.stream()
            .filter(r -> r.layer().equals("mini:dw") && r.algorithm().equals("MEC"))
            .findFirst()
            .orElseThrow();
    assertEquals(2, dwMec.count());
    assertEquals(
        dwMec.medianMs() * 2,
        Double.parseDouble(net.get("depthwise_mec_ms")),
        1e-4 * dwMec.medianMs());
    String errors = Files.readString(out.resolve("errors.csv"));
    assertTrue(
        errors.contains(
            "skipped,mini/line5,0,*,0,list,\"3-D (id/kd/od): mb2ic4id6ih6oc4kd3kh3n\"\"mini:3d\"\"\""),
        errors);
    String report = Files.readString(out.resolve("report.md"));
    for (String s :
        new String[] {
          "on whole networks",
          "## Whole networks",
          "### Depthwise layers",
          "| mini | 2 | OpenBLAS t1 | 3 | 6 |",
          "geometric mean of MEC/oneDNN over 1 network",
          "; of MEC/ORT over 1: **",
          "| ONNX Runtime ms | MEC/oneDNN | MEC/ORT |",
          "1 3-D (id/kd/od)",
          "networks-time.png"
        }) assertTrue(report.contains(s), s);
    assertFalse(report.contains("## Headline") || report.contains("## k/s sweep"), report);
    byte[] png = Files.readAllBytes(out.resolve("networks-time.png"));
    assertTrue(png.length > 1000 && png[1] == 'P', "networks-time.png");
    // A re-render gives the same network table.
    String before = Files.readString(out.resolve("networks.csv"));
    assertEquals(0, Main.run("--report-from", out.toString()));
    assertEquals(before, Files.readString(out.resolve("networks.csv")));
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (Exception e) {
      return e.toString();
    }
  }
}
