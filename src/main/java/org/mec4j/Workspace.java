package org.mec4j;

import java.lang.System.Logger.Level;
import java.lang.ref.Cleaner;
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
        LOG.log(Level.WARNING, "mec4j: a Workspace of {0} bytes was not closed; freed by the garbage collector", bytes);
      MecNative.mec4j_workspace_free(pointer);
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
    Native.ensureLoaded();
    Pointer p = MecNative.mec4j_workspace_alloc(bytes);
    if (p == null || p.isNull())
      throw new OutOfMemoryError("mec4j: cannot allocate a workspace of " + bytes + " bytes");
    return new Workspace(new Memory(p, bytes));
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
