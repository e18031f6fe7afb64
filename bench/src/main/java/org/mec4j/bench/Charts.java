package org.mec4j.bench;

import static org.mec4j.bench.Algo.IM2COL;
import static org.mec4j.bench.Algo.MEC;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.Plot;
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
  private static final int[] COLORS = {
    0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1
  };

  private Charts() {}

  static List<String> write(Path dir, Report.Input in) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> files = new ArrayList<>();
    for (Dir d : Dir.values()) {
      String pass = d.backward() ? d.id() + "-" : "";
      for (long b : in.batches(d))
        save(files, dir, "workspace-" + pass + "mb" + b + ".png", workspace(in, b, d), 1000);
      for (long b : in.batches(d))
        save(files, dir, "time-" + pass + "vs-im2col-mb" + b + ".png", time(in, b, d), 1100);
      if (d == Dir.FWD && NetworkReport.any(in)) {
        long n = NetworkReport.summaries(in).stream().map(s -> s.network()).distinct().count();
        save(files, dir, "networks-time.png", networks(in), (int) Math.max(900, 160 + 110 * n));
      }
      if (d == Dir.FWD && in.rows().stream().anyMatch(r -> r.kind().equals("sweep"))) {
        save(files, dir, "sweep-memory.png", sweepMemory(in), 900);
        save(files, dir, "sweep-time.png", sweepTime(in), 900);
      }
    }
    return files;
  }

  /** Writes a chart unless there was nothing to draw (null); panels stack 230 pixels each. */
  private static void save(List<String> files, Path dir, String name, JFreeChart c, int width)
      throws IOException {
    if (c == null) return;
    int height =
        c.getPlot() instanceof CombinedDomainCategoryPlot p
            ? 260 + 230 * p.getSubplots().size()
            : 520;
    ChartUtils.saveChartAsPNG(dir.resolve(name).toFile(), c, width, height);
    files.add(name);
  }

  private static JFreeChart chart(String title, Plot plot) {
    JFreeChart c = new JFreeChart(title, new Font("SansSerif", Font.BOLD, 15), plot, true);
    c.setBackgroundPaint(Color.WHITE);
    return c;
  }

  private static Color color(int i) {
    return new Color(COLORS[i % COLORS.length]);
  }

  /** A bar plot on a log axis, bars growing from {@code base}. */
  private static CategoryPlot bars(
      DefaultCategoryDataset d, CategoryAxis x, ValueAxis y, double base) {
    BarRenderer r = new BarRenderer();
    r.setBase(base);
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    r.setItemMargin(0.05);
    for (int i = 0; i < COLORS.length; i++) r.setSeriesPaint(i, color(i));
    CategoryPlot p = new CategoryPlot(d, x, y, r);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return p;
  }

  /** A bar's value, none where it did not run or has no size. */
  private static Double value(double v) {
    return Double.isNaN(v) || v <= 0 ? null : v;
  }

  /** Workspace per layer of a pass: im2col, MEC, oneDNN scratchpad, MiB on a log scale. */
  static JFreeChart workspace(Report.Input in, long batch, Dir dir) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    for (String l : in.layers(batch, dir))
      for (Algo a : List.of(IM2COL, MEC, Algo.ONEDNN)) {
        String s = a == Algo.ONEDNN ? "oneDNN scratchpad" : a == MEC ? "MEC" : a.label();
        Row r = in.findAny("layer", l, batch, a, dir);
        d.addValue(value(r == null ? 0 : r.workspaceBytes() / 1048576.0), s, l);
      }
    if (d.getColumnCount() == 0) return null;
    CategoryAxis x = new CategoryAxis("layer (mini-batch " + batch + ")");
    String pass = dir.backward() ? dir.label() + " (" + dir.id() + "), " : "";
    return chart(
        "Workspace per layer, " + pass + "mini-batch " + batch,
        bars(d, x, logAxis("workspace (MiB, log scale)", 10), 1e-3));
  }

  /** Time per layer normalised to im2col (=1), one panel per JVM (backend, threads). */
  static JFreeChart time(Report.Input in, long batch, Dir dir) {
    String label = dir.label(), pass = dir.backward() ? " (" + dir.id() + "): time" : "Time";
    if (dir.backward()) pass = Character.toUpperCase(label.charAt(0)) + label.substring(1) + pass;
    return panels(
        in,
        "layer (mini-batch " + batch + ")",
        pass
            + " per layer relative to im2col (same BLAS, same JVM; below 1 = faster), mini-batch "
            + batch,
        c -> {
          DefaultCategoryDataset d = new DefaultCategoryDataset();
          for (String l : in.layers(batch, dir)) {
            Map<Algo, Row> x = in.at(c, "layer", l, batch, dir);
            // im2col is the 1 of the scale
            for (Algo a : Algo.values())
              if (a != IM2COL && dir.runs(a))
                d.addValue(value(Report.div(x.get(a), x.get(IM2COL))), a.label(), l);
          }
          return d;
        },
        c -> logAxis(c.shortLabel() + ": time / im2col", 2),
        1.0);
  }

  /** Whole-network forward time of MEC (auto), im2col, oneDNN and ONNX Runtime, a panel per JVM. */
  static JFreeChart networks(Report.Input in) {
    List<NetworkReport.Summary> all = NetworkReport.summaries(in);
    return panels(
        in,
        "network (mini-batch)",
        "Whole-network forward time: Σ layers (median × count)",
        c -> {
          DefaultCategoryDataset d = new DefaultCategoryDataset();
          for (NetworkReport.Summary s : all)
            if (s.config().equals(c))
              for (Algo a : NetworkReport.ALGOS)
                d.addValue(value(s.total(a)), a.label(), s.network() + " (" + s.batch() + ")");
          return d;
        },
        c -> logAxis(c.shortLabel() + ": total ms (log)", 10),
        1e-3);
  }

  /**
   * One bar panel per JVM that has data, sharing the category axis and the first panel's legend;
   * base 1 draws bars from im2col's 1 (up = slower, down = faster) with a line there.
   */
  private static JFreeChart panels(
      Report.Input in,
      String xLabel,
      String title,
      Function<Report.Config, DefaultCategoryDataset> data,
      Function<Report.Config, LogAxis> y,
      double base) {
    CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis(xLabel));
    plot.setGap(12);
    for (Report.Config c : in.configs()) {
      DefaultCategoryDataset d = data.apply(c);
      if (d.getColumnCount() == 0) continue;
      CategoryPlot p = bars(d, null, y.apply(c), base);
      if (base == 1.0) p.addRangeMarker(new ValueMarker(1.0, Color.BLACK, new BasicStroke(1.5f)));
      else ((BarRenderer) p.getRenderer()).setMaximumBarWidth(0.06);
      if (plot.getSubplots().isEmpty()) plot.setFixedLegendItems(p.getLegendItems());
      plot.add(p, 1);
    }
    return plot.getSubplots().isEmpty() ? null : chart(title, plot);
  }

  /** A log axis in whole powers of the base, labelled plainly (0.5, 1, 2; 0.01, 1, 100). */
  private static LogAxis logAxis(String label, int base) {
    LogAxis y = new LogAxis(label);
    y.setBase(base);
    y.setSmallestValue(1e-3);
    y.setTickUnit(new NumberTickUnit(1));
    y.setNumberFormatOverride(new DecimalFormat("0.###"));
    return y;
  }

  /** Memory ratio im2col/MEC against k/s: measured, formula, and the line y = k/s. */
  static JFreeChart sweepMemory(Report.Input in) {
    XYSeries measured = new XYSeries("im2col/MEC workspace, measured", true, true);
    XYSeries formula = new XYSeries("formula o_h·k_h/i_h", true, true);
    XYSeries diag = new XYSeries("k/s", true, true);
    for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
      Row im = in.findAny("sweep", p.name(), p.spec().batch(), IM2COL, Dir.FWD);
      long lowering = Report.loweringBytes(in, "sweep", p.name(), p.spec().batch(), p.spec());
      if (im == null || lowering <= 0) continue; // 0: 1x1 in place, no ratio
      measured.add((double) p.k() / p.s(), (double) im.workspaceBytes() / lowering);
      formula.add((double) p.k() / p.s(), Formula.ratio(p.spec()));
    }
    if (measured.isEmpty()) return null;
    diag.add(0.0, 0.0);
    diag.add(measured.getMaxX(), measured.getMaxX());
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
    for (int i = 0; i < 3; i++) {
      r.setSeriesLinesVisible(i, i == 2);
      r.setSeriesShapesVisible(i, i != 2);
    }
    r.setSeriesShape(0, new Rectangle2D.Double(-2.5, -2.5, 5, 5));
    r.setSeriesShape(1, new Ellipse2D.Double(-6, -6, 12, 12));
    r.setSeriesShapesFilled(1, false);
    r.setUseOutlinePaint(false);
    float[] dash = {4f, 4f};
    r.setSeriesStroke(
        2, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, dash, 0f));
    return sweep(
        "k/s sweep: memory saved by MEC (" + sweepBase(in) + ")",
        List.of(measured, formula, diag),
        new NumberAxis("memory im2col / MEC"),
        r);
  }

  /** Time ratio MEC/im2col against k/s, one series per stride (and JVM, when several ran it). */
  static JFreeChart sweepTime(Report.Input in) {
    List<Report.Config> ran = in.sweepConfigs();
    Map<String, XYSeries> series = new LinkedHashMap<>();
    for (Report.Config c : ran)
      for (Plan.SweepPoint p : Plan.sweepSpecs(in.options())) {
        Map<Algo, Row> x = in.at(c, "sweep", p.name(), p.spec().batch(), Dir.FWD);
        if (!x.containsKey(IM2COL) || !x.containsKey(MEC)) continue;
        String name = "stride " + p.s() + (ran.size() > 1 ? ", " + c.shortLabel() : "");
        series
            .computeIfAbsent(name, k -> new XYSeries(k, true, true))
            .add((double) p.k() / p.s(), Report.div(x.get(MEC), x.get(IM2COL)));
      }
    if (series.isEmpty()) return null;
    String base = sweepBase(in) + ", " + ran.get(0).shortLabel();
    return sweep(
        "k/s sweep: MEC time relative to im2col (" + base + ")",
        List.copyOf(series.values()),
        logAxis("time MEC (auto) / im2col (log scale; below 1 = MEC faster)", 2),
        new XYLineAndShapeRenderer(false, true));
  }

  /** A k/s sweep chart: its series in the palette's colours, a line at 1 on a log axis. */
  private static JFreeChart sweep(
      String title, List<XYSeries> series, ValueAxis y, XYLineAndShapeRenderer r) {
    XYSeriesCollection d = new XYSeriesCollection();
    series.forEach(d::addSeries);
    for (int i = 0; i < series.size(); i++) r.setSeriesPaint(i, color(i));
    NumberAxis x = new NumberAxis("k / s (kernel size / stride)");
    x.setTickUnit(new NumberTickUnit(1));
    XYPlot p = new XYPlot(d, x, y, r);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    p.setDomainGridlinePaint(Color.LIGHT_GRAY);
    if (y instanceof LogAxis)
      p.addRangeMarker(new ValueMarker(1.0, Color.BLACK, new BasicStroke(1.5f)));
    return chart(title, p);
  }

  private static String sweepBase(Report.Input in) {
    Conv2d b = Plan.sweepSpecs(in.options()).get(0).spec();
    return String.format(
        "mb%d %d×%d×%d → %d",
        b.batch(), b.inputHeight(), b.inputWidth(), b.inputChannels(), b.outputChannels());
  }
}
