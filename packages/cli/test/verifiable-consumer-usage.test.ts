// `samsa verifiable-consumer` without a cluster: malformed command lines are usage errors (exit 2,
// no event printed, nothing connected), and the records_consumed summary follows Kafka's
// onRecordsReceived (per partition count/minOffset/maxOffset, the limit cutting a partition short,
// `count` being the whole poll, commit offsets one past the last counted record).
import type { ConsumerRecord } from '@samsa/client';
import { summarizeBatch } from '../src/commands/verifiable-consumer.js';
import { runCliAsync } from './helpers/run-cli-async.js';

const NOWHERE = ['--bootstrap-server', '127.0.0.1:1'];

describe('verifiable-consumer usage errors run nothing (exit 2)', () => {
  const cases: [string, string[], RegExp][] = [
    ['no --topic', ['verifiable-consumer', '--group-id', 'g'], /Missing required argument: topic/],
    ['no --group-id', ['verifiable-consumer', '--topic', 't'], /Missing required argument: group-id/],
    ['bad --max-messages', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--max-messages', '-2'], /--max-messages must be an integer >= -1/],
    ['fractional --max-messages', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--max-messages', '1.5'], /--max-messages must be an integer >= -1/],
    ['bad --session-timeout', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--session-timeout', '0'], /--session-timeout must be a positive integer/],
    ['bad --reset-policy', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--reset-policy', 'middle'], /Invalid values/],
    ['malformed --consumer-property', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--consumer-property', 'fetch.min.bytes'], /--consumer-property must be key=value/],
    ['unknown option', ['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--typo'], /Unknown argument: typo/],
  ];

  test.each(cases)('%s', async (_what, args, message) => {
    const r = await runCliAsync([...args, ...NOWHERE], { timeoutMs: 20_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
  });

  test('an unknown assignor is a config error: exit 1 with its code, before startup_complete', async () => {
    const r = await runCliAsync(['verifiable-consumer', '--topic', 't', '--group-id', 'g', '--assignment-strategy', 'fastest', ...NOWHERE], { timeoutMs: 20_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr).toMatch(/^samsa verifiable-consumer: INVALID_CONFIG: .*unknown assignor "fastest"/);
  });
});

describe("records_consumed follows Kafka's summary", () => {
  const rec = (partition: number, offset: number): ConsumerRecord => ({
    topic: 't', partition, offset, timestamp: 0, timestampType: 'CreateTime', key: null, value: Buffer.from(String(offset)), headers: [], leaderEpoch: 0,
  });
  const poll = [rec(1, 10), rec(1, 11), rec(0, 5), rec(1, 12), rec(0, 6)];

  test('without a limit: one summary per partition in order of appearance, offsets one past the last record', () => {
    const b = summarizeBatch(poll, 0, -1, 42);
    expect(b.event).toEqual({
      timestamp: 42,
      name: 'records_consumed',
      count: 5,
      partitions: [
        { topic: 't', partition: 1, count: 3, minOffset: 10, maxOffset: 12 },
        { topic: 't', partition: 0, count: 2, minOffset: 5, maxOffset: 6 },
      ],
    });
    expect(b.offsets).toEqual([
      { topic: 't', partition: 1, offset: 13 },
      { topic: 't', partition: 0, offset: 7 },
    ]);
    expect(b.counted).toHaveLength(5);
  });

  test('--max-messages cuts the partition that crosses it and drops the rest; count stays the whole poll (as Kafka prints it)', () => {
    const b = summarizeBatch(poll, 8, 10, 1);
    expect(b.event.count).toBe(5);
    expect(b.event.partitions).toEqual([{ topic: 't', partition: 1, count: 2, minOffset: 10, maxOffset: 11 }]);
    expect(b.offsets).toEqual([{ topic: 't', partition: 1, offset: 12 }]);
    expect(b.counted.map((r) => r.offset)).toEqual([10, 11]);
    expect(summarizeBatch(poll, 10, 10, 1).event.partitions).toEqual([]);
  });
});
