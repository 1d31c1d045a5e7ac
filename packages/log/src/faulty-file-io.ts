// A FileIO that injects faults at named points and simulates a crash, for tests of the log and
// of anything built on it. A fault point is an operation on a kind of file: `write` on a
// `segment` is an append, `fsync` on a `segment` is a roll or flush, `truncate` on a `segment`
// is a follower truncation, `write`/`fsync`/`rename` on a `checkpoint` is a checkpoint, `write`/
// `fsync` on `cleaned` is the log cleaner writing a cleaned segment, `rename` to `swap` its commit
// point, and so on.
//
// Crash model. Data written to a file becomes durable only when that file is fsynced; a crash
// (crash()) reverts each file to what its last fsync made durable (a file never fsynced comes
// back empty), or, with `unsynced: 'random-prefix'`, keeps a seeded random part of the unsynced
// tail, as a kernel that flushed some dirty pages would. Directory operations (create, rename,
// unlink) are treated as durable at once. A crash also kills every open descriptor: the old
// log object then fails with EBADF, like a dead process, while a new one opens the files afresh.
//
// Lifecycle: one instance per test; it owns the descriptors it hands out (virtual numbers, so a
// stale descriptor of a crashed log can never alias a new file).

import { nodeFileIO, readWholeFile, ioError, type FileIO, type OpenFlags } from './file-io.js';

export type FaultOp = 'open' | 'read' | 'write' | 'fsync' | 'truncate' | 'rename' | 'unlink' | 'fsyncDir';
export type FileKind =
  | 'segment' | 'offset-index' | 'time-index' | 'checkpoint' | 'marker' | 'dir' | 'other'
  /** A segment file the log cleaner is writing (`*.cleaned`) or has finished and is swapping in (`*.swap`). */
  | 'cleaned' | 'swap';

export type FaultEffect =
  /** The operation fails with this errno code and does nothing. */
  | { kind: 'error'; code: 'EIO' | 'ENOSPC' }
  /** Only for `write`: the first `bytes` bytes reach the file, then the write fails with EIO. */
  | { kind: 'torn'; bytes: number };

export interface FaultSpec {
  op: FaultOp;
  /** Kind of file the operation is on; any kind when absent. */
  file?: FileKind;
  /** Only paths containing this string. */
  pathIncludes?: string;
  /** Let this many matching calls through before firing. Default 0. */
  after?: number;
  /** How many times to fire. Default 1. */
  times?: number;
  effect: FaultEffect;
}

/** An armed fault; `fired` counts the calls it failed. */
export interface ArmedFault {
  readonly spec: FaultSpec;
  fired: number;
  seen: number;
}

export interface CrashOptions {
  /** 'drop' (default): unsynced data is lost. 'random-prefix': a random part of it survives. */
  unsynced?: 'drop' | 'random-prefix';
  /** Seed for 'random-prefix'. */
  seed?: number;
}

export function fileKindOf(path: string): FileKind {
  if (path.endsWith('.cleaned')) return 'cleaned';
  if (path.endsWith('.swap')) return 'swap';
  if (path.endsWith('.log')) return 'segment';
  if (path.endsWith('.index')) return 'offset-index';
  if (path.endsWith('.timeindex')) return 'time-index';
  if (/checkpoint(\.tmp)?$/.test(path)) return 'checkpoint';
  if (path.includes('cleanshutdown')) return 'marker';
  return 'other';
}

interface OpenFile {
  path: string;
  innerFd: number;
}

export class FaultyFileIO implements FileIO {
  private readonly faults: ArmedFault[] = [];
  private readonly files = new Map<number, OpenFile>();
  private nextFd = 1000;
  /** Content made durable by the last fsync, for every file mutated since it was first seen. */
  private readonly durable = new Map<string, Buffer>();
  /** Files with writes or truncations not yet fsynced. */
  private readonly dirty = new Set<string>();
  /** Counts of calls per `op:kind`, for tests that assert what the log did. */
  readonly calls = new Map<string, number>();

  constructor(private readonly inner: FileIO = nodeFileIO) {}

  arm(spec: FaultSpec): ArmedFault {
    if (spec.effect.kind === 'torn' && spec.op !== 'write') {
      throw new Error(`a torn effect only applies to write, not ${spec.op}`);
    }
    const fault: ArmedFault = { spec, fired: 0, seen: 0 };
    this.faults.push(fault);
    return fault;
  }

  disarmAll(): void {
    this.faults.length = 0;
  }

  callCount(op: FaultOp, file?: FileKind): number {
    return this.calls.get(file === undefined ? op : `${op}:${file}`) ?? 0;
  }

  /**
   * Simulates power loss: closes every descriptor and reverts each file to its durable content
   * (see the crash model above). The instance stays usable for reopening.
   */
  crash(options: CrashOptions = {}): void {
    for (const f of this.files.values()) this.inner.close(f.innerFd);
    this.files.clear();
    const rng = mulberry32(options.seed ?? 1);
    for (const path of this.dirty) {
      if (!this.inner.exists(path)) continue;
      const durable = this.durable.get(path) ?? Buffer.alloc(0);
      let survivor = durable;
      if (options.unsynced === 'random-prefix') {
        const current = readWholeFile(this.inner, path) ?? Buffer.alloc(0);
        const common = commonPrefixLength(durable, current);
        const keep = common + Math.floor(rng() * (current.length - common + 1));
        survivor = current.subarray(0, keep);
      }
      const fd = this.inner.open(path, 'w+');
      try {
        let done = 0;
        while (done < survivor.length) done += this.inner.write(fd, survivor, done, survivor.length - done, done);
      } finally {
        this.inner.close(fd);
      }
    }
    this.dirty.clear();
    this.durable.clear();
  }

  // --- FileIO -------------------------------------------------------------------------------

  open(path: string, flags: OpenFlags): number {
    this.check('open', path);
    if (flags === 'w+') this.beforeMutate(path);
    const innerFd = this.inner.open(path, flags);
    if (flags === 'w+') this.dirty.add(path);
    const fd = this.nextFd++;
    this.files.set(fd, { path, innerFd });
    return fd;
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.file(fd);
    this.check('read', f.path);
    return this.inner.read(f.innerFd, buf, offset, length, position);
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.file(fd);
    const fault = this.check('write', f.path, true);
    this.beforeMutate(f.path);
    this.dirty.add(f.path);
    if (fault !== undefined && fault.effect.kind === 'torn') {
      const keep = Math.min(fault.effect.bytes, length);
      let done = 0;
      while (done < keep) done += this.inner.write(f.innerFd, buf, offset + done, keep - done, position + done);
      throw ioError('EIO', `injected torn write: ${keep} of ${length} bytes reached ${f.path}`);
    }
    return this.inner.write(f.innerFd, buf, offset, length, position);
  }

  fsync(fd: number): void {
    const f = this.file(fd);
    this.check('fsync', f.path);
    this.inner.fsync(f.innerFd);
    if (this.dirty.has(f.path)) {
      const content = Buffer.allocUnsafe(this.inner.size(f.innerFd));
      let done = 0;
      while (done < content.length) {
        const n = this.inner.read(f.innerFd, content, done, content.length - done, done);
        if (n === 0) break;
        done += n;
      }
      this.durable.set(f.path, content.subarray(0, done));
      this.dirty.delete(f.path);
    }
  }

  truncate(fd: number, length: number): void {
    const f = this.file(fd);
    this.check('truncate', f.path);
    this.beforeMutate(f.path);
    this.dirty.add(f.path);
    this.inner.truncate(f.innerFd, length);
  }

  size(fd: number): number {
    return this.inner.size(this.file(fd).innerFd);
  }

  close(fd: number): void {
    const f = this.file(fd);
    this.files.delete(fd);
    this.inner.close(f.innerFd);
  }

  rename(from: string, to: string): void {
    this.check('rename', to);
    this.inner.rename(from, to);
    for (const f of this.files.values()) if (f.path === from) f.path = to;
    const durable = this.durable.get(from);
    this.durable.delete(to);
    this.dirty.delete(to);
    if (durable !== undefined) {
      this.durable.set(to, durable);
      this.durable.delete(from);
    }
    if (this.dirty.delete(from)) this.dirty.add(to);
  }

  unlink(path: string): void {
    this.check('unlink', path);
    this.inner.unlink(path);
    this.durable.delete(path);
    this.dirty.delete(path);
  }

  list(dir: string): string[] {
    return this.inner.list(dir);
  }

  mkdirs(dir: string): void {
    this.inner.mkdirs(dir);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  fsyncDir(dir: string): void {
    this.count('fsyncDir', 'dir');
    this.fire('fsyncDir', 'dir', dir, false);
    this.inner.fsyncDir(dir);
  }

  // --- internals ----------------------------------------------------------------------------

  private file(fd: number): OpenFile {
    const f = this.files.get(fd);
    if (f === undefined) throw ioError('EBADF', `descriptor ${fd} is not open (closed, or lost in a simulated crash)`);
    return f;
  }

  /** First mutation of a file this instance has not seen: what is there now counts as durable. */
  private beforeMutate(path: string): void {
    if (this.durable.has(path) || this.dirty.has(path)) return;
    this.durable.set(path, readWholeFile(this.inner, path) ?? Buffer.alloc(0));
  }

  private count(op: FaultOp, kind: FileKind): void {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const key = `${op}:${kind}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  private check(op: FaultOp, path: string, allowTorn = false): FaultSpec | undefined {
    const kind = fileKindOf(path);
    this.count(op, kind);
    return this.fire(op, kind, path, allowTorn);
  }

  /** Throws the error of the first armed fault matching this call; returns a torn fault to apply. */
  private fire(op: FaultOp, kind: FileKind, path: string, allowTorn: boolean): FaultSpec | undefined {
    for (const fault of this.faults) {
      const { spec } = fault;
      if (spec.op !== op) continue;
      if (spec.file !== undefined && spec.file !== kind) continue;
      if (spec.pathIncludes !== undefined && !path.includes(spec.pathIncludes)) continue;
      if (fault.fired >= (spec.times ?? 1)) continue;
      fault.seen++;
      if (fault.seen <= (spec.after ?? 0)) continue;
      fault.fired++;
      if (spec.effect.kind === 'torn' && allowTorn) return spec;
      if (spec.effect.kind === 'error') throw ioError(spec.effect.code, `injected fault on ${op} of ${path}`);
    }
    return undefined;
  }
}

function commonPrefixLength(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A small seeded PRNG (mulberry32), so a crash with random survivors replays from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
