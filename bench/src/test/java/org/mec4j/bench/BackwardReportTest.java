package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mec4j.Conv2d;
import picocli.CommandLine;

/**
 * The report and charts of backward rows, from synthetic rows: the forward output keeps its shape.
 */
class BackwardReportTest {
  static Options options(String... args) {
    Main m = new Main();
    new CommandLine(m).parseArgs(args);
    return m.options;
  }

  static Row row(
      String layer,
      Conv2d c,
      String algo,
      double ms,
      long ws,
      String resolved,
      Dir d,
      String kind,
      String network) {
    return new Row(
        layer,
        c.batch(),
        1,
        "openblas",
        algo,
        ms,
        ms,
        ms,
        1,
        0.1,
        ws,
        d.backward() ? -1 : Formula.bytes(Algo.valueOf(algo), c),
        resolved,
        3,
        kind,
        c.toString(),
        c.flops() / 1e9,
        100,
        1e-7,
        network,
        kind.equals("network") ? 2 : 1,
        d.id());
  }

  /**
   * cv-like layers t1, t2 at mb1 in every direction: MEC 1 ms, im2col 2 ms, oneDNN 4 ms (bwd: x3,
   * x5).
   */
  static List<Row> rows(boolean backward) {
    List<Row> out = new ArrayList<>();
    for (Dir d : Dir.values()) {
      if (d.backward() && !backward) continue;
      int f = d == Dir.FWD ? 1 : d == Dir.BWD_D ? 3 : 5;
      for (String l : new String[] {"t1", "t2"}) {
        Conv2d c = Conv2d.parse(l.equals("t1") ? "mb1ih9iw9ic3oc4kh3" : "mb1ih8ic4oc5kh3sh2ph1");
        out.add(
            row(
                l,
                c,
                "MEC",
                1 * f,
                1000,
                d.backward() ? "MEC (auto)" : "MEC_FUSED (measured)",
                d,
                "layer",
                ""));
        if (d.backward()) out.add(row(l, c, "MEC_ROWS", 1.5 * f, 900, "MEC_ROWS", d, "layer", ""));
        out.add(row(l, c, "IM2COL", 2 * f, 3000, "IM2COL", d, "layer", ""));
        out.add(row(l, c, "ONEDNN", 4 * f, 77, "jit:avx2", d, "layer", ""));
      }
    }
    return out;
  }

  static Report.Input input(List<Row> rows, String... args) {
    return new Report.Input(
        options(args), rows, List.of(), Map.of(), 1, List.of(), List.of("openblas-t1"));
  }

  @Test
  void backwardSectionsFollowTheForwardOnesUnchanged() {
    String fwd = Report.render(input(rows(false), "--layers", "none", "--no-sweep"), List.of());
    String all =
        Report.render(
            input(rows(true), "--layers", "none", "--no-sweep", "--directions", "all"), List.of());
    assertFalse(fwd.contains("Backward") || fwd.contains("bwd_"), fwd);
    int charts = fwd.indexOf("## Errors and skipped combinations");
    assertTrue(
        all.startsWith(fwd.substring(0, charts)),
        "the forward sections must come first, unchanged");
    for (String s :
        new String[] {
          "## Backward data (bwd_d): the gradient of the input",
          "## Backward weights (bwd_w): the gradients of the kernel and the bias",
          "K = k_h·k_w·k_c/g",
          "K = i_n·o_h·o_w",
          "**inside** its timing",
          "#### OpenBLAS, 1 thread",
          "| MEC ROWS ms | MEC FUSED ms |",
          "oneDNN scratchpad",
          "- Backward passes (`--directions`)"
        }) assertTrue(all.contains(s), s);
    String bd = all.substring(all.indexOf("## Backward data"), all.indexOf("## Backward weights"));
    // t1 bwd_d: MEC 3 ms, ROWS 4.5, im2col 6, oneDNN 12: MEC/oneDNN 0.25, MEC/im2col 0.50;
    // workspaces 1000 B, 2.9 KiB, 77 B
    assertTrue(
        bd.contains(
            "| t1 | 9×9×3 → 4, 3×3 | MEC (auto) | 3.00 | 4.50 | – | 6.00 | 12.0 | 0.25 | 0.50 | 1000 B | 2.9 KiB | 77 B | jit:avx2 |"),
        bd);
    assertTrue(
        bd.contains(
            "Geometric mean over 2 layer(s): MEC/oneDNN **0.25**, MEC/im2col **0.50** (OpenBLAS t1)."),
        bd);
    // only backward passes: no empty forward sections
    List<Row> back = rows(true).stream().filter(r -> r.dir().backward()).toList();
    String only =
        Report.render(
            input(back, "--layers", "none", "--no-sweep", "--directions", "bwd_d,bwd_w"),
            List.of());
    assertFalse(only.contains("## Headline") || only.contains("## Memory"), only);
    assertTrue(only.contains("## Backward data") && only.contains("## Backward weights"), only);
  }

  @Test
  void networkLayersGetTotalsPerDirection(@TempDir Path tmp) throws Exception {
    String list = OptionsTest.tinyList(tmp).toString();
    List<Row> rows = new ArrayList<>();
    Conv2d c = Conv2d.parse("mb2ih10ic8oc8kh3g8ph1pw1");
    for (Dir d : Dir.values()) {
      rows.add(row("n:dw", c, "MEC", 1, 0, "MEC (auto)", d, "network", "n"));
      rows.add(row("n:dw", c, "IM2COL", 2, 10, "IM2COL", d, "network", "n"));
      rows.add(row("n:dw", c, "ONEDNN", 4, 0, "jit_dw:avx2", d, "network", "n"));
    }
    String md =
        Report.render(
            input(rows, "--network", list, "--layers", "none", "--no-sweep", "--directions", "all"),
            List.of());
    String bw = md.substring(md.indexOf("## Backward weights"));
    assertTrue(bw.contains("### Network n"), bw);
    assertTrue(
        bw.contains(
            "Σ median × count over 1 of 1 layer(s): MEC 2.00 ms, im2col 4.00 ms, oneDNN 8.00 ms; MEC/oneDNN **0.25**"),
        bw);
    assertTrue(bw.contains("| n:dw | 2 | 2 | 10×10×8 → 8, 3×3 p1 dw |"), bw);
    // the forward network totals take the forward rows only
    List<NetworkReport.Summary> s =
        NetworkReport.summaries(
            input(
                rows, "--network", list, "--layers", "none", "--no-sweep", "--directions", "all"));
    assertEquals(1, s.size());
    assertEquals(2.0, s.get(0).total(Algo.MEC), 1e-12);
  }

  @Test
  void backwardChartsComeAfterTheForwardOnes(@TempDir Path dir) throws Exception {
    List<String> fwd =
        Charts.write(
            Files.createDirectories(dir.resolve("f")),
            input(rows(false), "--layers", "none", "--no-sweep"));
    List<String> all =
        Charts.write(
            Files.createDirectories(dir.resolve("a")),
            input(rows(true), "--layers", "none", "--no-sweep"));
    assertEquals(List.of("workspace-mb1.png", "time-vs-im2col-mb1.png"), fwd);
    assertEquals(
        List.of(
            "workspace-mb1.png",
            "time-vs-im2col-mb1.png",
            "workspace-bwd_d-mb1.png",
            "time-bwd_d-vs-im2col-mb1.png",
            "workspace-bwd_w-mb1.png",
            "time-bwd_w-vs-im2col-mb1.png"),
        all);
    for (String f : all) {
      byte[] b = Files.readAllBytes(dir.resolve("a").resolve(f));
      assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', f);
    }
  }
}
