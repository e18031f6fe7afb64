package org.mec4j;

/** A workspace larger than the configured cap ({@link Workspace#setMaxBytes}) was requested. */
public final class WorkspaceLimitException extends IllegalStateException {
  private static final long serialVersionUID = 1L;
  private final long requestedBytes;
  private final long maxBytes;

  public WorkspaceLimitException(String message, long requestedBytes, long maxBytes) {
    super(message);
    this.requestedBytes = requestedBytes;
    this.maxBytes = maxBytes;
  }

  public long requestedBytes() {
    return requestedBytes;
  }

  public long maxBytes() {
    return maxBytes;
  }
}
