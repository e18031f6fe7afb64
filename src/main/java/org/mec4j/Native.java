package org.mec4j;

import org.mec4j.internal.MecNative;

/** Loading the native library once, and turning native status codes into Java exceptions. */
final class Native {
  private Native() {}

  // Status codes of native/include/mec4j.h.
  static final int OK = 0,
      NULL_ARGUMENT = 1,
      INVALID_ARGUMENT = 2,
      SIZE_OVERFLOW = 3,
      UNSUPPORTED = 4,
      WORKSPACE_TOO_SMALL = 5,
      WORKSPACE_MISALIGNED = 6,
      OUT_OF_MEMORY = 7,
      UNKNOWN_ALGORITHM = 8,
      INTERNAL = 9,
      WORKSPACE_LIMIT = 10,
      BAD_ENVIRONMENT = 11;

  private static volatile boolean loaded;

  static void ensureLoaded() {
    if (!loaded) Blas.load();
  }

  static void markLoaded() {
    loaded = true;
  }

  /** Throws for a failing status. Java checks arguments first, so most of these mean a bug. */
  static void check(int status, String context) {
    if (status == OK) return;
    String message =
        "mec4j: " + MecNative.mec4j_status_string(status).getString() + " (" + context + ")";
    switch (status) {
      case NULL_ARGUMENT:
        throw new NullPointerException(message);
      case INVALID_ARGUMENT:
      case SIZE_OVERFLOW:
      case UNSUPPORTED:
      case UNKNOWN_ALGORITHM:
      case WORKSPACE_LIMIT:
        throw new IllegalArgumentException(message);
      case WORKSPACE_TOO_SMALL:
        throw new IndexOutOfBoundsException(message);
      case OUT_OF_MEMORY:
        throw new OutOfMemoryError(message);
      default:
        throw new IllegalStateException(message);
    }
  }
}
