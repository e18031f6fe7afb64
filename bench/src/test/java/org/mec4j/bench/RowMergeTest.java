package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowMergeTest {
  static Row row(String layer, long batch, String blas, int threads, String algo, double ms) {
    return new Row(
        layer,
        batch,
        threads,
        blas,
        algo,
        ms,
        ms * 0.9,
        ms * 1.2,
        1.5,
        0.25,
        1024,
        1024,
        "brg_conv, \"x\"",
        3,
        "layer",
        "mb" + batch + "ih8iw8ic4oc5kh3kw3sh1sw1pt0pb0pl0pr0",
        0.01,
        100,
        1.2e-7,
        "",
        1,
        "fwd");
  }

  @Test
  void csvRoundTripWithQuoting() {
    Row r = row("cv1", 32, "mkl", 2, "ONEDNN", 12.345678);
    String line = r.toCsv();
    assertTrue(line.contains("\"brg_conv, \"\"x\"\"\""), line);
    Row back = Row.parse(Row.COLUMNS, line);
    assertEquals(r.resolved(), back.resolved());
    assertEquals(12.3457, back.medianMs(), 1e-9);
    assertEquals(r.key(), back.key());
    assertEquals(List.of("a", "b,c", "", "d\"e"), Csv.fields("a,\"b,c\",,\"d\"\"e\""));
    assertThrows(IllegalArgumentException.class, () -> Csv.fields("a,\"b"));
  }

  @Test
  void theRequiredColumnsComeFirst() {
    assertEquals(
        List.of(
            "layer",
            "batch",
            "threads",
            "blas",
            "algorithm",
            "median_ms",
            "min_ms",
            "max_ms",
            "gflops",
            "fraction_of_sgemm",
            "workspace_bytes"),
        Row.COLUMNS.subList(0, 11));
  }

  @Test
  void mergeOrdersRowsOfSeveralChildren() {
    List<Row> openblas =
        List.of(
            row("cv2", 1, "openblas", 1, "IM2COL", 2),
            row("cv1", 1, "openblas", 1, "MEC", 1),
            row("cv1", 1, "openblas", 1, "ONEDNN", 1));
    List<Row> mkl = List.of(row("cv1", 1, "mkl", 1, "MEC", 3), row("cv1", 32, "mkl", 1, "MEC", 30));
    List<Row> m =
        Merge.merge(List.of(mkl, openblas), List.of("cv1", "cv2"), List.of("openblas", "mkl"));
    assertEquals(
        List.of(
            "cv1/1/openblas/MEC",
            "cv1/1/openblas/ONEDNN",
            "cv1/1/mkl/MEC",
            "cv1/32/mkl/MEC",
            "cv2/1/openblas/IM2COL"),
        m.stream()
            .map(r -> r.layer() + "/" + r.batch() + "/" + r.blas() + "/" + r.algorithm())
            .toList());
  }

  @Test
  void networkRowsAndResultsFromBeforeNetworks() {
    Row paper = row("cv1", 1, "openblas", 1, "MEC", 1);
    assertEquals("", paper.network());
    assertEquals(1, paper.count());
    // An older results.csv has neither network nor count (nor direction): read with their defaults.
    List<String> old = Row.COLUMNS.subList(0, Row.COLUMNS.size() - 3);
    String line = paper.toCsv().replaceAll(",,1,fwd$", "");
    Row back = Row.parse(old, line);
    assertEquals(paper, back);
    assertEquals(1, Merge.parseRows(String.join(",", old) + "\n" + line + "\n", "old.csv").size());
    // Two networks may name a layer alike: the network is part of the key and comes before the
    // layer in the order.
    Row a =
        new Row(
            "x:conv1",
            1,
            1,
            "openblas",
            "MEC",
            1,
            1,
            1,
            1,
            1,
            0,
            -1,
            "MEC_FUSED",
            1,
            "network",
            "mb1ih8ic4oc4kh3",
            0,
            1,
            0,
            "b",
            2,
            "fwd");
    Row b =
        new Row(
            "x:conv1",
            1,
            1,
            "openblas",
            "MEC",
            1,
            1,
            1,
            1,
            1,
            0,
            -1,
            "MEC_FUSED",
            1,
            "network",
            "mb1ih8ic4oc4kh3",
            0,
            1,
            0,
            "a",
            1,
            "fwd");
    assertNotEquals(a.key(), b.key());
    assertEquals(a, Row.parse(Row.COLUMNS, a.toCsv()));
    List<Row> m =
        Merge.merge(
            List.of(List.of(a, b, paper)),
            List.of("cv1", "b/x:conv1", "a/x:conv1"),
            List.of("openblas"));
    assertEquals(
        List.of("cv1", "b", "a"),
        m.stream().map(r -> r.network().isEmpty() ? r.layer() : r.network()).toList());
  }

  static Row backward(Row r, String direction) {
    return new Row(
        r.layer(),
        r.batch(),
        r.threads(),
        r.blas(),
        r.algorithm(),
        r.medianMs(),
        r.minMs(),
        r.maxMs(),
        r.gflops(),
        r.fractionOfSgemm(),
        r.workspaceBytes(),
        -1,
        r.resolved(),
        r.samples(),
        r.kind(),
        r.shape(),
        r.gflop(),
        r.sgemmGflops(),
        r.maxRelErr(),
        r.network(),
        r.count(),
        direction);
  }

  @Test
  void theDirectionColumnComesLastAndKeepsForwardRowsFirst() {
    assertEquals("direction", Row.COLUMNS.get(Row.COLUMNS.size() - 1));
    Row fwd = row("cv1", 1, "openblas", 1, "MEC", 1);
    assertEquals("fwd", fwd.direction());
    assertEquals(Dir.FWD, fwd.dir());
    assertTrue(fwd.toCsv().endsWith(",,1,fwd"), fwd.toCsv());
    Row bd = backward(fwd, "bwd_d"),
        bw = backward(row("cv1", 1, "openblas", 1, "IM2COL", 2), "bwd_w");
    assertEquals(bd, Row.parse(Row.COLUMNS, bd.toCsv()));
    assertEquals(Dir.BWD_W, Row.parse(Row.COLUMNS, bw.toCsv()).dir());
    // one layer, algorithm and JVM: a row per direction, no duplicate
    assertNotEquals(fwd.key(), bd.key());
    assertEquals(fwd.key(), row("cv1", 1, "openblas", 1, "MEC", 5).key());
    // forward rows first, as in a forward-only run; then bwd_d, then bwd_w
    Row fwd2 = row("cv2", 1, "openblas", 1, "MEC", 1);
    List<Row> m =
        Merge.merge(
            List.of(List.of(bw, bd, fwd2, fwd)), List.of("cv1", "cv2"), List.of("openblas"));
    assertEquals(List.of(fwd, fwd2, bd, bw), m);
    assertThrows(
        IllegalArgumentException.class,
        () -> Row.parse(Row.COLUMNS, fwd.toCsv().replaceAll(",fwd$", ",sideways")));
    assertEquals(
        2,
        Merge.parseRows(Row.header() + "\n" + bd.toCsv() + "\n" + fwd.toCsv() + "\n", "x.csv")
            .size());
  }

  @Test
  void mergeRefusesDuplicatesAndBadFiles() {
    List<Row> a = List.of(row("cv1", 1, "openblas", 1, "MEC", 1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Merge.merge(List.of(a, a), List.of("cv1"), List.of("openblas")));
    assertTrue(e.getMessage().contains("two results"));
    assertThrows(IllegalArgumentException.class, () -> Merge.parseRows("", "x.csv"));
    assertThrows(
        IllegalArgumentException.class, () -> Merge.parseRows("layer,batch\ncv1,1\n", "x.csv"));
    String bad = Row.header() + "\n" + a.get(0).toCsv().replace(",MEC,", ",MEC,extra,") + "\n";
    e = assertThrows(IllegalArgumentException.class, () -> Merge.parseRows(bad, "rows-x.csv"));
    assertTrue(e.getMessage().startsWith("rows-x.csv line 2"), e.getMessage());
  }

  @Test
  void readsChildFilesOfARunFolder(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("rows-openblas-t1.csv"),
        Row.header() + "\n" + row("cv1", 1, "openblas", 1, "MEC", 1).toCsv() + "\n");
    Files.writeString(
        dir.resolve("rows-mkl-t1.csv"),
        Row.header() + "\n" + row("cv1", 1, "mkl", 1, "MEC", 2).toCsv() + "\n");
    Files.writeString(
        dir.resolve("issues-mkl-t1.csv"),
        Issue.HEADER
            + "\n"
            + new Issue("error", "cv2", 1, "mkl", 1, "MEC_B", "wrong, result").toCsv()
            + "\n");
    List<List<Row>> rows =
        Merge.readChildren(
            dir, List.of("openblas-t1", "mkl-t1", "openblas-t2")); // t2 crashed: no file
    assertEquals(2, rows.size());
    assertEquals(2, Merge.merge(rows, List.of("cv1"), List.of("openblas", "mkl")).size());
    List<Issue> issues = Merge.readIssues(dir, List.of("openblas-t1", "mkl-t1"));
    assertEquals(1, issues.size());
    assertEquals("wrong, result", issues.get(0).message());
    assertTrue(issues.get(0).isError());
  }

  @Test
  void statsAndNumbers() {
    Stats s = Stats.of(new double[] {5, 1, 3, 100});
    assertEquals(4, s.median());
    assertEquals(1, s.min());
    assertEquals(100, s.max());
    assertEquals(3, Stats.of(new double[] {3}).median());
    assertEquals("12.5", Row.num(12.5));
    assertEquals("100", Row.num(100));
    assertEquals("1e+06", Row.num(1e6));
  }
}
