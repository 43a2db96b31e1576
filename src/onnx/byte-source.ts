// Random access to a model file without loading it: the reader asks for small ranges (field headers,
// node messages) and skips weight payloads, so memory stays independent of the weight bytes.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length). The view is only valid until the next call; copy to keep it. */
  read(offset: number, length: number): Uint8Array;
  /**
   * Bytes [offset, offset + into.length) copied into `into`, which is returned: for weight bytes read in
   * blocks or sampled, without disturbing the window that structure reads go through.
   */
  readInto(offset: number, into: Uint8Array): Uint8Array;
  close(): void;
}

/** The largest read-ahead window; a window that follows a skipped payload starts small. */
const WINDOW = 1 << 20;
const FIRST_WINDOW = 8 << 10;

/**
 * A file read through one read-ahead window: sequential small reads cost one syscall per window. The
 * window grows while reads stay sequential and shrinks after a jump (a skipped weight payload), so
 * reading the structure between payloads does not read megabytes of weights into the window.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  /** Allocated on the first windowed read: sources read only in blocks (external data) never need it. */
  private window: Uint8Array | undefined;
  private windowStart = 0;
  private windowLength = 0;
  private nextWindow = FIRST_WINDOW;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    if (
      this.window &&
      offset >= this.windowStart &&
      offset + length <= this.windowStart + this.windowLength
    ) {
      const at = offset - this.windowStart;
      return this.window.subarray(at, at + length);
    }
    if (length > WINDOW) return this.readExact(new Uint8Array(length), offset);
    this.window ??= new Uint8Array(WINDOW);
    const sequential = offset >= this.windowStart && offset <= this.windowStart + this.windowLength;
    this.nextWindow = sequential ? Math.min(WINDOW, this.nextWindow * 2) : FIRST_WINDOW;
    this.windowStart = offset;
    this.windowLength = Math.min(Math.max(this.nextWindow, length), this.size - offset);
    this.readExact(this.window.subarray(0, this.windowLength), offset);
    return this.window.subarray(0, length);
  }

  readInto(offset: number, into: Uint8Array): Uint8Array {
    this.check(offset, into.length);
    return this.readExact(into, offset);
  }

  close(): void {
    closeSync(this.fd);
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(
        `read past the end of the file (bytes ${offset}..${offset + length} of ${this.size})`,
      );
    }
  }

  private readExact(into: Uint8Array, offset: number): Uint8Array {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${offset + done}`);
      done += n;
    }
    return into;
  }
}

/** Bytes already in memory (tests, and models handed over as a buffer). */
export class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new RangeError(
        `read past the end of the data (bytes ${offset}..${offset + length} of ${this.bytes.length})`,
      );
    }
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset: number, into: Uint8Array): Uint8Array {
    into.set(this.read(offset, into.length));
    return into;
  }
  close(): void {}
}
