/**
 * Bytes received from a port, read one at a time with a time-out. One reader
 * at a time (the transport's queue guarantees it); a lost port fails the
 * reader at once instead of letting it wait out its time-out.
 */
export class ByteQueue {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (byte: number | null) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  private failure: Error | null = null;

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.buffer = this.buffer.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffer, data]);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      clearTimeout(waiter.timer);
      waiter.resolve(this.take());
    }
  }

  /** The next byte, or null when none arrived within `timeoutMs`. */
  read(timeoutMs: number): Promise<number | null> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.buffer.length > 0) return Promise.resolve(this.take());
    if (this.waiter) return Promise.reject(new Error('ByteQueue: a second reader'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Drops whatever is buffered; answers how many bytes were dropped. */
  clear(): Buffer {
    const dropped = this.buffer;
    this.buffer = Buffer.alloc(0);
    return dropped;
  }

  /** Every later read (and the one waiting) fails with this error. */
  fail(error: Error): void {
    this.failure = error;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private take(): number {
    const byte = this.buffer[0] as number;
    this.buffer = this.buffer.subarray(1);
    return byte;
  }
}
