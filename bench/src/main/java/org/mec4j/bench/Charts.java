package org.mec4j.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.mec4j.Conv2d;

/** The PNG charts of a run (JFreeChart, headless). Returns the file names written. */
final class Charts {
  private static final Color[] COLORS = {
    new Color(0x4E79A7),
    new Color(0xF28E2B),
    new Color(0xE15759),
    new Color(0x76B7B2),
    new Color(0x59A14F),
    new Color(0xEDC948),
    new Color(0xB07AA1)
  };
  private static final Font TITLE = new Font("SansSerif", Font.BOLD, 15);

  private Charts() {}

  static List<String> write(Path dir, Report.Input in) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> files = new ArrayList<>();
    for (long b : in.batches()) {
      String f = "workspace-mb" + b + ".png";
      if (workspace(dir.resolve(f), in, b)) files.add(f);
    }
    for (long b : in.batches()) {
      String f = "time-vs-im2col-mb" + b + ".png";
      if (time(dir.resolve(f), in, b)) files.add(f);
    }
    if (NetworkReport.any(in) && networks(dir.resolve("networks-time.png"), in))
      files.add("networks-time.png");
    if (in.rows().stream().anyMatch(r -> r.kind().equals("sweep"))) {
      if (sweepMemory(dir.resolve("sweep-memory.png"), in)) files.add("sweep-memory.png");
      if (sweepTime(dir.resolve("sweep-time.png"), in)) files.add("sweep-time.png");
    }
    for (Dir d : Dir.values()) {
      if (!d.backward()) continue;
      for (long b : in.batches(d)) {
        String f = "workspace-" + d.id() + "-mb" + b + ".png";
        if (workspace(dir.resolve(f), in, b, d)) files.add(f);
      }
      for (long b : in.batches(d)) {
        String f = "time-" + d.id() + "-vs-im2col-mb" + b + ".png";
        if (time(dir.resolve(f), in, b, d)) files.add(f);
      }
    }
    return files;
  }

  private static void style(BarRenderer r) {
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    r.setItemMargin(0.05);
    for (int i = 0; i < COLORS.length; i++) r.setSeriesPaint(i, COLORS[i]);
  }

  private static JFreeChart chart(String title, org.jfree.chart.plot.Plot plot) {
    JFreeChart c = new JFreeChart(title, TITLE, plot, true);
    c.setBackgroundPaint(Color.WHITE);
    return c;
  }

  /** Workspace per layer: im2col, MEC, oneDNN scratchpad, MiB on a log scale. */
  static boolean workspace(Path file, Report.Input in, long batch) throws IOException {
    return workspace(file, in, batch, Dir.FWD);
  }

  /**
   * The same for one direction's workspaces (mec4j's query for that pass, oneDNN's scratchpad of
   * that primitive).
   */
  static boolean workspace(Path file, Report.Input in, long batch, Dir dir) throws IOException {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    for (var lb : in.layerBatches(batch, dir)) {
      String l = lb.getKey();
      Row im = Report.findAny(in, "layer", l, batch, Algo.IM2COL, dir),
          mec = Report.findAny(in, "layer", l, batch, Algo.MEC, dir);
      Row dn = Report.findAny(in, "layer", l, batch, Algo.ONEDNN, dir);
      d.addValue(mib(im), "im2col", l);
      d.addValue(mib(mec), "MEC", l);
      d.addValue(mib(dn), "oneDNN scratchpad", l);
    }
    if (d.getColumnCount() == 0) return false;
    LogAxis y = logAxis("workspace (MiB, log scale)", 10);
    BarRenderer r = new BarRenderer();
    r.setBase(1e-3);
    style(r);
    CategoryPlot p =
        new CategoryPlot(d, new CategoryAxis("layer (mini-batch " + batch + ")"), y, r);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    String title =
        "Workspace per layer, "
            + (dir.backward() ? dir.label() + " (" + dir.id() + "), " : "")
            + "mini-batch "
            + batch;
    ChartUtils.saveChartAsPNG(file.toFile(), chart(title, p), 1000, 520);
    return true;
  }

  private static Double mib(Row r) {
    if (r == null || r.workspaceBytes() <= 0) return null;
    return r.workspaceBytes() / 1048576.0;
  }

  /** Time per layer normalised to im2col (=1), one panel per JVM (backend, threads). */
  static boolean time(Path file, Report.Input in, long batch) throws IOException {
    return time(file, in, batch, Dir.FWD);
  }

  /** The same for one direction: the algorithms that run it. */
  static boolean time(Path file, Report.Input in, long batch, Dir dir) throws IOException {
    CombinedDomainCategoryPlot plot =
        new CombinedDomainCategoryPlot(new CategoryAxis("layer (mini-batch " + batch + ")"));
    plot.setGap(12);
    int panels = 0;
    org.jfree.chart.LegendItemCollection legend = null;
    for (Report.Config c : in.configs()) {
      DefaultCategoryDataset d = new DefaultCategoryDataset();
      for (var lb : in.layerBatches(batch, dir)) {
        String l = lb.getKey();
        Row im = in.find("layer", l, batch, c.blas(), c.threads(), Algo.IM2COL, dir);
        for (Algo a :
            new Algo[] {
              Algo.MEC,
              Algo.MEC_A,
              Algo.MEC_B,
              Algo.MEC_ROWS,
              Algo.MEC_FUSED,
              Algo.MEC_PACKED,
              Algo.ONEDNN,
              Algo.ONNXRUNTIME
            }) {
          if (!dir.runs(a)) continue;
          Row x = in.find("layer", l, batch, c.blas(), c.threads(), a, dir);
          d.addValue(im == null || x == null ? null : x.medianMs() / im.medianMs(), a.label(), l);
        }
      }
      if (d.getColumnCount() == 0) continue;
      LogAxis y = logAxis(c.shortLabel() + ": time / im2col", 2);
      BarRenderer r = new BarRenderer();
      r.setBase(1.0); // bars grow from im2col's 1: up = slower, down = faster
      style(r);
      CategoryPlot p = new CategoryPlot(d, null, y, r);
      if (legend == null) legend = p.getLegendItems();
      p.setBackgroundPaint(Color.WHITE);
      p.setRangeGridlinePaint(Color.LIGHT_GRAY);
      ValueMarker one = new ValueMarker(1.0, Color.BLACK, new BasicStroke(1.5f));
      p.addRangeMarker(one);
      plot.add(p, 1);
      panels++;
    }
    if (panels == 0) return false;
    plot.setFixedLegendItems(legend);
    String title =
        (dir.backward()
                ? Character.toUpperCase(dir.label().charAt(0))
                    + dir.label().substring(1)
                    + " ("
                    + dir.id()
                    + "): time"
                : "Time")
            + " per layer relative to im2col (same BLAS, same JVM; below 1 = faster), mini-batch "
            + batch;
    ChartUtils.saveChartAsPNG(file.toFile(), chart(title, plot), 1100, 260 + 230 * panels);
    return true;
  }

  /**
   * Whole-network forward time of MEC (auto), im2col, oneDNN and ONNX Runtime, one panel per JVM
   * (log scale).
   */
  static boolean networks(Path file, Report.Input in) throws IOException {
    List<NetworkReport.Summary> all = NetworkReport.summaries(in);
    CombinedDomainCategoryPlot plot =
        new CombinedDomainCategoryPlot(new CategoryAxis("network (mini-batch)"));
    plot.setGap(12);
    int panels = 0;
    org.jfree.chart.LegendItemCollection legend = null;
    for (Report.Config c : in.configs()) {
      DefaultCategoryDataset d = new DefaultCategoryDataset();
      for (NetworkReport.Summary s : all) {
        if (!s.config().equals(c)) continue;
        String col = s.network() + " (" + s.batch() + ")";
        for (Algo a : NetworkReport.ALGOS) {
          double v = s.total(a);
          d.addValue(Double.isNaN(v) || v <= 0 ? null : v, a.label(), col);
        }
      }
      if (d.getColumnCount() == 0) continue;
      LogAxis y = logAxis(c.shortLabel() + ": total ms (log)", 10);
      BarRenderer r = new BarRenderer();
      r.setBase(1e-3);
      r.setMaximumBarWidth(0.06);
      style(r);
      CategoryPlot p = new CategoryPlot(d, null, y, r);
      if (legend == null) legend = p.getLegendItems();
      p.setBackgroundPaint(Color.WHITE);
      p.setRangeGridlinePaint(Color.LIGHT_GRAY);
      plot.add(p, 1);
      panels++;
    }
    if (panels == 0) return false;
    plot.setFixedLegendItems(legend);
    ChartUtils.saveChartAsPNG(
        file.toFile(),
        chart("Whole-network forward time: Σ layers (median × count)", plot),
        Math.max(
            900,
            160 + 110 * (int) all.stream().map(NetworkReport.Summary::network).distinct().count()),
        260 + 230 * panels);
    return true;
  }

  /** A log axis in whole powers of the base, labelled plainly (0.5, 1, 2; 0.01, 1, 100). */
  private static LogAxis logAxis(String label, int base) {
    LogAxis y = new LogAxis(label);
    y.setBase(base);
    y.setSmallestValue(1e-3);
    y.setTickUnit(new NumberTickUnit(1));
    y.setNumberFormatOverride(new java.text.DecimalFormat("0.###"));
    return y;
  }

  /** Memory ratio im2col/MEC against k/s: measured, formula, and the line y = k/s. */
  static boolean sweepMemory(Path file, Report.Input in) throws IOException {
    XYSeries measured = new XYSeries("im2col/MEC workspace, measured", true, true);
    XYSeries formula = new XYSeries("formula o_h·k_h/i_h", true, true);
    XYSeries diag = new XYSeries("k/s", true, true);
    double maxX = 0;
    for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
      Row im = Report.findAny(in, "sweep", p.name(), p.spec().batch(), Algo.IM2COL);
      if (im == null) continue;
      long lowering = Report.loweringBytes(in, "sweep", p.name(), p.spec().batch(), p.spec());
      if (lowering <= 0) continue; // 0: 1x1 in place, no ratio
      double x = (double) p.k() / p.s();
      maxX = Math.max(maxX, x);
      measured.add(x, (double) im.workspaceBytes() / lowering);
      formula.add(x, Formula.ratio(p.spec()));
    }
    if (measured.isEmpty()) return false;
    diag.add(0.0, 0.0);
    diag.add(maxX, maxX);
    XYSeriesCollection d = new XYSeriesCollection();
    d.addSeries(measured);
    d.addSeries(formula);
    d.addSeries(diag);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
    r.setSeriesLinesVisible(0, false);
    r.setSeriesShapesVisible(0, true);
    r.setSeriesLinesVisible(1, false);
    r.setSeriesShapesVisible(1, true);
    r.setSeriesShape(0, new java.awt.geom.Rectangle2D.Double(-2.5, -2.5, 5, 5));
    r.setSeriesShape(1, new java.awt.geom.Ellipse2D.Double(-6, -6, 12, 12));
    r.setSeriesShapesFilled(1, false);
    r.setUseOutlinePaint(false);
    r.setSeriesLinesVisible(2, true);
    r.setSeriesShapesVisible(2, false);
    r.setSeriesStroke(
        2,
        new BasicStroke(
            1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
    for (int i = 0; i < 3; i++) r.setSeriesPaint(i, COLORS[i]);
    NumberAxis x = new NumberAxis("k / s (kernel size / stride)");
    x.setTickUnit(new NumberTickUnit(1));
    XYPlot p = new XYPlot(d, x, new NumberAxis("memory im2col / MEC"), r);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    p.setDomainGridlinePaint(Color.LIGHT_GRAY);
    ChartUtils.saveChartAsPNG(
        file.toFile(),
        chart("k/s sweep: memory saved by MEC (" + sweepBase(in) + ")", p),
        900,
        520);
    return true;
  }

  /** Time ratio MEC/im2col against k/s, one series per JVM that ran the sweep. */
  static boolean sweepTime(Path file, Report.Input in) throws IOException {
    XYSeriesCollection d = new XYSeriesCollection();
    List<Report.Config> configs = new ArrayList<>();
    for (Report.Config c : in.configs())
      if (in.rows().stream()
          .anyMatch(
              r ->
                  r.kind().equals("sweep")
                      && r.blas().equals(c.blas())
                      && r.threads() == c.threads())) configs.add(c);
    java.util.Map<String, XYSeries> series = new java.util.LinkedHashMap<>();
    for (Report.Config c : configs) {
      for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
        Row im = in.find("sweep", p.name(), p.spec().batch(), c.blas(), c.threads(), Algo.IM2COL);
        Row mec = in.find("sweep", p.name(), p.spec().batch(), c.blas(), c.threads(), Algo.MEC);
        if (im == null || mec == null) continue;
        String name = "stride " + p.s() + (configs.size() > 1 ? ", " + c.shortLabel() : "");
        series
            .computeIfAbsent(name, k -> new XYSeries(k, true, true))
            .add((double) p.k() / p.s(), mec.medianMs() / im.medianMs());
      }
    }
    for (XYSeries x : series.values()) d.addSeries(x);
    if (d.getSeriesCount() == 0) return false;
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
    for (int i = 0; i < d.getSeriesCount(); i++) r.setSeriesPaint(i, COLORS[i % COLORS.length]);
    NumberAxis x = new NumberAxis("k / s (kernel size / stride)");
    x.setTickUnit(new NumberTickUnit(1));
    LogAxis y = logAxis("time MEC (auto) / im2col (log scale; below 1 = MEC faster)", 2);
    XYPlot p = new XYPlot(d, x, y, r);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    p.setDomainGridlinePaint(Color.LIGHT_GRAY);
    p.addRangeMarker(new ValueMarker(1.0, Color.BLACK, new BasicStroke(1.5f)));
    ChartUtils.saveChartAsPNG(
        file.toFile(),
        chart(
            "k/s sweep: MEC time relative to im2col ("
                + sweepBase(in)
                + ", "
                + configs.get(0).shortLabel()
                + ")",
            p),
        900,
        520);
    return true;
  }

  private static String sweepBase(Report.Input in) {
    Conv2d b = Plan.sweepSpecs(in.options()).get(0).spec();
    return "mb"
        + b.batch()
        + " "
        + b.inputHeight()
        + "×"
        + b.inputWidth()
        + "×"
        + b.inputChannels()
        + " → "
        + b.outputChannels();
  }
}
