// The broker's log directory applies retention to a log only once its topic's config is known:
// a log found on disk at start runs on the broker default (cleanup.policy=delete, 7 days) until
// LeaderAndIsr brings its config, and judged by that a compacted log's old but live segments
// (committed offsets in __consumer_offsets) would be deleted.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@samsa/coordinator';
import { createLogConfig, encodeBatch } from '@samsa/log';
import { LogManager } from '../../src/server/log-manager.js';

const DAY = 86_400_000;

test('retention waits for the topic config of a log found on disk, then follows it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-log-manager-'));
  try {
    let now = 1_760_000_000_000;
    const compact = createLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 1024 });
    const first = new LogManager({ dir, logger: silentLogger, defaultConfig: createLogConfig(), clock: () => now });
    first.open();
    const log = first.getOrCreate('__consumer_offsets', 0, compact);
    for (let i = 0; i < 40; i++) {
      log.append(encodeBatch({ records: [{ key: Buffer.from(`k${i}`), value: Buffer.from('v') }], timestamp: now }), { assignOffsets: true });
    }
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(2);
    first.close(new Map());

    now += 30 * DAY;
    const second = new LogManager({ dir, logger: silentLogger, defaultConfig: createLogConfig({ 'segment.bytes': 1024 }), clock: () => now });
    second.open();
    const reopened = second.get('__consumer_offsets', 0)!;
    expect(reopened.config['cleanup.policy']).toBe('delete');
    second.applyRetention(() => undefined);
    expect(reopened.segmentCount).toBe(segments);
    // The topic config arrives: compact only, so time retention does not apply either.
    second.getOrCreate('__consumer_offsets', 0, compact);
    second.applyRetention(() => undefined);
    expect(reopened.segmentCount).toBe(segments);
    // A delete-policy topic's config makes its old segments go.
    second.getOrCreate('__consumer_offsets', 0, createLogConfig({ 'segment.bytes': 1024 }));
    second.applyRetention(() => undefined);
    expect(reopened.segmentCount).toBe(1);
    second.close(new Map());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
