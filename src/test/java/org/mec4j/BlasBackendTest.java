package org.mec4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The BLAS really loaded. Surefire runs the whole suite once per backend (see pom.xml). */
class BlasBackendTest {
  @Test
  void theRequestedBackendIsTheOneLoaded() {
    String expected = System.getProperty("mec4j.test.expectedBlas", "OpenBLAS");
    BlasBackend b = Blas.backend();
    assertEquals(expected, b.vendor(), b.toString());
    assertFalse(b.version().isBlank(), "version");
    assertTrue(b.library().contains("/"), "library path: " + b.library());
    assertEquals(expected.equals("Intel MKL") ? "mkl" : "openblas", b.requested());
  }

  @Test
  void threadCountIsSetAndReported() {
    int before = Blas.backend().threads();
    try {
      Blas.setThreads(1);
      assertEquals(1, Blas.backend().threads());
      Blas.setThreads(2);
      assertEquals(2, Blas.backend().threads());
    } finally {
      Blas.setThreads(Math.max(1, before));
    }
    assertThrows(IllegalArgumentException.class, () -> Blas.setThreads(0));
  }
}
