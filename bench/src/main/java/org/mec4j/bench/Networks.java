package org.mec4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.mec4j.Conv2d;

/**
 * Whole networks: oneDNN benchdnn convolution shape lists ({@code shapes_resnet_50}, ...), read
 * with benchdnn's own rules. One problem a line, {@code
 * [g][mb]ic[id]ih[iw]oc[od][oh][ow][kd]kh[kw][sd][sh][sw][pd][ph][pw][dd][dh][dw][_n"name"]};
 * {@code _} separates terms freely, {@code #} starts a comment, a line starting with {@code --} is
 * a driver option. Missing: mb 2, g 1, w-values = h-values, stride 1, dilation 0 (benchdnn counts
 * dilation from 0). Output given and padding missing: p = ((o-1)s - i + k_eff)/2; output missing: o
 * = (i - k_eff + 2p)/s + 1; the end padding is derived, (o-1)s - i + k_eff - p, and a negative one
 * (the last rows are never read) is 0. A name ending in {@code *N} counts the layer N times. 3-D
 * and 1-D lines are skipped, with their reason.
 */
public final class Networks {
  /** benchdnn's default mini-batch when a line has no {@code mb}. */
  public static final long DEFAULT_MB = 2;

  public static final String PREFIX = "shapes_";
  public static final String ENV_DIR = "MEC4J_BENCHDNN_DIR";

  /**
   * One 2-D layer of a list.
   *
   * @param name the list's name without its {@code *N} suffix, or NETWORK:lineN when it has none
   * @param spec the convolution at the list's mini-batch
   * @param count how many times the network has it
   * @param line line number in the file
   * @param givenOh the list's oh, or -1 when it derives it
   * @param givenOw the list's ow, or -1
   */
  public record NetLayer(
      String name, Conv2d spec, long count, int line, long givenOh, long givenOw) {
    /** The spec at mini-batch {@code n}. */
    public Conv2d at(long n) {
      return spec.toBuilder().batch(n).build();
    }
  }

  /** A line that is a problem but not a 2-D one (or not a valid one). */
  public record Skip(int line, String text, String reason) {}

  /** A parsed list. */
  public record Network(String name, Path file, List<NetLayer> layers, List<Skip> skipped) {
    /** Σ count: the network's convolutions. */
    public long convolutions() {
      long n = 0;
      for (NetLayer l : layers) n += l.count;
      return n;
    }
  }

  private Networks() {}

  /** NETWORK for shapes_NETWORK (or the file name itself). */
  public static String nameOf(Path file) {
    String f = file.getFileName().toString();
    return f.startsWith(PREFIX) && f.length() > PREFIX.length() ? f.substring(PREFIX.length()) : f;
  }

  public static Network read(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), nameOf(file), file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read network list " + file, e);
    }
  }

  private static final Pattern NAME = Pattern.compile("_?n\"?([^\"]*)\"?\\s*$");
  private static final Pattern TERM =
      Pattern.compile("(mb|g|ic|id|ih|iw|oc|od|oh|ow|kd|kh|kw|sd|sh|sw|pd|ph|pw|dd|dh|dw)(\\d+)");
  private static final Pattern COUNT = Pattern.compile("^(.*)\\*(\\d+)$");

  public static Network parse(String text, String network, Path file) {
    List<NetLayer> layers = new ArrayList<>();
    List<Skip> skipped = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    String[] lines = text.split("\r?\n", -1);
    for (int no = 1; no <= lines.length; no++) {
      String raw = lines[no - 1];
      String line = stripComment(raw).trim();
      if (line.isEmpty() || line.startsWith("--")) continue;
      String where = (file != null ? file.getFileName().toString() : network) + " line " + no;
      // The name first: no shape term has an 'n', so the first one starts it.
      String name = null;
      int n = line.indexOf('n');
      String shape = line;
      if (n >= 0) {
        Matcher m = NAME.matcher(line.substring(n > 0 && line.charAt(n - 1) == '_' ? n - 1 : n));
        if (!m.matches())
          throw new IllegalArgumentException(
              where + ": cannot read the name in '" + raw.trim() + "'");
        name = m.group(1).trim();
        shape = line.substring(0, n);
      }
      long count = 1;
      if (name != null) {
        Matcher c = COUNT.matcher(name);
        if (c.matches()) {
          name = c.group(1);
          count = Long.parseLong(c.group(2));
          if (count < 1)
            throw new IllegalArgumentException(where + ": count *" + count + " must be >= 1");
        }
      }
      Map<String, Long> v =
          terms(shape.toLowerCase(Locale.ROOT).replace("_", ""), where, raw.trim());
      if (v.containsKey("id")
          || v.containsKey("kd")
          || v.containsKey("od")
          || v.containsKey("sd")
          || v.containsKey("pd")
          || v.containsKey("dd")) {
        skipped.add(new Skip(no, raw.trim(), "3-D (id/kd/od)"));
        continue;
      }
      if (!v.containsKey("ih") && v.containsKey("iw")) {
        skipped.add(new Skip(no, raw.trim(), "1-D (only w-values)"));
        continue;
      }
      for (String req : new String[] {"ic", "ih", "oc", "kh"})
        if (!v.containsKey(req))
          throw new IllegalArgumentException(
              where + ": '" + req + "' is missing in '" + raw.trim() + "'");
      if (name == null || name.isEmpty()) name = network + ":line" + no;
      int dup = seen.merge(name, 1, Integer::sum);
      if (dup > 1) name = name + "#" + dup; // row keys need unique names
      try {
        Dim h =
            Dim.of(
                v.get("ih"),
                v.get("kh"),
                v.getOrDefault("sh", 1L),
                v.get("ph"),
                v.getOrDefault("dh", 0L),
                v.get("oh"));
        Dim w =
            Dim.of(
                v.getOrDefault("iw", v.get("ih")),
                v.getOrDefault("kw", v.get("kh")),
                v.getOrDefault("sw", v.getOrDefault("sh", 1L)),
                v.containsKey("pw") ? v.get("pw") : v.get("ph"),
                v.getOrDefault("dw", v.getOrDefault("dh", 0L)),
                v.containsKey("ow") ? v.get("ow") : v.get("oh"));
        Conv2d spec =
            Conv2d.builder()
                .batch(v.getOrDefault("mb", DEFAULT_MB))
                .groups(v.getOrDefault("g", 1L))
                .input(h.i, w.i, v.get("ic"))
                .kernel(h.k, w.k)
                .outputChannels(v.get("oc"))
                .stride(h.s, w.s)
                .dilation(h.d + 1, w.d + 1)
                .padding(h.p, h.pEnd, w.p, w.pEnd)
                .build();
        if (spec.outputHeight() != h.o || spec.outputWidth() != w.o)
          throw new IllegalArgumentException(
              "output "
                  + spec.outputHeight()
                  + "x"
                  + spec.outputWidth()
                  + " is not the list's "
                  + h.o
                  + "x"
                  + w.o);
        layers.add(
            new NetLayer(
                name,
                spec,
                count,
                no,
                v.getOrDefault("oh", -1L),
                v.containsKey("ow") ? v.get("ow") : v.getOrDefault("oh", -1L)));
      } catch (IllegalArgumentException e) {
        skipped.add(new Skip(no, raw.trim(), "invalid: " + e.getMessage()));
      }
    }
    return new Network(network, file, List.copyOf(layers), List.copyOf(skipped));
  }

  /** One spatial dimension with benchdnn's derivations. */
  private record Dim(long i, long k, long s, long d, long p, long pEnd, long o) {
    static Dim of(long i, long k, long s, Long p, long d, Long o) {
      if (s < 1) throw new IllegalArgumentException("stride must be >= 1");
      if (k < 1) throw new IllegalArgumentException("kernel must be >= 1");
      long kEff = (k - 1) * (d + 1) + 1;
      long pad, out;
      if (o != null) {
        out = o;
        pad = p != null ? p : Math.max(0, ((out - 1) * s - i + kEff) / 2);
      } else {
        pad = p != null ? p : 0;
        out = (i - kEff + 2 * pad) / s + 1;
      }
      if (out < 1) throw new IllegalArgumentException("output size " + out + " < 1");
      long end =
          Math.max(0, (out - 1) * s - i + kEff - pad); // negative: the last rows are never read
      return new Dim(i, k, s, d, pad, end, out);
    }
  }

  private static Map<String, Long> terms(String s, String where, String raw) {
    Map<String, Long> v = new LinkedHashMap<>();
    Matcher m = TERM.matcher(s);
    int end = 0;
    while (end < s.length() && m.find(end) && m.start() == end) {
      try {
        if (v.put(m.group(1), Long.parseLong(m.group(2))) != null)
          throw new IllegalArgumentException(
              where + ": '" + m.group(1) + "' given twice in '" + raw + "'");
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(where + ": number too large at '" + m.group() + "'");
      }
      end = m.end();
    }
    if (end != s.length())
      throw new IllegalArgumentException(
          where + ": cannot read '" + s.substring(end) + "' in '" + raw + "'");
    return v;
  }

  private static String stripComment(String line) {
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') quoted = !quoted;
      else if (c == '#' && !quoted) return line.substring(0, i);
    }
    return line;
  }

  // ---- where the lists are -----------------------------------------------------------------

  /** The 11 lists of the repository's data/benchdnn, bundled in the runner's jar. */
  static final String BUNDLED = "/org/mec4j/bench/data/benchdnn";

  /**
   * The lists' folder: {@code dir} if given, else $MEC4J_BENCHDNN_DIR, else the lists bundled in
   * the runner (data/benchdnn, oneDNN's benchdnn lists, Apache-2.0).
   */
  public static Path directory(Path dir, Map<String, String> env) {
    if (dir != null) {
      if (!Files.isDirectory(dir))
        throw new IllegalArgumentException("--network-dir: " + dir + " is not a directory");
      return dir.toAbsolutePath().normalize();
    }
    String e = env.get(ENV_DIR);
    if (e != null && !e.isBlank()) {
      Path p = Path.of(e);
      if (!Files.isDirectory(p))
        throw new IllegalArgumentException(
            ENV_DIR + "=" + e + " is not a directory (or pass --network-dir DIR)");
      return p.toAbsolutePath().normalize();
    }
    return bundled();
  }

  /**
   * The bundled lists as a folder: the classes folder itself (tests, an IDE), or, from the jar, a
   * copy in a temporary folder deleted when the JVM exits (child JVMs read the lists by path).
   */
  static Path bundled() {
    try {
      java.net.URL url = Networks.class.getResource(BUNDLED);
      if (url == null)
        throw new IllegalStateException(
            "the runner has no bundled benchdnn lists (" + BUNDLED + ")");
      java.net.URI uri = url.toURI();
      if (!"jar".equals(uri.getScheme())) return Path.of(uri);
      Path copy = Files.createTempDirectory("mec4j-benchdnn");
      copy.toFile().deleteOnExit();
      try (java.nio.file.FileSystem jar = java.nio.file.FileSystems.newFileSystem(uri, Map.of());
          Stream<Path> lists = Files.list(jar.getPath(BUNDLED))) {
        for (Path f : (Iterable<Path>) lists::iterator) {
          Path to = copy.resolve(f.getFileName().toString());
          Files.copy(f, to);
          to.toFile().deleteOnExit();
        }
      }
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every shapes_* file of a folder, by name. */
  public static List<Path> all(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> out =
          s.filter(p -> p.getFileName().toString().startsWith(PREFIX) && Files.isRegularFile(p))
              .sorted()
              .toList();
      if (out.isEmpty())
        throw new IllegalArgumentException("--networks all: no " + PREFIX + "* file in " + dir);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A --network value: an existing file, or a NAME looked up in the folder as shapes_NAME or NAME.
   * The folder is only needed (and resolved) for names.
   */
  public static Path find(String value, java.util.function.Supplier<Path> dir) {
    Path f = Path.of(value);
    if (Files.isRegularFile(f)) return f.toAbsolutePath().normalize();
    if (value.contains("/") || value.contains(java.io.File.separator))
      throw new IllegalArgumentException("--network: no such file " + value);
    Path d = dir.get();
    for (String n : new String[] {value.startsWith(PREFIX) ? value : PREFIX + value, value}) {
      Path p = d.resolve(n);
      if (Files.isRegularFile(p)) return p;
    }
    List<String> known = all(d).stream().map(Networks::nameOf).toList();
    throw new IllegalArgumentException(
        "--network: no list '"
            + value
            + "' in "
            + d
            + " (known: "
            + String.join(", ", known)
            + ")");
  }
}
