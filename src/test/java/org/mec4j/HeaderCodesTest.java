package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java side's copies of the C API's enum codes (native/include/mec4j.h) match the header, both
 * ways: a value changed or added on one side only fails the build.
 */
class HeaderCodesTest {
  private static final Pattern ENUM =
      Pattern.compile("typedef MEC4J_ENUM\\((\\w+)\\)\\s*\\{(.*?)\\}\\s*\\1;", Pattern.DOTALL);
  private static final Pattern ENUMERATOR = Pattern.compile("MEC4J_(\\w+)\\s*=\\s*(-?\\d+)");

  /** The header's enums: type name to (enumerator without MEC4J_, value). */
  static Map<String, Map<String, Integer>> headerEnums() throws IOException {
    Path dir = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("native/include/mec4j.h")))
      dir = dir.getParent();
    if (dir == null)
      fail("native/include/mec4j.h not found above " + System.getProperty("user.dir"));
    // Comments may mention enumerators: drop them first.
    String text =
        Files.readString(dir.resolve("native/include/mec4j.h"))
            .replaceAll("(?s)/\\*.*?\\*/", "")
            .replaceAll("//[^\\n]*", "");
    Map<String, Map<String, Integer>> enums = new TreeMap<>();
    Matcher m = ENUM.matcher(text);
    while (m.find()) {
      Map<String, Integer> values = new LinkedHashMap<>();
      Matcher e = ENUMERATOR.matcher(m.group(2));
      while (e.find()) values.put(e.group(1), Integer.parseInt(e.group(2)));
      enums.put(m.group(1), values);
    }
    return enums;
  }

  private static <E extends Enum<E>> void same(
      Map<String, Integer> header, String prefix, Class<E> type, ToIntFunction<E> code) {
    Map<String, Integer> java = new TreeMap<>();
    for (E e : type.getEnumConstants()) java.put(prefix + e.name(), code.applyAsInt(e));
    assertEquals(new TreeMap<>(header), java, type.getName() + " against mec4j.h");
  }

  @Test
  void everyEnumCodeMatchesTheHeader() throws Exception {
    Map<String, Map<String, Integer>> h = headerEnums();
    assertTrue(h.size() >= 7, "enums found in mec4j.h: " + h.keySet());
    same(h.get("mec4j_algorithm"), "ALGORITHM_", Algorithm.class, a -> a.code);
    same(h.get("mec4j_direction"), "DIRECTION_", Direction.class, d -> d.code);
    same(h.get("mec4j_isa"), "ISA_", Cpu.Isa.class, i -> i.code);
    same(h.get("mec4j_tuning"), "TUNING_", Tuning.class, t -> t.code);
    same(h.get("mec4j_activation"), "ACTIVATION_", Activation.Kind.class, k -> k.code);
    same(h.get("mec4j_layout"), "LAYOUT_", Layout.class, l -> l.code);
    // Status codes: Native's constants, named without MEC4J_ERROR_.
    Map<String, Integer> codes = new TreeMap<>();
    for (Field f : Native.class.getDeclaredFields())
      if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
        f.setAccessible(true);
        codes.put(f.getName().equals("OK") ? "OK" : "ERROR_" + f.getName(), f.getInt(null));
      }
    assertEquals(
        new TreeMap<>(h.get("mec4j_status")), codes, "Native's status codes against mec4j.h");
  }
}
