package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** workspaceBytes against the formulas of docs/MEC.md. */
class WorkspaceSizeTest {
  @Test
  void paperWorkedExample() {
    Conv2d spec = Conv2d.builder().input(7, 7, 1).kernel(3, 3).outputChannels(1).build();
    // Unpadded: MEC (MEC_FUSED) reads the row windows in the input itself.
    assertEquals(0, spec.workspaceBytes(Algorithm.MEC));
    assertEquals(0, spec.workspaceBytes(Algorithm.MEC_FUSED));
    assertEquals(105 * 4, spec.workspaceBytes(Algorithm.MEC_ROWS));
    assertEquals(105 * 4, spec.workspaceBytes(Algorithm.MEC_A));
    assertEquals(105 * 4, spec.workspaceBytes(Algorithm.MEC_B));
    assertEquals(225 * 4, spec.workspaceBytes(Algorithm.IM2COL));
    assertEquals(0, spec.workspaceBytes(Algorithm.REFERENCE));
  }

  @Test
  void allTwelvePaperLayersAtBatchOneAndThirtyTwo() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("data/cv-layers.csv"));
    assertEquals("name,i_h,i_w,i_c,k_h,k_w,k_c,s_h,s_w,pad,likely_source", lines.get(0));
    assertEquals(13, lines.size());
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      long ih = Long.parseLong(f[1]), iw = Long.parseLong(f[2]), ic = Long.parseLong(f[3]);
      long kh = Long.parseLong(f[4]), kw = Long.parseLong(f[5]), kc = Long.parseLong(f[6]);
      long sh = Long.parseLong(f[7]), sw = Long.parseLong(f[8]);
      for (long n : new long[] {1, 32}) {
        Conv2d.Builder builder =
            Conv2d.builder()
                .batch(n)
                .input(ih, iw, ic)
                .kernel(kh, kw)
                .outputChannels(kc)
                .stride(sh, sw);
        Conv2d spec = builder.build();
        Conv2d whole = builder.mecWorkspaceLimit(Conv2d.NO_WORKSPACE_LIMIT).build();
        long oh = (ih - kh) / sh + 1, ow = (iw - kw) / sw + 1;
        long wholeLowering = 4 * n * ow * ih * kw * ic;
        assertEquals(
            wholeLowering, spec.workspaceBytes(Algorithm.MEC_B), f[0] + " MEC_B, batch " + n);
        assertEquals(
            wholeLowering,
            whole.workspaceBytes(Algorithm.MEC_ROWS),
            f[0] + " uncapped MEC_ROWS, batch " + n);
        assertEquals(0, spec.workspaceBytes(Algorithm.MEC), f[0] + " unpadded: in place");
        // Padded by one (the same padded size): MEC's default is sized from the cache: never more
        // than the whole lowering, and per hardware thread at most one image's lowering or 8 MiB
        // (twice an L2 of up to 4 MiB), whichever is larger, whatever the batch.
        Conv2d padded =
            builder.mecWorkspaceLimit(0).input(ih - 2, iw - 2, ic).padding(1, 1, 1, 1).build();
        assertEquals(
            wholeLowering,
            padded.toBuilder()
                .mecWorkspaceLimit(Conv2d.NO_WORKSPACE_LIMIT)
                .build()
                .workspaceBytes(Algorithm.MEC),
            f[0] + " padded, uncapped MEC, batch " + n);
        long defaultBytes = padded.workspaceBytes(Algorithm.MEC);
        long perThread = Math.max(4 * ow * ih * kw * ic, 8L << 20);
        long threads = Runtime.getRuntime().availableProcessors();
        assertTrue(defaultBytes > 0 && defaultBytes <= wholeLowering, f[0] + " default MEC");
        assertTrue(
            defaultBytes <= perThread * threads,
            f[0] + " default MEC at batch " + n + ": " + defaultBytes + " bytes");
        assertEquals(
            4 * n * oh * ow * kh * kw * ic,
            spec.workspaceBytes(Algorithm.IM2COL),
            f[0] + " im2col, batch " + n);
      }
    }
  }

  @Test
  void paddingCountsInTheLoweredHeight() {
    Conv2d spec = Conv2d.parse("mb2ih10iw8ic3oc4kh3kw3pt1pb2pl1pr1");
    long ihp = 13, iwp = 10, oh = (ihp - 3) + 1, ow = (iwp - 3) + 1;
    assertEquals(4 * 2 * ow * ihp * 3 * 3, spec.workspaceBytes(Algorithm.MEC));
    assertEquals(4 * 2 * oh * ow * 3 * 3 * 3, spec.workspaceBytes(Algorithm.IM2COL));
  }
}
