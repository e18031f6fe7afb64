package org.mec4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fixed prose of a report, kept in a resource beside this class: each part follows a {@code
 * <!-- name -->} line, up to the next, and its {@code {{placeholders}}} are filled in.
 */
final class Prose {
  private static final Pattern PART = Pattern.compile("(?m)^<!-- ([\\w-]+) -->\\n");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(\\w+)}}");
  private static final Map<String, String> REPORT = load("report-prose.md");

  private Prose() {}

  /**
   * The report's part {@code name}, with values given as placeholder, value, placeholder, value,
   * ....
   */
  static String report(String name, Object... values) {
    String text = REPORT.get(name);
    if (text == null) throw new IllegalArgumentException("no prose part " + name);
    Map<String, String> v = new HashMap<>();
    for (int i = 0; i + 1 < values.length; i += 2)
      v.put((String) values[i], String.valueOf(values[i + 1]));
    return PLACEHOLDER
        .matcher(text)
        .replaceAll(
            m -> {
              String value = v.get(m.group(1));
              if (value == null)
                throw new IllegalArgumentException(
                    "prose part " + name + ": no value for " + m.group());
              return Matcher.quoteReplacement(value);
            });
  }

  /** The parts of a resource beside this class (what precedes the first part is a comment). */
  private static Map<String, String> load(String resource) {
    String text;
    try (InputStream s = Prose.class.getResourceAsStream(resource)) {
      if (s == null) throw new IllegalStateException("missing resource " + resource);
      text = new String(s.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> parts = new HashMap<>();
    Matcher m = PART.matcher(text);
    String name = null;
    int start = 0;
    while (m.find()) {
      if (name != null) parts.put(name, text.substring(start, m.start()));
      name = m.group(1);
      start = m.end();
    }
    if (name != null) parts.put(name, text.substring(start));
    return parts;
  }
}
