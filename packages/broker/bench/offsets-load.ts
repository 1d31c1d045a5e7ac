// How long a new group coordinator takes to load an __consumer_offsets partition that holds N
// offset-commit records (100 groups × 12 partitions, 10 records a batch), as JSON lines: first
// the whole commit history, then after log compaction (cleanup.policy=compact, as samsa creates
// the topic). The active segment is never cleaned, so the bench rolls it first (segment.ms or
// offsets.topic.segment.bytes do that in a broker); without the roll a load replays at most the
// active segment's worth of history (100 MiB) plus the compacted rest.
//
//   npx tsx --conditions=@samsa/source packages/broker/bench/offsets-load.ts [records...]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@samsa/coordinator';
import { Log, createLogConfig, encodeBatch } from '@samsa/log';
import { GroupManager } from '../src/group/group-manager.js';
import { encodeOffsetCommitKey, encodeOffsetCommitValue } from '../src/group/offsets-records.js';

async function run(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-offsets-load-'));
  const log = Log.open({ dir: join(dir, '__consumer_offsets-0'), config: createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 104_857_600 }) });
  try {
    for (let i = 0; i < n; i += 10) {
      const records = [];
      for (let j = i; j < Math.min(i + 10, n); j++) {
        records.push({
          key: Buffer.from(encodeOffsetCommitKey(`group-${j % 100}`, 'orders', j % 12)),
          value: Buffer.from(encodeOffsetCommitValue({ offset: j, leaderEpoch: 0, metadata: '', commitTimestampMs: Date.now(), expireTimestampMs: null })),
        });
      }
      log.append(encodeBatch({ records, timestamp: Date.now() }), { assignOffsets: true, leaderEpoch: 0 });
    }
    const load = async (): Promise<{ offsets: number; seconds: number }> => {
      let loaded: { offsets: number; seconds: number } | null = null;
      const manager = new GroupManager({
        log: { leader: () => ({ log, leaderEpoch: 0 }), append: async () => ({ error: null, baseOffset: -1 }) },
        logger: silentLogger,
        partitionExists: () => true,
        offsetsTopicPartitions: () => 1,
        events: { partitionLoaded: (_p, offsets, _g, seconds) => (loaded = { offsets, seconds }) },
      });
      manager.onLeadershipChange(0, true, 0);
      while (loaded === null) await new Promise((r) => setTimeout(r, 5));
      manager.stop();
      return loaded;
    };
    const before = await load();
    const bytesBefore = log.size;
    log.roll();
    const started = performance.now();
    const pass = log.startCleaning({ firstDirtyOffset: 0 });
    while (pass.step()) {
      // one bounded step at a time, as the broker's cleaner runs it
    }
    const cleanSeconds = (performance.now() - started) / 1000;
    const after = await load();
    console.log(JSON.stringify({
      bench: 'offsets-load', records: n, logBytes: bytesBefore, liveOffsets: before.offsets, loadSeconds: Number(before.seconds.toFixed(3)),
      recordsPerSecond: Math.round(n / before.seconds),
      compacted: { cleanSeconds: Number(cleanSeconds.toFixed(3)), logBytes: log.size, recordsRemoved: pass.stats.recordsRemoved, liveOffsets: after.offsets, loadSeconds: Number(after.seconds.toFixed(3)) },
    }));
  } finally {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) await run(n);
