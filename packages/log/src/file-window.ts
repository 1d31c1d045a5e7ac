// A read window over part of a file, for scans that walk batch headers: one large read serves
// many headers, and a batch larger than the window gets a window of its own. Short-lived: one
// per scan, never shared.

import { readFully, type FileIO } from './file-io.js';

export class FileWindow {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly io: FileIO,
    private readonly fd: number,
    /** Bytes of the file that may be read (the segment's size). */
    private readonly limit: number,
    private readonly chunkBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(0);
  }

  /**
   * Makes [pos, pos+length) readable and returns where it starts in `buffer`, or -1 when the
   * file (up to its limit) holds fewer bytes.
   */
  view(pos: number, length: number): number {
    if (pos + length > this.limit) return -1;
    if (pos >= this.start && pos + length <= this.end) return pos - this.start;
    const size = Math.min(Math.max(this.chunkBytes, length), this.limit - pos);
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(size);
    const n = readFully(this.io, this.fd, this.buf, 0, size, pos);
    this.start = pos;
    this.end = pos + n;
    return n >= length ? 0 : -1;
  }

  get buffer(): Buffer {
    return this.buf;
  }
}
