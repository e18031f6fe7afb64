import java.util.Random;
import org.mec4j.Algorithm;
import org.mec4j.Blas;
import org.mec4j.BlasBackend;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;
import org.mec4j.Cpu;

/**
 * The image's smoke test: loads the native library under the BLAS named by MEC4J_BLAS, checks that
 * the BLAS really loaded is the one expected, and that every fast algorithm matches the reference
 * convolution on a few shapes. Ends with "selfcheck: N passed, N failed".
 *
 * <p>Usage: java -cp mec4j.jar:...:selfcheck.jar SelfCheck EXPECTED_VENDOR_SUBSTRING
 */
public final class SelfCheck {
  private static final String[] SHAPES = {
    "mb2ih12ic3oc4kh3",
    "mb1ih9iw11ic5oc6kh3kw2sh2sw1ph1pw1",
    "mb3ih7ic2oc3kh5",
    "mb1ih32ic16oc8kh3ph1",
    "mb2ih14ic24oc24kh3ph1g24",
    "mb1ih12ic8oc12kh3ph2g4dh1",
    "mb1ih6ic3oc4kh1ph2", // depthwise, grouped dilated, padding > kernel
  };

  public static void main(String[] args) {
    String expected = args.length > 0 ? args[0] : "";
    int passed = 0, failed = 0, skipped = 0;
    BlasBackend backend = Blas.backend();
    System.out.println(
        "selfcheck: BLAS loaded: "
            + backend
            + "; ISA "
            + Cpu.effectiveIsa()
            + ", kernel "
            + Cpu.igemmKernel());
    if (backend.vendor().contains(expected)) {
      passed++;
    } else {
      failed++;
      System.out.println(
          "FAIL: expected BLAS '" + expected + "', loaded '" + backend.vendor() + "'");
    }
    Random random = new Random(20170706);
    for (String shape : SHAPES) {
      Conv2d spec = Conv2d.parse(shape);
      float[] input = fill(random, spec.inputSize()), kernel = fill(random, spec.kernelSize());
      float[] want = new float[(int) spec.outputSize()];
      try (Convolution ref = Convolution.create(spec, Algorithm.REFERENCE)) {
        ref.forward(input, kernel, want);
      }
      for (Algorithm a : Algorithm.values()) {
        if (a == Algorithm.REFERENCE) continue;
        try {
          spec.workspaceBytes(a);
        } catch (
            IllegalArgumentException
                unsupported) { // e.g. MEC_A with |O| > |L|, DEPTHWISE on an ordinary layer
          skipped++;
          continue;
        }
        float[] got = new float[want.length];
        try (Convolution conv = Convolution.create(spec, a)) {
          conv.forward(input, kernel, got);
        }
        double err = 0;
        for (int i = 0; i < want.length; i++)
          err = Math.max(err, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
        if (err <= 1e-4) {
          passed++;
        } else {
          failed++;
          System.out.printf("FAIL: %s %s max relative error %.3g%n", shape, a, err);
        }
      }
    }
    System.out.printf("selfcheck: %d passed, %d failed, %d skipped%n", passed, failed, skipped);
    System.exit(failed == 0 ? 0 : 1);
  }

  private static float[] fill(Random random, long n) {
    float[] a = new float[(int) n];
    for (int i = 0; i < a.length; i++) a[i] = (float) (random.nextDouble() * 2 - 1);
    return a;
  }
}
