package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.mec4j.Algorithm;
import org.mec4j.Conv2d;

/**
 * native/bench/mec4j_bench.cpp has its own reader of Conv2d.parse's grammar: the same strings must
 * give the same convolution there. The tool prints no parsed shape, so its im2col workspace (batch,
 * output size, kernel, channels per group: all the grammar sets but the pads, which the output size
 * follows) stands for it; bad strings must fail in both. Skipped without the reactor's native
 * build.
 */
class NativeBenchShapeTest {
  private static final Path TOOL = Path.of("..", "target", "native", "mec4j_bench");
  private static final Pattern WORKSPACE = Pattern.compile("workspace (\\d+) bytes");

  @Test
  void theCToolReadsShapesAsConv2dParseDoes() throws Exception {
    assumeTrue(Files.isExecutable(TOOL), "no " + TOOL + " (the reactor's native build)");
    for (String s :
        List.of(
            "mb1ih9ic4oc8kh3",
            "mb2ih9iw7ic4oc8kh3kw1sh2ph1",
            "ih9ic4oc8kh3dh1",
            "mb1ih9ic4oc8kh3dh1dw0pw1",
            "mb1ih10ic6oc6kh3g3pt1pb0pl2pr1sw2")) {
      String out = run(s);
      Matcher m = WORKSPACE.matcher(out);
      assertTrue(m.find(), s + ": " + out);
      assertEquals(Conv2d.parse(s).workspaceBytes(Algorithm.IM2COL), Long.parseLong(m.group(1)), s);
    }
    for (String bad : List.of("mb1ih9oc8kh3", "mb1ih9ic4oc8kh3xx1", "mb1ih9ih9ic4oc8kh3")) {
      assertThrows(IllegalArgumentException.class, () -> Conv2d.parse(bad), bad);
      assertNull(run(bad), bad + " must fail in the C tool too");
    }
  }

  /** The tool's output for one im2col repetition of a shape, or null when it refuses it. */
  private static String run(String shape) throws Exception {
    Process p =
        new ProcessBuilder(TOOL.toString(), shape, "im2col", "--reps", "1", "--threads", "1")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), shape);
    return p.exitValue() == 0 ? out : null;
  }
}
