// Checkpoint files: Kafka's text format, round trips, atomic replacement under injected faults,
// and clear errors for damaged files.

import fs from 'node:fs';
import path from 'node:path';
import {
  OffsetCheckpointFile, RECOVERY_POINT_CHECKPOINT_FILE, REPLICATION_OFFSET_CHECKPOINT_FILE, parseTopicPartitionKey,
  topicPartitionKey,
} from '../src/checkpoint.js';
import { FaultyFileIO } from '../src/faulty-file-io.js';
import { cleanupTempDirs, expectLogError, tempDir } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

describe('OffsetCheckpointFile', () => {
  test('round-trips many partitions in Kafka\'s format (version, count, "topic partition offset")', () => {
    const file = path.join(tempDir(), REPLICATION_OFFSET_CHECKPOINT_FILE);
    const cp = new OffsetCheckpointFile(file);
    expect(cp.read()).toEqual(new Map()); // missing file: nothing checkpointed yet
    const offsets = new Map<string, number>();
    for (let p = 0; p < 50; p++) offsets.set(topicPartitionKey(p % 2 ? 'orders' : 'my-topic.v2', p), p * 1000 + 7);
    cp.write(offsets);
    expect(cp.read()).toEqual(offsets);
    const text = fs.readFileSync(file, 'utf8').split('\n');
    expect(text.slice(0, 3)).toEqual(['0', '50', 'my-topic.v2 0 7']);
    expect(fs.readdirSync(path.dirname(file))).toEqual([REPLICATION_OFFSET_CHECKPOINT_FILE]); // no temp file left
  });

  test('topic-partition keys split at the last dash', () => {
    expect(parseTopicPartitionKey('a-b-c-12')).toEqual({ topic: 'a-b-c', partition: 12 });
    expectLogError(() => parseTopicPartitionKey('nodash'), 'INVALID_ARGUMENT');
    expectLogError(() => parseTopicPartitionKey('t-x'), 'INVALID_ARGUMENT');
  });

  test('refuses to write what it could not read back', () => {
    const cp = new OffsetCheckpointFile(path.join(tempDir(), 'cp'));
    expectLogError(() => cp.write(new Map([['has space-1', 1]])), 'INVALID_ARGUMENT');
    expectLogError(() => cp.write(new Map([['t-1', -5]])), 'INVALID_ARGUMENT');
    expectLogError(() => cp.write(new Map([['t-1', 1.5]])), 'INVALID_ARGUMENT');
  });

  test.each([
    ['a wrong version', '1\n1\nt 0 5\n'],
    ['a count that does not match', '0\n2\nt 0 5\n'],
    ['a malformed line', '0\n1\nt zero 5\n'],
    ['a negative offset', '0\n1\nt 0 -5\n'],
    ['no count line', '0\n'],
  ])('a file with %s is CORRUPT_CHECKPOINT', (_what, content) => {
    const file = path.join(tempDir(), RECOVERY_POINT_CHECKPOINT_FILE);
    fs.writeFileSync(file, content);
    expectLogError(() => new OffsetCheckpointFile(file).read(), 'CORRUPT_CHECKPOINT');
  });

  test('replacement is atomic: a failed write or fsync of the temp file leaves the old checkpoint intact', () => {
    const dir = tempDir();
    const file = path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE);
    const io = new FaultyFileIO();
    const cp = new OffsetCheckpointFile(file, io);
    const old = new Map([['t-0', 10], ['t-1', 20]]);
    cp.write(old);
    const next = new Map([['t-0', 11], ['t-1', 21]]);

    io.arm({ op: 'write', file: 'checkpoint', effect: { kind: 'torn', bytes: 5 } });
    expect(() => cp.write(next)).toThrow(/EIO/);
    expect(cp.read()).toEqual(old);

    io.arm({ op: 'fsync', file: 'checkpoint', effect: { kind: 'error', code: 'ENOSPC' } });
    expect(() => cp.write(next)).toThrow(/ENOSPC/);
    expect(cp.read()).toEqual(old);

    // A crash after the temp file was written but before the rename: the old file survives,
    // and the next write replaces the leftover temp file.
    io.arm({ op: 'rename', file: 'checkpoint', effect: { kind: 'error', code: 'EIO' } });
    expect(() => cp.write(next)).toThrow(/EIO/);
    io.crash();
    expect(cp.read()).toEqual(old);
    cp.write(next);
    expect(cp.read()).toEqual(next);
    // Written in order: temp file fsynced, renamed, then the directory fsynced.
    expect(io.callCount('fsyncDir')).toBeGreaterThanOrEqual(2);
  });

  test('a completed write survives a crash (it was fsynced, renamed and the directory fsynced)', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const cp = new OffsetCheckpointFile(path.join(dir, 'cp'), io);
    cp.write(new Map([['t-0', 1]]));
    io.crash();
    expect(cp.read()).toEqual(new Map([['t-0', 1]]));
  });
});
