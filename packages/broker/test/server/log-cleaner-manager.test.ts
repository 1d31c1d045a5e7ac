// The broker's log cleaner over a real LogManager directory (no network): it picks the dirtiest
// compacted log at or above its min.cleanable.dirty.ratio and leaves delete-policy logs alone;
// it keeps its checkpoint in the log directory across restarts and exports samsa_log_cleaner_*
// metrics; producer state rebuilt from a cleaned log still recognises a retried batch; and a
// group coordinator loading a cleaned __consumer_offsets partition finds exactly the committed
// offsets it found before the cleaning.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '@samsa/coordinator';
import { createLogConfig, decodeBatch, encodeBatch, LOG_OVERHEAD, readBatchHeader, type Log } from '@samsa/log';
import { GroupManager } from '../../src/group/group-manager.js';
import { encodeOffsetCommitKey, encodeOffsetCommitValue } from '../../src/group/offsets-records.js';
import { ProducerStateManager, lastSequenceOf } from '../../src/replica/producer-state.js';
import { LogCleanerManager, selectLogToClean, type CleanerCandidate } from '../../src/server/log-cleaner-manager.js';
import { LogManager } from '../../src/server/log-manager.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-cleaner-mgr-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const COMPACT = createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 2048 });
const T0 = 1_760_000_000_000;

function put(log: Log, records: { key: string | null; value: string | null }[], extra: Parameters<typeof encodeBatch>[0] extends infer B ? Partial<B> : never = {}): void {
  log.append(encodeBatch({
    records: records.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })),
    timestamp: T0,
    ...extra,
  }), { assignOffsets: true, leaderEpoch: 0 });
}

function manager(logs: LogManager, dir: string, registry?: Registry): LogCleanerManager {
  return new LogCleanerManager({ logs, dir, highWatermark: () => undefined, logger: silentLogger, registry, backoffMs: 60_000, clock: () => T0 });
}

const stats = (dirtyBytes: number, cleanBytes: number) => ({
  firstDirtyOffset: 0, firstUncleanableOffset: 0, cleanBytes, dirtyBytes, dirtyRatio: dirtyBytes / Math.max(1, dirtyBytes + cleanBytes),
});

describe('selectLogToClean', () => {
  test('the dirtiest log at or above its own ratio; else one whose tombstones are due; else none', () => {
    const a: CleanerCandidate = { key: 'a-0', stats: stats(60, 40), minCleanableRatio: 0.5, deleteHorizonMs: undefined };
    const b: CleanerCandidate = { key: 'b-0', stats: stats(90, 10), minCleanableRatio: 0.95, deleteHorizonMs: undefined };
    const c: CleanerCandidate = { key: 'c-0', stats: stats(10, 90), minCleanableRatio: 0.5, deleteHorizonMs: 1000 };
    expect(selectLogToClean([a, b, c], 0)?.key).toBe('a-0');
    expect(selectLogToClean([b, c], 999)).toBeUndefined();
    expect(selectLogToClean([b, c], 1000)?.key).toBe('c-0');
    expect(selectLogToClean([{ ...a, stats: stats(0, 0) }], 0)).toBeUndefined();
  });
});

describe('LogCleanerManager', () => {
  test('cleans the dirtiest compacted log, leaves delete-policy logs alone, keeps its checkpoint across a restart, exports metrics', async () => {
    const dir = tempDir();
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => T0 });
    logs.open();
    const compacted = logs.getOrCreate('c', 0, COMPACT);
    const plain = logs.getOrCreate('d', 0, createLogConfig({ 'segment.bytes': 2048 }));
    for (let i = 0; i < 200; i++) {
      put(compacted, [{ key: `k${i % 10}`, value: `v${i}` }]);
      put(plain, [{ key: `k${i % 10}`, value: `v${i}` }]);
    }
    const plainBytes = plain.size;
    const registry = new Registry();
    const cleaner = manager(logs, dir, registry);
    const report = await cleaner.cleanOnce();
    expect(report).toMatchObject({ topic: 'c', partition: 0, firstDirtyOffset: 0 });
    expect(report!.recordsRemoved).toBeGreaterThan(150);
    expect(report!.cleanedTo).toBe(compacted.segmentBaseOffsets().at(-1));
    expect(plain.size).toBe(plainBytes);
    // Nothing is dirty any more: the next check finds nothing to do.
    expect(await cleaner.cleanOnce()).toBeNull();
    const text = await registry.metrics();
    expect(text).toMatch(/samsa_log_cleaner_runs_total 1\b/);
    expect(text).toMatch(/samsa_log_cleaner_records_removed_total [1-9]/);
    expect(text).toMatch(/samsa_log_cleaner_read_bytes_total [1-9]/);
    expect(text).toMatch(/samsa_log_cleaner_written_bytes_total [1-9]/);
    expect(text).toMatch(/samsa_log_cleaner_max_dirty_ratio 0\b/);
    await cleaner.stop();
    logs.close(new Map());

    // As at a broker start: logs open with the broker default (delete) until LeaderAndIsr brings their topic's config.
    const reopened = new LogManager({ dir, logger: silentLogger, defaultConfig: createLogConfig(), clock: () => T0 });
    reopened.open();
    reopened.getOrCreate('c', 0, COMPACT);
    const again = manager(reopened, dir);
    expect(again.cleanedTo('c', 0)).toBe(report!.cleanedTo);
    expect(await again.cleanOnce()).toBeNull();
    await again.stop();
    reopened.close(new Map());
  });

  test('a partition deleted and created again is cleaned from its start, not from the old checkpoint', async () => {
    const dir = tempDir();
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => T0 });
    logs.open();
    let log = logs.getOrCreate('c', 0, COMPACT);
    for (let i = 0; i < 100; i++) put(log, [{ key: `k${i % 10}`, value: `v${i}` }]);
    const cleaner = manager(logs, dir);
    const first = (await cleaner.cleanOnce())!;
    expect(first.cleanedTo).toBeGreaterThan(50);
    logs.delete('c', 0);
    log = logs.getOrCreate('c', 0, COMPACT);
    for (let i = 0; i < 200; i++) put(log, [{ key: `k${i % 10}`, value: `w${i}` }]);
    const second = (await cleaner.cleanOnce())!;
    expect(second.firstDirtyOffset).toBe(0);
    await cleaner.stop();
    logs.close(new Map());
  });

  test('a log with no new dirty data is cleaned again once its kept tombstones reach their delete horizon', async () => {
    const dir = tempDir();
    let now = T0;
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => now });
    logs.open();
    const log = logs.getOrCreate('c', 0, createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 2048, 'delete.retention.ms': 1000 }));
    for (let i = 0; i < 60; i++) put(log, [{ key: `k${i % 6}`, value: `v${i}` }]);
    put(log, [{ key: 'k0', value: null }]);
    log.roll();
    put(log, [{ key: 'tail', value: 't' }]);
    const cleaner = new LogCleanerManager({ logs, dir, highWatermark: () => undefined, logger: silentLogger, backoffMs: 60_000, clock: () => now });
    expect(await cleaner.cleanOnce()).not.toBeNull();
    const keys = (): string[] => {
      const out: string[] = [];
      for (let offset = 0; offset < log.logEndOffset;) {
        const r = log.read(offset, 1 << 20);
        for (let pos = 0; pos < r.records.length; pos += r.records.readInt32BE(pos + 8) + LOG_OVERHEAD) {
          for (const rec of decodeBatch(r.records, pos).records) out.push(`${rec.key}=${rec.value ?? 'null'}`);
        }
        offset = r.nextOffset;
      }
      return out;
    };
    expect(keys()).toContain('k0=null');
    now += 999;
    expect(await cleaner.cleanOnce()).toBeNull();
    now += 1;
    const report = await cleaner.cleanOnce();
    expect(report).not.toBeNull();
    expect(keys().some((k) => k.startsWith('k0='))).toBe(false);
    expect(await cleaner.cleanOnce()).toBeNull();
    await cleaner.stop();
    logs.close(new Map());
  });

  test('a log below min.cleanable.dirty.ratio waits', async () => {
    const dir = tempDir();
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => T0 });
    logs.open();
    const log = logs.getOrCreate('c', 0, createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 2048, 'min.cleanable.dirty.ratio': 1 }));
    for (let i = 0; i < 100; i++) put(log, [{ key: `k${i % 10}`, value: `v${i}` }]);
    const cleaner = manager(logs, dir);
    // First cleaning: everything is dirty (ratio 1).
    expect(await cleaner.cleanOnce()).not.toBeNull();
    for (let i = 0; i < 100; i++) put(log, [{ key: `k${i % 10}`, value: `w${i}` }]);
    // Now there is a clean section: the ratio is below 1.
    expect(await cleaner.cleanOnce()).toBeNull();
    await cleaner.stop();
    logs.close(new Map());
  });

  test('idempotent producer state rebuilt from a cleaned log still answers a retried batch as a duplicate', async () => {
    const dir = tempDir();
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => T0 });
    logs.open();
    const log = logs.getOrCreate('c', 0, COMPACT);
    for (let i = 0; i < 60; i++) put(log, [{ key: 'same', value: `v${i}` }], { producerId: 42n, producerEpoch: 3, baseSequence: i });
    // Every batch of producer 42 but the last is superseded; another producer writes later.
    for (let i = 0; i < 30; i++) put(log, [{ key: 'same', value: `x${i}` }], { producerId: 77n, producerEpoch: 0, baseSequence: i });
    log.roll();
    put(log, [{ key: 'tail', value: 't' }]);
    const cleaner = manager(logs, dir);
    expect((await cleaner.cleanOnce())!.recordsRemoved).toBe(89);

    const producers = new ProducerStateManager();
    let offset = log.logStartOffset;
    let batches = 0;
    while (offset < log.logEndOffset) {
      const r = log.read(offset, 1 << 20);
      for (let pos = 0; pos < r.records.length; pos += r.records.readInt32BE(pos + 8) + LOG_OVERHEAD) {
        const h = readBatchHeader(r.records, pos);
        batches++;
        producers.replay(h);
      }
      offset = r.nextOffset;
    }
    expect(batches).toBeLessThan(10);
    // Producer 42's last batch (sequence 59) survived as an empty header: its retry is a duplicate, sequence 60 is next.
    expect(producers.check(42n, 3, 59, lastSequenceOf(59, 0))).toMatchObject({ kind: 'duplicate', firstOffset: 59, lastOffset: 59 });
    expect(producers.check(42n, 3, 60, 60)).toEqual({ kind: 'append' });
    expect(producers.check(42n, 3, 62, 62).kind).toBe('rejected');
    expect(producers.check(77n, 0, 29, 29)).toMatchObject({ kind: 'duplicate', firstOffset: 89, lastOffset: 89 });
    await cleaner.stop();
    logs.close(new Map());
  });

  test('a group coordinator loading a cleaned __consumer_offsets partition finds the same committed offsets', async () => {
    const dir = tempDir();
    const logs = new LogManager({ dir, logger: silentLogger, defaultConfig: COMPACT, clock: () => T0 });
    logs.open();
    const log = logs.getOrCreate('__consumer_offsets', 0, createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 16 * 1024 }));
    const groups = Array.from({ length: 8 }, (_, i) => `group-${i}`);
    for (let i = 0; i < 3000; i++) {
      const g = groups[i % groups.length]!;
      const records: { key: Buffer; value: Buffer | null }[] = [{ key: Buffer.from(encodeOffsetCommitKey(g, 'orders', i % 6)), value: Buffer.from(encodeOffsetCommitValue({ offset: i, leaderEpoch: 0, metadata: `m${i}`, commitTimestampMs: Date.now(), expireTimestampMs: null })) }];
      // Some offsets are deleted along the way (OffsetDelete writes a tombstone) and committed again later.
      if (i % 97 === 5) records.push({ key: Buffer.from(encodeOffsetCommitKey(g, 'orders', 5)), value: null });
      log.append(encodeBatch({ records, timestamp: T0 }), { assignOffsets: true, leaderEpoch: 0 });
    }
    // group-0's offset of partition 5 is deleted for good: it must stay absent after cleaning.
    log.append(encodeBatch({ records: [{ key: Buffer.from(encodeOffsetCommitKey('group-0', 'orders', 5)), value: null }], timestamp: T0 }), { assignOffsets: true, leaderEpoch: 0 });
    log.roll();

    const load = async (): Promise<Map<string, unknown>> => {
      let loaded = false;
      const gm = new GroupManager({
        log: { leader: () => ({ log, leaderEpoch: 0 }), append: async () => ({ error: null, baseOffset: -1 }) },
        logger: silentLogger,
        partitionExists: () => true,
        offsetsTopicPartitions: () => 1,
        events: { partitionLoaded: () => (loaded = true) },
      });
      gm.onLeadershipChange(0, true, 0);
      const deadline = Date.now() + 20_000;
      while (!loaded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(loaded).toBe(true);
      const out = new Map<string, unknown>();
      for (const g of groups) {
        const r = gm.fetchOffsets(g, null);
        expect(r.error).toBeNull();
        out.set(g, [...r.offsets].sort((a, b) => a.partition - b.partition));
      }
      gm.stop();
      return out;
    };

    const before = await load();
    const sizeBefore = log.size;
    const cleaner = manager(logs, dir);
    const report = await cleaner.cleanOnce();
    expect(report!.recordsRemoved).toBeGreaterThan(2900);
    expect(log.size).toBeLessThan(sizeBefore / 10);
    const after = await load();
    expect(after).toEqual(before);
    expect((after.get('group-0') as { partition: number }[]).map((o) => o.partition)).toEqual([0, 2, 4]);
    expect((after.get('group-1') as { partition: number }[]).map((o) => o.partition)).toEqual([1, 3, 5]);
    await cleaner.stop();
    logs.close(new Map());
  });
});
