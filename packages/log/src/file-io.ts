// The few file-system operations the log uses, behind an interface so tests can swap in a
// fault-injecting implementation (faulty-file-io.ts) that tears writes, fails fsyncs and drops
// unsynced data at a simulated crash.
//
// Everything is synchronous on purpose. A log append is one positional write into the page
// cache (microseconds); going through libuv's thread pool would cost more than the write and
// would force a queue to keep appends ordered. fsync happens only on roll, flush, checkpoint and
// close. The real implementation below is a thin pass-through: this is the hot path.

import fs from 'node:fs';

/** 'r' read only; 'r+' read/write an existing file; 'w+' create or truncate, read/write. */
export type OpenFlags = 'r' | 'r+' | 'w+';

export interface FileIO {
  open(path: string, flags: OpenFlags): number;
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at end of file). */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes up to `length` bytes at `position`; returns how many were written. */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  fsync(fd: number): void;
  truncate(fd: number, length: number): void;
  size(fd: number): number;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Names of the entries of a directory. */
  list(dir: string): string[];
  /** Creates the directory and its parents if missing. */
  mkdirs(dir: string): void;
  exists(path: string): boolean;
  /** fsync of a directory: makes creations, renames and deletions in it durable. */
  fsyncDir(dir: string): void;
}

/** FileIO over node:fs. Stateless; one shared instance serves every log. */
export class NodeFileIO implements FileIO {
  open(path: string, flags: OpenFlags): number {
    return fs.openSync(path, flags);
  }
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return fs.readSync(fd, buf, offset, length, position);
  }
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return fs.writeSync(fd, buf, offset, length, position);
  }
  fsync(fd: number): void {
    fs.fsyncSync(fd);
  }
  truncate(fd: number, length: number): void {
    fs.ftruncateSync(fd, length);
  }
  size(fd: number): number {
    return fs.fstatSync(fd).size;
  }
  close(fd: number): void {
    fs.closeSync(fd);
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(path: string): void {
    fs.unlinkSync(path);
  }
  list(dir: string): string[] {
    return fs.readdirSync(dir);
  }
  mkdirs(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }
  exists(path: string): boolean {
    return fs.existsSync(path);
  }
  fsyncDir(dir: string): void {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export const nodeFileIO: FileIO = new NodeFileIO();

/** An I/O failure raised by this module itself, shaped like Node's system errors (`code`). */
export function ioError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** Writes all of `buf[offset, offset+length)` at `position`, looping over short writes. */
export function writeFully(
  io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number,
): void {
  let done = 0;
  while (done < length) {
    const n = io.write(fd, buf, offset + done, length - done, position + done);
    // A regular file never accepts 0 bytes without an error; don't spin if one does.
    if (n <= 0) throw ioError('EIO', `write of ${length - done} bytes at ${position + done} made no progress`);
    done += n;
  }
}

/** Reads until `length` bytes or end of file; returns the bytes read. */
export function readFully(
  io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = io.read(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** The whole content of a file, or undefined when it does not exist. */
export function readWholeFile(io: FileIO, path: string): Buffer | undefined {
  if (!io.exists(path)) return undefined;
  const fd = io.open(path, 'r');
  try {
    const size = io.size(fd);
    const buf = Buffer.allocUnsafe(size);
    const n = readFully(io, fd, buf, 0, size, 0);
    return buf.subarray(0, n);
  } finally {
    io.close(fd);
  }
}

/**
 * Replaces `path` atomically and durably: write `path.tmp`, fsync it, rename over `path`, fsync
 * the directory. A crash at any point leaves either the old or the new content, never a mix.
 */
export function writeFileAtomic(io: FileIO, dir: string, path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = io.open(tmp, 'w+');
  try {
    writeFully(io, fd, data, 0, data.length, 0);
    io.fsync(fd);
  } finally {
    io.close(fd);
  }
  io.rename(tmp, path);
  io.fsyncDir(dir);
}
