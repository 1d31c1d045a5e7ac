// The fault-injecting FileIO itself: armed faults fire where and when asked, and a crash keeps
// exactly what was fsynced.

import fs from 'node:fs';
import path from 'node:path';
import { FaultyFileIO, fileKindOf } from '../src/faulty-file-io.js';
import { writeFully } from '../src/file-io.js';
import { cleanupTempDirs, tempDir } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

function write(io: FaultyFileIO, fd: number, text: string, at: number): void {
  const b = Buffer.from(text);
  writeFully(io, fd, b, 0, b.length, at);
}

describe('FaultyFileIO', () => {
  test('names files by kind', () => {
    expect(['00000000000000000000.log', 'x/00000000000000000005.index', 'a.timeindex', 'leader-epoch-checkpoint',
      'replication-offset-checkpoint.tmp', '.samsa_cleanshutdown', 'other', '00000000000000000000.log.cleaned',
      '00000000000000000000.log.swap', '00000000000000000000.log.deleted'].map(fileKindOf))
      .toEqual(['segment', 'offset-index', 'time-index', 'checkpoint', 'checkpoint', 'marker', 'other', 'cleaned', 'swap', 'other']);
  });

  test('a torn write puts exactly N bytes in the file, then fails', () => {
    const file = path.join(tempDir(), 'a.log');
    const io = new FaultyFileIO();
    const fd = io.open(file, 'w+');
    io.arm({ op: 'write', file: 'segment', after: 1, effect: { kind: 'torn', bytes: 3 } });
    write(io, fd, 'hello', 0); // passes: `after: 1`
    expect(() => write(io, fd, 'world', 5)).toThrow(/EIO.*torn/);
    write(io, fd, '!', 8); // fired once only
    io.close(fd);
    expect(fs.readFileSync(file, 'utf8')).toBe('hellowor!');
  });

  test('error faults match operation, file kind and path', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const fault = io.arm({ op: 'fsync', file: 'checkpoint', pathIncludes: 'leader', times: 2, effect: { kind: 'error', code: 'ENOSPC' } });
    const other = io.open(path.join(dir, 'a.log'), 'w+');
    io.fsync(other);
    const cp = io.open(path.join(dir, 'leader-epoch-checkpoint'), 'w+');
    expect(() => io.fsync(cp)).toThrow(/ENOSPC/);
    expect(() => io.fsync(cp)).toThrow(/ENOSPC/);
    io.fsync(cp);
    expect(fault.fired).toBe(2);
    expect(io.callCount('fsync', 'checkpoint')).toBe(3);
  });

  test('a crash keeps what was fsynced, drops the rest, and kills open descriptors', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const a = io.open(path.join(dir, 'a.log'), 'w+');
    write(io, a, 'synced', 0);
    io.fsync(a);
    write(io, a, '+lost', 6);
    const b = io.open(path.join(dir, 'b.log'), 'w+');
    write(io, b, 'never synced', 0);
    fs.writeFileSync(path.join(dir, 'c.log'), 'before');
    const c = io.open(path.join(dir, 'c.log'), 'r+');
    io.truncate(c, 2);
    io.crash();
    expect(fs.readFileSync(path.join(dir, 'a.log'), 'utf8')).toBe('synced');
    expect(fs.readFileSync(path.join(dir, 'b.log'), 'utf8')).toBe('');
    expect(fs.readFileSync(path.join(dir, 'c.log'), 'utf8')).toBe('before'); // the truncation was not synced
    expect(() => io.fsync(a)).toThrow(/EBADF/);
  });

  test('a crash with random-prefix keeps a seeded part of the unsynced tail', () => {
    const results = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const dir = tempDir();
      const io = new FaultyFileIO();
      const fd = io.open(path.join(dir, 'a.log'), 'w+');
      write(io, fd, 'abc', 0);
      io.fsync(fd);
      write(io, fd, 'defgh', 3);
      io.crash({ unsynced: 'random-prefix', seed });
      const kept = fs.readFileSync(path.join(dir, 'a.log'), 'utf8');
      expect('abcdefgh'.startsWith(kept) && kept.length >= 3).toBe(true);
      results.add(kept);
    }
    expect(results.size).toBeGreaterThan(3);
  });
});
