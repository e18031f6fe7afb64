package org.mec4j.examples;

import java.util.Arrays;
import java.util.Random;
import org.mec4j.*;

/**
 * cv1 (AlexNet conv1) at batch 1 with MEC, checked against the reference. Run with -Dmec4j.blas=mkl
 * for MKL.
 */
public class Cv1Example {
  public static void main(String[] args) {
    Conv2d spec =
        Conv2d.builder()
            .batch(1)
            .input(227, 227, 3)
            .kernel(11, 11)
            .outputChannels(96)
            .stride(4, 4)
            .padding(0, 0, 0, 0)
            .build();
    Random random = new Random(42);
    float[] input = new float[(int) spec.inputSize()], kernel = new float[(int) spec.kernelSize()];
    for (int i = 0; i < input.length; i++)
      input[i] = random.nextInt(7) - 3; // small integers: exact
    for (int i = 0; i < kernel.length; i++) kernel[i] = random.nextInt(7) - 3;
    float[] mec = new float[(int) spec.outputSize()], reference = new float[mec.length];
    try (Convolution conv = Convolution.create(spec, Algorithm.MEC)) {
      conv.forward(input, kernel, mec);
    }
    try (Convolution conv = Convolution.create(spec, Algorithm.REFERENCE)) {
      conv.forward(input, kernel, reference);
    }
    System.out.println(
        Blas.backend()
            + "\n"
            + spec
            + " -> "
            + spec.outputHeight()
            + "x"
            + spec.outputWidth()
            + ", MEC workspace "
            + spec.workspaceBytes(Algorithm.MEC)
            + " bytes, matches reference: "
            + Arrays.equals(mec, reference));
    if (!Arrays.equals(mec, reference)) throw new AssertionError("MEC differs from the reference");
  }
}
