import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.spi.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The release profile's check (pom.xml): fails the build when a module's published pom lacks what
 * Maven Central requires, or one of its jars is missing.
 *
 * <p>The published pom is the flattened one (flatten-maven-plugin writes .flattened-pom.xml, which
 * install and deploy publish). Central validates it with its parents: name and description must be
 * the module's own (Maven does not inherit name); url, licenses (each with name and url),
 * developers (each with a name or id) and scm (url, connection, developerConnection) may come from
 * the parent chain, read from the parents' published poms in this repository (relativePath). The
 * coordinates must be literal (no ${...} left, which a consumer could not resolve), and so must
 * every dependency's version. For a jar module: the main jar and one jar per classifier named (at
 * least sources and javadoc, and each native jar), none empty; with --module-name, the main jar's
 * module name (jar --describe-module) is that one, and no classifier jar claims it.
 *
 * <p>Run with the JDK's source launcher: java CheckCentral.java --pom FILE --packaging P --jar JAR
 * --classifiers a,b,c [--module-name NAME]
 */
public final class CheckCentral {
  private static final List<String> problems = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    Path pom = null, jar = null;
    String packaging = "jar", classifiers = "", moduleName = "";
    for (int i = 0; i < args.length; i++) {
      String key = args[i];
      // A value may be empty, and Maven may drop an empty argument: a missing value is "".
      String value = i + 1 < args.length && !args[i + 1].startsWith("--") ? args[++i] : "";
      switch (key) {
        case "--pom" -> pom = Path.of(value);
        case "--packaging" -> packaging = value;
        case "--jar" -> jar = Path.of(value);
        case "--classifiers" -> classifiers = value;
        case "--module-name" -> moduleName = value;
        default -> throw new IllegalArgumentException("unknown argument " + key);
      }
    }
    if (pom == null) throw new IllegalArgumentException("--pom is required");
    if (!Files.isRegularFile(pom)) {
      fail(pom + " does not exist (flatten-maven-plugin writes it in process-resources)");
      report(pom);
      return;
    }

    // The pom, then its parents found in this repository (relativePath, default ../pom.xml; their
    // published, flattened, pom when there is one).
    List<Element> chain = new ArrayList<>();
    chain.add(parse(pom));
    Path dir = pom.getParent();
    for (Element e = chain.get(0); child(e, "parent") != null; ) {
      Element parent = child(e, "parent");
      String rel = text(child(parent, "relativePath"));
      Path p = dir.resolve(rel.isEmpty() ? "../pom.xml" : rel).normalize();
      if (Files.isDirectory(p)) p = p.resolve("pom.xml");
      Path flattened = p.resolveSibling(".flattened-pom.xml");
      if (Files.isRegularFile(flattened)) p = flattened;
      if (!Files.isRegularFile(p)) break; // a parent from a repository: not checked here
      Element pe = parse(p);
      if (!text(child(pe, "artifactId")).equals(text(child(parent, "artifactId")))) break;
      chain.add(pe);
      dir = p.getParent();
      e = pe;
    }
    Element project = chain.get(0);

    // Coordinates: literal, resolvable by a consumer.
    String groupId = text(child(project, "groupId"));
    if (groupId.isEmpty() && child(project, "parent") != null)
      groupId = text(child(child(project, "parent"), "groupId"));
    String version = text(child(project, "version"));
    if (version.isEmpty() && child(project, "parent") != null)
      version = text(child(child(project, "parent"), "version"));
    String artifactId = text(child(project, "artifactId"));
    literal("groupId", groupId);
    literal("artifactId", artifactId);
    literal("version", version);
    if (child(project, "parent") != null)
      literal("parent version", text(child(child(project, "parent"), "version")));
    // Dependencies: every ${property} in their coordinates is defined in the pom or its parents
    // (as a consumer resolves it), or is the project's own version.
    Element deps = child(project, "dependencies");
    if (deps != null)
      for (Element d : children(deps, "dependency"))
        for (String field : List.of("groupId", "artifactId", "version", "classifier")) {
          String v = text(child(d, field));
          String r = resolve(v, chain, 0);
          if (r == null)
            fail(
                "dependency "
                    + text(child(d, "artifactId"))
                    + " has "
                    + field
                    + " "
                    + v
                    + ": a property its pom and parents do not define");
        }

    // Metadata Central requires. Name and description: the module's own.
    need("name", text(child(project, "name")));
    need("description", text(child(project, "description")));
    need("url", inherited(chain, "url") == null ? "" : text(inherited(chain, "url")));
    Element licenses = inherited(chain, "licenses");
    if (licenses == null || children(licenses, "license").isEmpty())
      fail("no <licenses> (in the pom or its parents)");
    else
      for (Element l : children(licenses, "license")) {
        need("license name", text(child(l, "name")));
        need("license url", text(child(l, "url")));
      }
    Element developers = inherited(chain, "developers");
    if (developers == null || children(developers, "developer").isEmpty())
      fail("no <developers> (in the pom or its parents)");
    else
      for (Element d : children(developers, "developer"))
        if (text(child(d, "name")).isEmpty() && text(child(d, "id")).isEmpty())
          fail("a developer has neither name nor id");
    Element scm = inherited(chain, "scm");
    if (scm == null) fail("no <scm> (in the pom or its parents)");
    else {
      need("scm url", text(child(scm, "url")));
      need("scm connection", text(child(scm, "connection")));
      need("scm developerConnection", text(child(scm, "developerConnection")));
    }

    // The jars.
    if (!packaging.equals("pom")) {
      if (jar == null) fail("--jar is required for packaging " + packaging);
      else {
        checkJar(jar);
        String base = jar.getFileName().toString().replaceFirst("\\.jar$", "");
        for (String c : classifiers.split(",")) {
          c = c.trim();
          if (c.isEmpty()) continue;
          Path cj = jar.resolveSibling(base + "-" + c + ".jar");
          checkJar(cj);
          if (!moduleName.isEmpty()
              && Files.isRegularFile(cj)
              && !c.equals("sources")
              && !c.equals("javadoc")) {
            String m = describeModule(cj);
            if (m.equals(moduleName)) fail(cj.getFileName() + " claims the module name " + m);
            try (JarFile jf = new JarFile(cj.toFile())) {
              if (jf.stream().anyMatch(e -> e.getName().endsWith(".class")))
                fail(cj.getFileName() + " holds classes: split packages with the main jar");
              if (jf.stream().noneMatch(e -> e.getName().contains("/libjni")))
                fail(cj.getFileName() + " holds no JNI library");
            }
          }
        }
        if (!moduleName.isEmpty() && Files.isRegularFile(jar)) {
          String m = describeModule(jar);
          if (!m.equals(moduleName))
            fail(jar.getFileName() + " is module " + m + ", not " + moduleName);
          try (JarFile jf = new JarFile(jar.toFile())) {
            if (jf.stream().anyMatch(e -> e.getName().contains("/libjni")))
              fail(jar.getFileName() + " holds native code: it belongs in the platform jars");
          }
        }
      }
    }
    report(pom);
  }

  private static void report(Path pom) {
    String what = pom.getParent().getFileName() + File.separator + pom.getFileName();
    if (problems.isEmpty()) {
      System.out.println("[CheckCentral] " + what + ": what Maven Central requires is there");
      return;
    }
    for (String p : problems) System.err.println("[CheckCentral] " + what + ": " + p);
    System.err.println(
        "[CheckCentral] FAILED: " + problems.size() + " problem(s); Maven Central would refuse it");
    System.exit(1);
  }

  /** The module name `jar --describe-module` gives (first word of its first line). */
  private static String describeModule(Path jar) {
    ToolProvider tool = ToolProvider.findFirst("jar").orElseThrow();
    var out = new java.io.StringWriter();
    var err = new java.io.StringWriter();
    int rc =
        tool.run(
            new java.io.PrintWriter(out),
            new java.io.PrintWriter(err),
            "--describe-module",
            "--file",
            jar.toString());
    // "No module descriptor found. Derived automatic module." first for an automatic module.
    String first = "";
    for (String line : out.toString().split("\\R"))
      if (!line.isBlank() && !line.startsWith("No module descriptor")) {
        first = line.strip().split("\\s+", 2)[0];
        break;
      }
    if (rc != 0 || first.isEmpty()) {
      fail("jar --describe-module failed on " + jar.getFileName() + ": " + err);
      return "";
    }
    return first.replaceFirst("@.*", "");
  }

  private static void checkJar(Path jar) throws Exception {
    if (!Files.isRegularFile(jar)) {
      fail("missing " + jar.getFileName());
      return;
    }
    try (JarFile jf = new JarFile(jar.toFile())) {
      if (jf.stream().noneMatch(e -> !e.isDirectory() && !e.getName().startsWith("META-INF/")))
        fail(jar.getFileName() + " is empty");
    }
  }

  /** value with its ${...} resolved from the chain's properties; null if one is undefined. */
  private static String resolve(String value, List<Element> chain, int depth) {
    if (depth > 10) return null;
    var m = java.util.regex.Pattern.compile("\\$\\{([^}]+)}").matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1), v = null;
      if (name.equals("project.version") || name.equals("project.groupId")) v = "x";
      for (Element e : chain) {
        Element props = child(e, "properties");
        if (v == null && props != null && child(props, name) != null) v = text(child(props, name));
      }
      // Else a profile's (javacpp.platform: the parent's javacpp-platform-default, active unless
      // the consumer gives -Djavacpp.platform).
      for (Element e : chain)
        if (v == null && child(e, "profiles") != null)
          for (Element prof : children(child(e, "profiles"), "profile")) {
            Element props = child(prof, "properties");
            if (v == null && props != null && child(props, name) != null)
              v = text(child(props, name));
          }
      if (v == null) return null;
      v = resolve(v, chain, depth + 1);
      if (v == null) return null;
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static void literal(String what, String value) {
    if (value.isEmpty()) fail("no " + what);
    else if (value.contains("${"))
      fail(what + " is " + value + ": not resolved in the published pom");
  }

  private static void need(String what, String value) {
    if (value.isBlank()) fail("no " + what);
  }

  private static void fail(String problem) {
    problems.add(problem);
  }

  private static Element inherited(List<Element> chain, String name) {
    for (Element e : chain) {
      Element c = child(e, name);
      if (c != null) return c;
    }
    return null;
  }

  private static Element parse(Path file) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(false);
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document d = f.newDocumentBuilder().parse(file.toFile());
    return d.getDocumentElement();
  }

  private static Element child(Element e, String name) {
    if (e == null) return null;
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling())
      if (n instanceof Element c && c.getTagName().equals(name)) return c;
    return null;
  }

  private static List<Element> children(Element e, String name) {
    List<Element> l = new ArrayList<>();
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling())
      if (n instanceof Element c && c.getTagName().equals(name)) l.add(c);
    return l;
  }

  private static String text(Element e) {
    return e == null ? "" : e.getTextContent().strip();
  }
}
