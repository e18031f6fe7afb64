package org.mec4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVRecord;
import org.mec4j.Conv2d;

/**
 * The paper's 12 layers (data/cv-layers.csv, bundled in the jar) and layers from the command line.
 */
public final class Layers {
  public static final String RESOURCE = "/org/mec4j/bench/data/cv-layers.csv";
  private static final String[] HEADER = {
    "name", "i_h", "i_w", "i_c", "k_h", "k_w", "k_c", "s_h", "s_w", "pad"
  };

  private Layers() {}

  /** cv1..cv12 in file order. */
  public static List<Layer> paper() {
    try (InputStream in = Layers.class.getResourceAsStream(RESOURCE)) {
      if (in == null)
        throw new IllegalStateException(
            RESOURCE + " is not in the jar (build with Maven: it is copied from data/)");
      return parseCsv(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parses the layer table; fields after the 10th (likely_source) are kept as one, commas included.
   */
  public static List<Layer> parseCsv(String text) {
    List<Layer> out = new ArrayList<>();
    List<CSVRecord> records = Csv.records(text);
    if (records.isEmpty()) throw new IllegalArgumentException("layer table is empty");
    List<String> h = records.get(0).toList();
    for (int i = 0; i < HEADER.length; i++)
      if (i >= h.size() || !h.get(i).trim().equals(HEADER[i]))
        throw new IllegalArgumentException(
            "layer table: column "
                + (i + 1)
                + " must be '"
                + HEADER[i]
                + "', header is '"
                + Csv.line(h)
                + "'");
    for (int no = 2; no <= records.size(); no++) {
      List<String> f = records.get(no - 1).toList();
      if (f.size() < HEADER.length)
        throw new IllegalArgumentException(
            "layer table line " + no + ": expected " + HEADER.length + " fields: " + Csv.line(f));
      try {
        long[] v = new long[HEADER.length - 1];
        for (int i = 1; i < HEADER.length; i++) v[i - 1] = Long.parseLong(f.get(i).trim());
        long pad = v[8];
        Conv2d spec =
            Conv2d.builder()
                .batch(1)
                .input(v[0], v[1], v[2])
                .kernel(v[3], v[4])
                .outputChannels(v[5])
                .stride(v[6], v[7])
                .padding(pad, pad, pad, pad)
                .build();
        String source = String.join(",", f.subList(HEADER.length, f.size())).trim();
        out.add(
            new Layer(
                f.get(0).trim(),
                spec,
                false,
                source.isEmpty() ? "MEC paper, Table 2" : "MEC paper, Table 2 (" + source + ")"));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("layer table line " + no + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static final Pattern NAME_SUFFIX = Pattern.compile("^(.*?)_?n\"([^\"]*)\"$");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:+-]+");

  /**
   * A layer from the command line: {@code NAME=SHAPE} or benchdnn's {@code SHAPE_n"NAME"} / {@code
   * SHAPEn"NAME"}, SHAPE as in {@link Conv2d#parse} (e.g. {@code
   * alex1=mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0}). With {@code mb} the layer runs at that batch
   * only; without, at each batch of the run.
   */
  public static Layer parseUser(String text) {
    String t = text.trim();
    String name, shape;
    Matcher m = NAME_SUFFIX.matcher(t);
    int eq = t.indexOf('=');
    if (eq >= 0) {
      name = t.substring(0, eq).trim();
      shape = t.substring(eq + 1).trim();
    } else if (m.matches()) {
      shape = m.group(1).trim();
      name = m.group(2).trim();
    } else {
      throw new IllegalArgumentException(
          "layer '"
              + text
              + "': expected NAME=SHAPE (e.g. mine=mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0)"
              + " or SHAPEn\"NAME\"");
    }
    if (!NAME.matcher(name).matches())
      throw new IllegalArgumentException(
          "layer '" + text + "': name '" + name + "' must be letters, digits or _ . : + -");
    Conv2d spec;
    try {
      spec = Conv2d.parse(shape);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("layer '" + name + "': " + e.getMessage(), e);
    }
    boolean fixed = shape.toLowerCase(Locale.ROOT).contains("mb");
    return new Layer(name, spec, fixed, "command line: " + shape);
  }

  /**
   * The layers of a run: the paper layers named in {@code selection} (comma-separated names, "all"
   * or "none"), in table order, then the user layers. Unknown names are errors.
   */
  public static List<Layer> select(List<Layer> paper, String selection, List<Layer> user) {
    return select(paper, selection, user, false);
  }

  /** As above; {@code emptyOk}: a run with networks may have no layer of its own. */
  public static List<Layer> select(
      List<Layer> paper, String selection, List<Layer> user, boolean emptyOk) {
    Map<String, Layer> byName = new LinkedHashMap<>();
    for (Layer l : paper) byName.put(l.name().toLowerCase(Locale.ROOT), l);
    List<Layer> out = new ArrayList<>();
    String sel = selection == null ? "all" : selection.trim().toLowerCase(Locale.ROOT);
    if (sel.equals("all")) {
      out.addAll(paper);
    } else if (!sel.equals("none") && !sel.isEmpty()) {
      java.util.Set<String> wanted = new java.util.LinkedHashSet<>();
      for (String s : sel.split(",")) {
        s = s.trim();
        if (s.isEmpty()) continue;
        if (!byName.containsKey(s))
          throw new IllegalArgumentException(
              "unknown layer '"
                  + s
                  + "' (known: "
                  + String.join(",", byName.keySet())
                  + ", all, none)");
        wanted.add(s);
      }
      for (Layer l : paper) if (wanted.contains(l.name().toLowerCase(Locale.ROOT))) out.add(l);
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Layer l : out) names.add(l.name().toLowerCase(Locale.ROOT));
    for (Layer l : user) {
      if (!names.add(l.name().toLowerCase(Locale.ROOT)))
        throw new IllegalArgumentException("layer name '" + l.name() + "' is used twice");
      out.add(l);
    }
    if (out.isEmpty() && !emptyOk) throw new IllegalArgumentException("no layers selected");
    return out;
  }
}
