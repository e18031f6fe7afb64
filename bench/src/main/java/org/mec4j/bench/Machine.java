package org.mec4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A one-line description of the machine: CPU model, cores, memory. */
final class Machine {
  private Machine() {}

  static String describe() {
    String cpu = "unknown CPU";
    long memKb = -1;
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          cpu = l.substring(l.indexOf(':') + 1).trim();
          break;
        }
      }
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          memKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: keep what is known
    }
    return cpu
        + ", "
        + Options.cores()
        + " cores"
        + (memKb > 0 ? String.format(Locale.ROOT, ", %.0f GiB", memKb / 1048576.0) : "");
  }
}
