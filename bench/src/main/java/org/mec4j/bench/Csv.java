package org.mec4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The runner's CSV files (results.csv and the children's rows and issues, networks.csv, the layer
 * table): RFC 4180 through Apache Commons CSV, a field quoted only when it has to be, "\n" between
 * records, blank lines skipped when read.
 */
final class Csv {
  private static final CSVFormat FORMAT =
      CSVFormat.RFC4180.builder().setRecordSeparator('\n').setIgnoreEmptyLines(true).build();

  private Csv() {}

  /** One record, without its line end. */
  static String line(Object... fields) {
    return FORMAT.format(fields);
  }

  static String line(List<?> fields) {
    return FORMAT.format(fields.toArray());
  }

  /** The records of a text, in order; a record's number counts records, not lines. */
  static List<CSVRecord> records(String text) {
    try (CSVParser p = CSVParser.parse(text, FORMAT)) {
      return p.getRecords();
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalArgumentException("bad CSV: " + e.getMessage(), e);
    }
  }

  /** The fields of one line. */
  static List<String> fields(String line) {
    List<CSVRecord> r = records(line);
    if (r.size() != 1) throw new IllegalArgumentException("expected one CSV record: " + line);
    return r.get(0).toList();
  }
}
