package org.mec4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVRecord;

/** Merges the children's rows (and issues) into one table, refusing duplicates and bad files. */
public final class Merge {
  private Merge() {}

  /** Rows of one child's CSV text; the header must hold every column of {@link Row#COLUMNS}. */
  public static List<Row> parseRows(String text, String source) {
    List<CSVRecord> lines = records(text, source);
    if (lines.isEmpty()) throw new IllegalArgumentException(source + ": empty (no header)");
    List<String> header = lines.get(0).toList();
    if (!header.containsAll(Row.COLUMNS.stream().filter(c -> !Row.OPTIONAL.contains(c)).toList()))
      throw new IllegalArgumentException(
          source + ": header lacks columns of " + Row.COLUMNS + ": " + Csv.line(header));
    List<Row> out = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      try {
        out.add(Row.parse(header, lines.get(i).toList()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /**
   * Recomputes fraction_of_sgemm of each child's rows against that child's final ceiling (the best
   * sgemm of its JVM, start and end); rows of a child without a known ceiling are kept as written.
   */
  public static List<Row> withCeilings(List<Row> rows, Map<String, Double> ceilingByTag) {
    List<Row> out = new ArrayList<>();
    for (Row r : rows) {
      Double c = ceilingByTag.get(r.blas() + "-t" + r.threads());
      if (c == null || !(c > 0)) {
        out.add(r);
        continue;
      }
      out.add(r.withCeiling(c));
    }
    return out;
  }

  public static List<Issue> parseIssues(String text, String source) {
    List<CSVRecord> lines = records(text, source);
    List<Issue> out = new ArrayList<>();
    if (lines.isEmpty()) return out;
    String header = Csv.line(lines.get(0).toList());
    if (!header.equals(Issue.HEADER))
      throw new IllegalArgumentException(source + ": bad header " + header);
    for (int i = 1; i < lines.size(); i++) out.add(Issue.of(lines.get(i).toList()));
    return out;
  }

  private static List<CSVRecord> records(String text, String source) {
    try {
      return Csv.records(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * Concatenates the children's rows in a stable order: kind (layers, networks, then sweep),
   * direction (forward rows first, as in a forward-only run, then bwd_d, then bwd_w), layer order
   * as given (a network's layer as NETWORK/LAYER), batch, BLAS order, threads, algorithm. Two rows
   * with the same key are an error.
   */
  public static List<Row> merge(
      List<List<Row>> children, List<String> layerOrder, List<String> blasOrder) {
    Map<String, Row> seen = new HashMap<>();
    List<Row> all = new ArrayList<>();
    for (List<Row> rows : children) {
      for (Row r : rows) {
        Row prev = seen.put(r.key(), r);
        if (prev != null) throw new IllegalArgumentException("two results for " + r.key());
        all.add(r);
      }
    }
    Map<String, Integer> lo = index(layerOrder), bo = index(blasOrder);
    all.sort(
        Comparator.<Row>comparingInt(r -> kindOrder(r.kind()))
            // a model's rows stay in graph order, ConvTranspose (bwd_d) nodes among the Conv nodes
            .thenComparingInt(r -> r.kind().startsWith("model") ? 0 : r.dir().ordinal())
            .thenComparingInt(r -> lo.getOrDefault(orderKey(r), Integer.MAX_VALUE))
            .thenComparing(Row::network)
            .thenComparing(Row::layer)
            .thenComparingLong(Row::batch)
            .thenComparingInt(r -> bo.getOrDefault(r.blas(), Integer.MAX_VALUE))
            .thenComparingInt(Row::threads)
            .thenComparingInt(r -> r.algo() == null ? Integer.MAX_VALUE : r.algo().ordinal()));
    return all;
  }

  /** layer, network, model (its nodes, then the whole model), sweep. */
  static int kindOrder(String kind) {
    return switch (kind) {
      case "layer" -> 0;
      case "network" -> 1;
      case "model" -> 2;
      case "model_run" -> 3;
      default -> 4;
    };
  }

  static String orderKey(Row r) {
    return r.network().isEmpty() ? r.layer() : r.network() + "/" + r.layer();
  }

  private static Map<String, Integer> index(List<String> order) {
    Map<String, Integer> m = new HashMap<>();
    for (int i = 0; i < order.size(); i++) m.putIfAbsent(order.get(i), i);
    return m;
  }

  /** Reads rows-*.csv of a run folder in the given child order; missing files are skipped. */
  public static List<List<Row>> readChildren(Path dir, List<String> tags) throws IOException {
    return read(dir, tags, "rows-", Merge::parseRows);
  }

  public static List<Issue> readIssues(Path dir, List<String> tags) throws IOException {
    return read(dir, tags, "issues-", Merge::parseIssues).stream().flatMap(List::stream).toList();
  }

  /** Each child's PREFIX-TAG.csv that exists, parsed, in child order. */
  private static <T> List<T> read(
      Path dir, List<String> tags, String prefix, BiFunction<String, String, T> parse)
      throws IOException {
    List<T> out = new ArrayList<>();
    for (String tag : tags) {
      Path f = dir.resolve(prefix + tag + ".csv");
      if (Files.exists(f)) out.add(parse.apply(Files.readString(f), f.getFileName().toString()));
    }
    return out;
  }

  public static void writeCsv(Path file, List<Row> rows) throws IOException {
    Files.write(
        file, Stream.concat(Stream.of(Row.header()), rows.stream().map(Row::toCsv)).toList());
  }
}
