// How long a new group coordinator takes to load an __consumer_offsets partition that holds N
// offset-commit records (100 groups × 12 partitions, 10 records a batch), as JSON lines. samsa's
// log has no compaction yet, so a partition keeps every commit ever made and a load replays all
// of them: this is the time a failover answers COORDINATOR_LOAD_IN_PROGRESS.
//
//   npx tsx --conditions=@samsa/source packages/broker/bench/offsets-load.ts [records...]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@samsa/coordinator';
import { Log, encodeBatch } from '@samsa/log';
import { GroupManager } from '../src/group/group-manager.js';
import { encodeOffsetCommitKey, encodeOffsetCommitValue } from '../src/group/offsets-records.js';

async function run(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-offsets-load-'));
  const log = Log.open({ dir: join(dir, '__consumer_offsets-0') });
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
    const { offsets, seconds } = loaded as { offsets: number; seconds: number };
    console.log(JSON.stringify({ bench: 'offsets-load', records: n, logBytes: log.size, liveOffsets: offsets, loadSeconds: Number(seconds.toFixed(3)), recordsPerSecond: Math.round(n / seconds) }));
    manager.stop();
  } finally {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) await run(n);
