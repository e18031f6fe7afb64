import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs JavaCPP's Builder (same arguments as org.bytedeco.javacpp.tools.Builder) so that the JNI
 * code it generates is always the same: reproducible builds.
 *
 * <p>JavaCPP emits functions and struct members in the order of Class.getDeclaredMethods(), and
 * HotSpot returns methods in the order of their names' addresses in memory, which changes from one
 * JVM run to the next: the generated C++ (and so libjni*.so) differed between two builds of the
 * same sources. Before the Builder runs, this loads every class of the Builder's -classpath and of
 * JavaCPP's own package (Pointer and its kin, whose natives are generated too) with the application
 * class loader (which the Builder's own loader delegates to) and sorts each class's cached
 * reflection data by signature, so getDeclaredMethods() returns a fixed order. It checks that the
 * order held and fails the build otherwise.
 *
 * <p>JavaCPP hands the compiler canonical paths, while Maven's may hold "lib/..": the folder of
 * each -ffile-prefix-map=OLD=NEW argument is made canonical too, so that it matches them.
 *
 * <p>Run with the JDK's source launcher, the Builder's class path (javacpp, presets) and the
 * classes to build on -cp, and --add-opens java.base/java.lang=ALL-UNNAMED (for Class's cache).
 */
public final class DeterministicBuilder {
  /** Strong references: the cache is held by a SoftReference that must not be cleared. */
  private static final List<Object> KEEP = new ArrayList<>();

  private static final Comparator<Method> ORDER =
      Comparator.comparing(Method::getName).thenComparing(Method::toGenericString);

  public static void main(String[] args) throws Exception {
    ClassLoader app = ClassLoader.getSystemClassLoader();
    Method reflectionData = Class.class.getDeclaredMethod("reflectionData");
    reflectionData.setAccessible(true);
    int sorted = 0;
    for (int i = 0; i + 1 < args.length; i++) {
      if (!args[i].equals("-classpath") && !args[i].equals("-cp")) continue;
      for (String dir : args[i + 1].split(java.io.File.pathSeparator)) {
        for (String name : classNames(Paths.get(dir))) {
          Class<?> c = Class.forName(name, false, app);
          sort(c, reflectionData);
          sorted++;
        }
      }
    }
    // JavaCPP's own Pointer classes, whose native methods are generated into the same file.
    for (String name : javacppClassNames()) {
      Class<?> c;
      try {
        c = Class.forName(name, false, app);
        c.getDeclaredMethods();
      } catch (LinkageError e) {
        continue; // a class needing an optional dependency: not one the Generator emits code for
      }
      sort(c, reflectionData);
      sorted++;
    }
    System.out.println("[DeterministicBuilder] fixed the method order of " + sorted + " classes");
    for (int i = 0; i < args.length; i++) args[i] = canonicalPrefixMap(args[i]);
    org.bytedeco.javacpp.tools.Builder.main(args);
  }

  private static String canonicalPrefixMap(String arg) throws IOException {
    String flag = "-ffile-prefix-map=";
    int eq = arg.lastIndexOf('=');
    if (!arg.startsWith(flag) || eq < flag.length()) return arg;
    Path old = Paths.get(arg.substring(flag.length(), eq));
    return Files.exists(old) ? flag + old.toRealPath() + arg.substring(eq) : arg;
  }

  private static void sort(Class<?> c, Method reflectionData) throws ReflectiveOperationException {
    c.getDeclaredMethods(); // fills the cache
    Object rd = reflectionData.invoke(c);
    Field f = rd.getClass().getDeclaredField("declaredMethods");
    f.setAccessible(true);
    Method[] methods = (Method[]) f.get(rd);
    Arrays.sort(methods, ORDER);
    KEEP.add(rd);
    Method[] seen = c.getDeclaredMethods();
    for (int i = 1; i < seen.length; i++)
      if (ORDER.compare(seen[i - 1], seen[i]) > 0)
        throw new IllegalStateException(
            "DeterministicBuilder: could not fix the method order of " + c);
  }

  /** The classes of package org.bytedeco.javacpp (not its subpackages), from JavaCPP's jar. */
  private static List<String> javacppClassNames() throws IOException, java.net.URISyntaxException {
    Path jar =
        Paths.get(
            org.bytedeco.javacpp.Pointer.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    if (Files.isDirectory(jar))
      return classNames(jar).stream()
          .filter(n -> n.matches("org\\.bytedeco\\.javacpp\\.[^.]+"))
          .toList();
    try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
      return f.stream()
          .map(java.util.jar.JarEntry::getName)
          .filter(n -> n.matches("org/bytedeco/javacpp/[^/]+\\.class"))
          .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
          .sorted()
          .toList();
    }
  }

  private static List<String> classNames(Path root) throws IOException {
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(p -> p.toString().endsWith(".class") && !p.endsWith("module-info.class"))
          .map(p -> root.relativize(p).toString())
          .map(
              s ->
                  s.substring(0, s.length() - ".class".length())
                      .replace(java.io.File.separatorChar, '.'))
          .sorted()
          .toList();
    }
  }
}
