package org.mec4j;

import org.junit.jupiter.api.Test;
import org.mec4j.examples.Cv1Example;

/** The README's examples run as written (under whichever BLAS this suite runs with). */
class ExamplesTest {
  @Test
  void cv1Example() {
    Cv1Example.main(new String[0]);  // throws on a mismatch
  }
}
