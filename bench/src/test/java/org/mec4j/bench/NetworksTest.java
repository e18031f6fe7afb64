package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mec4j.Conv2d;

class NetworksTest {
  /** The lists the runner bundles (data/benchdnn), or $MEC4J_BENCHDNN_DIR's. */
  static Path listsDir() {
    return Networks.directory(null, System.getenv());
  }

  /** Per known list: 2-D layers, Σ count, grouped layers (all 11 lists are 2-D only). */
  static final Map<String, long[]> KNOWN =
      Map.ofEntries(
          Map.entry("alexnet", new long[] {5, 5, 3}),
          Map.entry("deepbench_inference_server", new long[] {107, 107, 0}),
          Map.entry("googlenet_v1", new long[] {51, 59, 0}),
          Map.entry("googlenet_v3", new long[] {43, 94, 0}),
          Map.entry("mobilenet", new long[] {11, 59, 0}),
          Map.entry("mobilenet_dw", new long[] {9, 9, 9}),
          Map.entry("resnet_50", new long[] {20, 53, 0}),
          Map.entry("ssd_300_voc0712", new long[] {31, 35, 0}),
          Map.entry("unet", new long[] {13, 13, 0}),
          Map.entry("vgg_19", new long[] {9, 16, 0}),
          Map.entry("yolov2", new long[] {14, 204, 0}));

  @Test
  void everyBundledListParses() throws Exception {
    Path dir = listsDir();
    List<Path> files = Networks.all(dir);
    int known = 0;
    for (Path f : files) {
      Networks.Network n = Networks.read(f);
      // An independent count of the problem lines: not blank, not a comment, not a driver option.
      long lines =
          Files.readAllLines(f).stream()
              .map(String::trim)
              .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith("--"))
              .count();
      assertEquals(lines, n.layers().size() + n.skipped().size(), f.toString());
      for (Networks.NetLayer l : n.layers()) {
        if (l.givenOh() >= 0)
          assertEquals(l.givenOh(), l.spec().outputHeight(), f + " line " + l.line());
        if (l.givenOw() >= 0)
          assertEquals(l.givenOw(), l.spec().outputWidth(), f + " line " + l.line());
        assertEquals(l.spec(), Conv2d.parse(l.spec().toString()), "toString/parse round trip");
      }
      assertEquals(
          n.layers().size(),
          n.layers().stream().map(Networks.NetLayer::name).distinct().count(),
          "unique names in " + f);
      long[] k = KNOWN.get(n.name());
      if (k == null) continue;
      known++;
      assertEquals(k[0], n.layers().size(), n.name() + ": 2-D layers");
      assertEquals(k[1], n.convolutions(), n.name() + ": convolutions with counts");
      assertEquals(
          k[2],
          n.layers().stream().filter(l -> l.spec().groups() > 1).count(),
          n.name() + ": grouped");
      assertEquals(0, n.skipped().size(), n.name() + ": skipped " + n.skipped());
    }
    assertEquals(KNOWN.size(), known, "every known list is in " + dir);
    // Spot checks of the derived values.
    Networks.Network dw = Networks.read(dir.resolve("shapes_mobilenet_dw"));
    assertTrue(dw.layers().stream().allMatch(l -> l.spec().isDepthwise()));
    assertEquals("mobilenet:conv2_1/dw", dw.layers().get(0).name());
    assertEquals(1, dw.layers().get(0).spec().batch());
    Networks.NetLayer fc6 =
        Networks.read(dir.resolve("shapes_ssd_300_voc0712")).layers().stream()
            .filter(l -> l.name().equals("ssd_300_voc0712:fc6"))
            .findFirst()
            .orElseThrow();
    assertEquals(6, fc6.spec().dilationHeight()); // dh5: benchdnn counts from 0
    assertEquals(6, fc6.spec().padBottom());
    Networks.NetLayer conv1 = Networks.read(dir.resolve("shapes_mobilenet")).layers().get(0);
    assertEquals("mobilenet:conv1", conv1.name());
    assertEquals(3, conv1.count());
    // ResNet-50's 1x1 stride-2 layers: end padding -1 in benchdnn's formula, 0 here, same output.
    Networks.Network deep = Networks.read(dir.resolve("shapes_deepbench_inference_server"));
    assertEquals("deepbench_inference_server:line4", deep.layers().get(0).name());
    assertEquals(1, deep.layers().get(0).spec().batch());
  }

  static final String SYNTHETIC =
      String.join(
          "\n",
          "# a comment",
          "--dir=FWD_I",
          "",
          "g1mb8ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3n\"net:conv1\"", // everything given
          "mb50ic64ih56oc256oh28kh1sh2n\"net:down*4\"", // p derived (0), end pad -1 -> 0
          "ic32ih14oc32oh14kh3n\"net:same\"", // mb 2, p derived 1
          "g32mb1ic32ih14oc32kh3ph1n\"net:dw\"  # depthwise, o derived",
          "mb1_ic8ih20oc8kh3dh1ph2_n\"net:dil\"", // dilation 2: k_eff 5
          "mb1ic8ih9oc8kh3", // no name
          "mb1ic8ih9oc8kh3n\"net:same\"", // a duplicate name
          "mb1ic4id8ih8iw8oc4kd3kh3n\"net:3d\"",
          "mb1ic4iw100oc4kw3n\"net:1d\"",
          "mb1ic4ih8oc4oh2kh3ph0n\"net:bad\""); // output too small for the input

  /**
   * The lists' parser and the library's ({@code Conv2d.parse}) read the same text alike. benchdnn's
   * grammar has more (oh/ow with derived padding, names, counts) and other defaults (mb 2; sw and
   * pw from sh and ph, where Conv2d.parse takes 1 and 0): each line without oh/ow goes to
   * Conv2d.parse with those defaults written out, and must give the same convolution; the end
   * padding alone may differ (benchdnn derives it, dropping rows never read), not the output.
   */
  @Test
  void bundledShapesAgreeWithTheLibraryParser() throws Exception {
    int compared = 0;
    for (Path f : Networks.all(listsDir())) {
      List<String> lines = Files.readAllLines(f);
      for (Networks.NetLayer l : Networks.read(f).layers()) {
        if (l.givenOh() >= 0 || l.givenOw() >= 0) continue; // not in the library's grammar
        String shape = lines.get(l.line() - 1).replaceAll("#.*|n.*", "").replace("_", "");
        Map<String, String> t = new java.util.HashMap<>();
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("([a-z]+)(\\d+)").matcher(shape);
        while (m.find()) t.put(m.group(1), m.group(2));
        String explicit =
            shape
                + (t.containsKey("mb") ? "" : "mb" + Networks.DEFAULT_MB)
                + (t.containsKey("sw") ? "" : "sw" + t.getOrDefault("sh", "1"))
                + (t.containsKey("pw") ? "" : "pw" + t.getOrDefault("ph", "0"));
        Conv2d lib = Conv2d.parse(explicit), ours = l.spec();
        String where = f.getFileName() + " line " + l.line() + ": " + explicit;
        assertEquals(
            ours.toBuilder()
                .padding(ours.padTop(), lib.padBottom(), ours.padLeft(), lib.padRight())
                .build(),
            lib,
            where);
        assertEquals(ours.outputHeight(), lib.outputHeight(), where);
        assertEquals(ours.outputWidth(), lib.outputWidth(), where);
        compared++;
      }
    }
    assertTrue(compared > 100, "compared " + compared + " lines");
  }

  @Test
  void grammarAndDerivations() {
    Networks.Network n = Networks.parse(SYNTHETIC, "net", null);
    assertEquals(
        List.of(
            "net:conv1", "net:down", "net:same", "net:dw", "net:dil", "net:line9", "net:same#2"),
        n.layers().stream().map(Networks.NetLayer::name).toList());
    assertEquals(
        List.of(1L, 4L, 1L, 1L, 1L, 1L, 1L),
        n.layers().stream().map(Networks.NetLayer::count).toList());
    assertEquals(10, n.convolutions());
    Conv2d conv1 = n.layers().get(0).spec(),
        down = n.layers().get(1).spec(),
        same = n.layers().get(2).spec();
    Conv2d dw = n.layers().get(3).spec(), dil = n.layers().get(4).spec();
    assertEquals(
        Conv2d.parse("mb8ih224iw224ic3oc64kh7kw7sh2sw2pt3pb2pl3pr2"),
        conv1); // end padding derived: 2
    assertEquals(Conv2d.parse("mb50ih56ic64oc256kh1sh2sw2"), down);
    assertEquals(28, down.outputHeight());
    assertEquals(Conv2d.parse("mb2ih14ic32oc32kh3ph1pw1"), same);
    assertTrue(dw.isDepthwise());
    assertEquals(14, dw.outputHeight());
    assertEquals(1, dw.batch());
    assertEquals(2, dil.dilationHeight());
    assertEquals(2, dil.dilationWidth());
    assertEquals(20, dil.outputHeight()); // 20 - 5 + 2*2 + 1
    assertEquals(-1, n.layers().get(3).givenOh());
    assertEquals(List.of(11, 12, 13), n.skipped().stream().map(Networks.Skip::line).toList());
    assertEquals("3-D (id/kd/od)", n.skipped().get(0).reason());
    assertEquals("1-D (only w-values)", n.skipped().get(1).reason());
    assertTrue(n.skipped().get(2).reason().startsWith("invalid"), n.skipped().get(2).reason());
    assertThrows(
        IllegalArgumentException.class, () -> Networks.parse("mb1ic4ih8oc4kh3zz9\n", "x", null));
    assertThrows(
        IllegalArgumentException.class, () -> Networks.parse("mb1ic4ih8oc4\n", "x", null)); // no kh
  }

  @Test
  void namesFilesAndFolders(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("shapes_tiny"), "mb1ic4ih8oc4kh3n\"tiny:a\"\n");
    Files.writeString(tmp.resolve("shapes_other"), "mb1ic4ih8oc4kh1n\"other:a\"\n");
    Files.writeString(tmp.resolve("README.md"), "not a list\n");
    assertEquals(
        List.of(tmp.resolve("shapes_other"), tmp.resolve("shapes_tiny")), Networks.all(tmp));
    assertEquals(tmp.resolve("shapes_tiny"), Networks.find("tiny", () -> tmp));
    assertEquals(tmp.resolve("shapes_tiny"), Networks.find("shapes_tiny", () -> tmp));
    assertEquals(
        tmp.resolve("shapes_tiny"),
        Networks.find(
            tmp.resolve("shapes_tiny").toString(),
            () -> {
              throw new AssertionError("a file needs no folder");
            }));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Networks.find("resnet", () -> tmp));
    assertTrue(e.getMessage().contains("known: other, tiny"), e.getMessage());
    assertEquals("tiny", Networks.nameOf(tmp.resolve("shapes_tiny")));
    assertEquals(tmp.toAbsolutePath(), Networks.directory(tmp, Map.of()));
    assertEquals(
        tmp.toAbsolutePath(), Networks.directory(null, Map.of(Networks.ENV_DIR, tmp.toString())));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Networks.directory(tmp.resolve("nope"), Map.of()));
    assertTrue(e.getMessage().contains("--network-dir"), e.getMessage());
    // Neither given: the bundled lists, all eleven.
    assertEquals(11, Networks.all(Networks.directory(null, Map.of())).size());
  }
}
