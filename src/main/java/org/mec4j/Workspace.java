package org.mec4j;

import java.lang.System.Logger.Level;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.mec4j.internal.MecNative;

/**
 * Native scratch memory for a {@link Convolution}: 64-byte aligned (2 MiB-aligned with huge pages
 * requested when large), owned by this object and freed by {@link #close()}. A workspace that is
 * never closed is freed when it becomes unreachable, and a warning names its size.
 *
 * <p>One workspace can serve several convolutions that run one after another (sharing scratch
 * memory between the layers of a network); it must be at least as large as each needs.
 */
public final class Workspace implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final System.Logger LOG = System.getLogger("org.mec4j");

  /** System property: the largest workspace, in bytes, that mec4j may allocate. */
  public static final String MAX_BYTES_PROPERTY = "mec4j.workspace.maxBytes";

  private static final AtomicLong LIVE_BYTES = new AtomicLong();
  private static final AtomicLong LIVE_COUNT = new AtomicLong();
  private static volatile long maxBytes = parseMaxBytes();

  private static long parseMaxBytes() {
    String v = System.getProperty(MAX_BYTES_PROPERTY);
    if (v == null || v.isBlank()) return Long.MAX_VALUE;
    try {
      long n = Long.parseLong(v.trim());
      if (n >= 1) return n;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        MAX_BYTES_PROPERTY + " must be an integer >= 1, got '" + v + "'");
  }

  /** Frees the memory exactly once, from close() or from the cleaner. */
  private static final class Memory implements Runnable {
    final Pointer pointer;
    final long bytes;
    volatile boolean closedByUser;

    Memory(Pointer pointer, long bytes) {
      this.pointer = pointer;
      this.bytes = bytes;
    }

    @Override
    public void run() {
      if (!closedByUser)
        LOG.log(
            Level.WARNING,
            "mec4j: a Workspace of {0} bytes was not closed; freed by the garbage collector",
            bytes);
      MecNative.mec4j_workspace_free(pointer);
      LIVE_BYTES.addAndGet(-bytes);
      LIVE_COUNT.decrementAndGet();
    }
  }

  private final Memory memory;
  private final Cleaner.Cleanable cleanable;
  private volatile boolean closed;

  private Workspace(Memory memory) {
    this.memory = memory;
    this.cleanable = CLEANER.register(this, memory);
  }

  /**
   * Allocates {@code bytes} of workspace.
   *
   * @throws IllegalArgumentException if bytes &lt; 1
   * @throws OutOfMemoryError if the memory cannot be allocated
   */
  public static Workspace allocate(long bytes) {
    if (bytes < 1) throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
    long max = maxBytes;
    if (bytes > max)
      throw new WorkspaceLimitException(
          "mec4j: a workspace of "
              + bytes
              + " bytes exceeds the limit of "
              + max
              + " bytes ("
              + MAX_BYTES_PROPERTY
              + " / Workspace.setMaxBytes)",
          bytes,
          max);
    Native.ensureLoaded();
    Pointer p = MecNative.mec4j_workspace_alloc(bytes);
    if (p == null || p.isNull())
      throw new OutOfMemoryError("mec4j: cannot allocate a workspace of " + bytes + " bytes");
    LIVE_BYTES.addAndGet(bytes);
    LIVE_COUNT.incrementAndGet();
    return new Workspace(new Memory(p, bytes));
  }

  /**
   * Sets the largest workspace mec4j may allocate (default: unlimited, or the system property
   * {@value #MAX_BYTES_PROPERTY}); larger requests throw {@link WorkspaceLimitException}.
   */
  public static void setMaxBytes(long bytes) {
    if (bytes < 1) throw new IllegalArgumentException("bytes must be >= 1, got " + bytes);
    maxBytes = bytes;
  }

  public static long maxBytes() {
    return maxBytes;
  }

  /** Bytes of workspace allocated and not yet freed, in this JVM. */
  public static long liveBytes() {
    return LIVE_BYTES.get();
  }

  /** Workspaces allocated and not yet freed, in this JVM. */
  public static long liveCount() {
    return LIVE_COUNT.get();
  }

  public long bytes() {
    return memory.bytes;
  }

  public boolean isClosed() {
    return closed;
  }

  Pointer pointer() {
    if (closed) throw new IllegalStateException("mec4j: the Workspace is closed");
    return memory.pointer;
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    memory.closedByUser = true;
    cleanable.clean();
  }
}
