package client;

import java.util.Random;
import org.mec4j.Algorithm;
import org.mec4j.Blas;
import org.mec4j.Conv2d;
import org.mec4j.Convolution;

/**
 * A user's first program: one padded, strided layer forward, then its backward passes (data and
 * weights), each compared with a direct loop. Exits non-zero on a wrong result.
 */
public final class Main {
  public static void main(String[] args) {
    int n = 2, ih = 9, iw = 8, ic = 3, kh = 3, kw = 3, kc = 4, sh = 2, sw = 1, p = 1;
    Conv2d spec =
        Conv2d.builder()
            .batch(n)
            .input(ih, iw, ic)
            .kernel(kh, kw)
            .outputChannels(kc)
            .stride(sh, sw)
            .padding(p, p, p, p)
            .build();
    int oh = (int) spec.outputHeight(), ow = (int) spec.outputWidth();
    Random r = new Random(42);
    float[] input = random(r, (int) spec.inputSize());
    float[] kernel = random(r, (int) spec.kernelSize());
    float[] bias = random(r, (int) spec.biasSize());
    float[] gradOutput = random(r, (int) spec.outputSize());
    float[] output = new float[(int) spec.outputSize()];
    float[] gradInput = new float[(int) spec.inputSize()];
    float[] gradKernel = new float[(int) spec.kernelSize()];
    float[] gradBias = new float[(int) spec.biasSize()];
    try (Convolution conv = Convolution.create(spec, Algorithm.MEC)) {
      conv.forward(input, kernel, bias, output);
      conv.backwardData(gradOutput, kernel, gradInput);
      conv.backwardWeights(input, gradOutput, gradKernel, gradBias);
    }

    // The same by definition: NHWC input and output, HWIO kernel.
    float[] refOut = new float[output.length];
    float[] refGradIn = new float[gradInput.length];
    float[] refGradK = new float[gradKernel.length];
    float[] refGradB = new float[gradBias.length];
    for (int b = 0; b < n; b++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          for (int o = 0; o < kc; o++) {
            int out = ((b * oh + y) * ow + x) * kc + o;
            double s = bias[o];
            refGradB[o] += gradOutput[out];
            for (int u = 0; u < kh; u++)
              for (int v = 0; v < kw; v++) {
                int yy = y * sh + u - p, xx = x * sw + v - p;
                if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) continue;
                for (int c = 0; c < ic; c++) {
                  int in = ((b * ih + yy) * iw + xx) * ic + c;
                  int k = ((u * kw + v) * ic + c) * kc + o;
                  s += (double) input[in] * kernel[k];
                  refGradIn[in] += gradOutput[out] * kernel[k];
                  refGradK[k] += gradOutput[out] * input[in];
                }
              }
            refOut[out] = (float) s;
          }
    check("forward", output, refOut);
    check("backward data", gradInput, refGradIn);
    check("backward weights", gradKernel, refGradK);
    check("backward bias", gradBias, refGradB);
    System.out.println(
        "mec4j client: forward and backward of " + spec + " match; BLAS: " + Blas.backend());
  }

  private static float[] random(Random r, int size) {
    float[] a = new float[size];
    for (int i = 0; i < size; i++) a[i] = r.nextFloat() * 2 - 1;
    return a;
  }

  private static void check(String what, float[] got, float[] want) {
    for (int i = 0; i < got.length; i++)
      if (!(Math.abs(got[i] - want[i]) <= 1e-4f * (1 + Math.abs(want[i]))))
        throw new AssertionError(what + ": element " + i + " is " + got[i] + ", not " + want[i]);
  }
}
