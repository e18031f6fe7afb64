package org.mec4j.bench;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on stderr: what runs now, the share of the estimated work done and the time left.
 * The estimate starts from a flops model (Plan) and is rescaled by the speed observed so far. On a
 * terminal the line is redrawn in place; otherwise one line per task is printed.
 */
final class Progress {
  private final PrintStream err;
  private final boolean tty;
  private final boolean enabled;
  private final double total;
  private final long start = System.nanoTime();
  private double doneEst; // estimated seconds of the finished tasks
  private double currentEst; // estimated seconds of the running task
  private double currentFrac;
  private String where = "";
  private String what = "";
  private long lastDraw;
  private int lastWidth;

  Progress(PrintStream err, double totalEstSeconds, boolean enabled) {
    this.err = err;
    this.tty = System.console() != null && !"dumb".equals(System.getenv("TERM"));
    this.enabled = enabled;
    this.total = Math.max(totalEstSeconds, 1e-9);
  }

  synchronized void startTask(String where, String what, double est) {
    this.where = where;
    this.what = what;
    this.currentEst = est;
    this.currentFrac = 0;
    draw(true);
  }

  synchronized void step(String what, double fraction) {
    this.what = what;
    this.currentFrac = Math.max(0, Math.min(1, fraction));
    draw(false);
  }

  synchronized void finishTask() {
    doneEst += currentEst;
    currentEst = 0;
    currentFrac = 0;
  }

  /** Seconds since start. */
  double elapsed() {
    return (System.nanoTime() - start) / 1e9;
  }

  double fractionDone() {
    return Math.min(1, (doneEst + currentEst * currentFrac) / total);
  }

  /**
   * Time left: the model's remaining seconds, scaled by observed/estimated speed once 3% is done.
   */
  double secondsLeft() {
    double done = doneEst + currentEst * currentFrac;
    double remaining = Math.max(0, total - done);
    double scale = done > 0.03 * total ? elapsed() / done : 1;
    return remaining * scale;
  }

  synchronized void message(String line) {
    if (!enabled) return;
    if (tty && lastWidth > 0) err.print("\r" + " ".repeat(lastWidth) + "\r");
    err.println(line);
    lastWidth = 0;
    draw(true);
  }

  synchronized void end() {
    if (enabled && tty && lastWidth > 0) err.println();
    lastWidth = 0;
  }

  static String duration(double s) {
    long t = Math.round(s);
    if (t >= 3600) return String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60);
    if (t >= 60) return String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    return t + "s";
  }

  String line() {
    double f = fractionDone();
    int width = 24, filled = (int) Math.round(f * width);
    return String.format(
        Locale.ROOT,
        "[%s%s] %3.0f%% | %s | %s | elapsed %s | left ~%s",
        "#".repeat(filled),
        ".".repeat(width - filled),
        100 * f,
        where,
        what,
        duration(elapsed()),
        duration(secondsLeft()));
  }

  private void draw(boolean taskChange) {
    if (!enabled) return;
    long now = System.nanoTime();
    if (tty) {
      if (!taskChange && now - lastDraw < 200_000_000L) return;
      lastDraw = now;
      String l = line();
      int cols = 160;
      if (l.length() > cols) l = l.substring(0, cols);
      err.print("\r" + l + (l.length() < lastWidth ? " ".repeat(lastWidth - l.length()) : ""));
      err.flush();
      lastWidth = l.length();
    } else if (taskChange) {
      err.println(line());
      err.flush();
    }
  }
}
