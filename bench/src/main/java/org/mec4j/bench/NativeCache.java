package org.mec4j.bench;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.CRC32;

/**
 * Guards against a stale JavaCPP cache of mec4j's native library. JavaCPP extracts a jar's native
 * files once into ~/.javacpp/cache/&lt;jar name&gt;/ and reuses them while their size and
 * modification time match the jar entry. The library's build has a fixed
 * project.build.outputTimestamp, so two SNAPSHOT builds whose libjniMecNative.so happen to have the
 * same size look identical to JavaCPP, and the old native code is loaded against new Java classes
 * (UnsatisfiedLinkError, or worse). Before mec4j loads, this compares the cached files with the
 * jar's entries (CRC-32) and deletes the stale ones, so that JavaCPP extracts them again.
 */
public final class NativeCache {
  private NativeCache() {}

  /**
   * Deletes stale cached native files of the jars that hold mec4j (its classes jar, and the
   * platform jar that holds its JNI library, mec4j-&lt;version&gt;-&lt;platform&gt;.jar); returns
   * what was deleted.
   */
  public static List<Path> refreshStale() {
    List<Path> deleted = new ArrayList<>();
    Set<Path> jars = new LinkedHashSet<>();
    try {
      var src = org.mec4j.Blas.class.getProtectionDomain().getCodeSource();
      if (src != null && "file".equals(src.getLocation().getProtocol()))
        jars.add(Path.of(src.getLocation().toURI()));
      String lib =
          "org/mec4j/internal/"
              + org.bytedeco.javacpp.Loader.getPlatform()
              + "/"
              + System.mapLibraryName("jniMecNative");
      URL url = NativeCache.class.getClassLoader().getResource(lib);
      if (url != null && "jar".equals(url.getProtocol())) {
        String s = url.getPath(); // file:/...jar!/org/...
        jars.add(Path.of(new URI(s.substring(0, s.indexOf("!/")))));
      }
    } catch (RuntimeException | java.net.URISyntaxException e) {
      System.err.println("mec4j-bench: could not find the jars of mec4j: " + e);
    }
    for (Path jar : jars) refreshStale(jar, deleted);
    for (Path p : deleted)
      System.err.println(
          "mec4j-bench: removed a stale JavaCPP cache file (re-extracted on load): " + p);
    return deleted;
  }

  private static void refreshStale(Path jar, List<Path> deleted) {
    try {
      if (!Files.isRegularFile(jar)) return;
      String dir = System.getProperty("org.bytedeco.javacpp.cachedir");
      Path cache =
          (dir != null
                  ? Path.of(dir)
                  : Path.of(System.getProperty("user.home"), ".javacpp", "cache"))
              .resolve(jar.getFileName().toString());
      if (!Files.isDirectory(cache)) return;
      try (JarFile jf = new JarFile(jar.toFile())) {
        for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements(); ) {
          JarEntry en = e.nextElement();
          if (en.isDirectory() || en.getName().endsWith(".class")) continue;
          Path cached = cache.resolve(en.getName().replace('/', File.separatorChar));
          if (!Files.isRegularFile(cached)) continue;
          if (Files.size(cached) == en.getSize() && crc(cached) == en.getCrc()) continue;
          Files.delete(cached);
          deleted.add(cached);
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("mec4j-bench: could not check the JavaCPP cache of " + jar + ": " + e);
    }
  }

  private static long crc(Path p) throws IOException {
    CRC32 c = new CRC32();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(p)) {
      int n;
      while ((n = in.read(buf)) > 0) c.update(buf, 0, n);
    }
    return c.getValue();
  }
}
