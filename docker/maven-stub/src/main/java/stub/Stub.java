package stub;

/** Compiled by the Dockerfile's dependency step, which runs the real pom on this stub project. */
public final class Stub {
  private Stub() {}
}
