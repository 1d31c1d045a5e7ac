// `samsa consumer-groups` without a cluster: every malformed command line is a usage error (exit 2,
// nothing printed on stdout, nothing connected — the bootstrap server is a closed port, so a command
// that ran would fail differently and later), and the pure pieces of describe and reset-offsets
// (joining the Admin answers, the table layout, the reset spec) give what the contract says.
import type { GroupDescription, GroupLagStatus, GroupPartitionLag } from '@samsa/client';
import { describeLines, describedGroup, resetSpec, table } from '../src/commands/consumer-groups.js';
import { runCliAsync } from './helpers/run-cli-async.js';

const NOWHERE = ['--bootstrap-server', '127.0.0.1:1'];

describe('consumer-groups usage errors run nothing (exit 2)', () => {
  const cases: [string, string[], RegExp][] = [
    ['no subcommand', ['consumer-groups'], /name a consumer-groups subcommand/],
    ['unknown subcommand option', ['consumer-groups', 'list', '--typo'], /Unknown argument: typo/],
    ['describe without --group', ['consumer-groups', 'describe'], /Missing required argument: group/],
    ['delete without --group', ['consumer-groups', 'delete'], /Missing required argument: group/],
    ['reset without a strategy', ['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't'], /exactly one is needed, got none/],
    ['reset with two strategies', ['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--to-earliest', '--shift-by', '2'], /got --to-earliest and --shift-by/],
    ['reset without --topic or --all-topics', ['consumer-groups', 'reset-offsets', '--group', 'g', '--to-latest'], /--topic or --all-topics: exactly one is needed/],
    ['reset with both --topic and --all-topics', ['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--all-topics', '--to-latest'], /--topic or --all-topics/],
    ['reset to a negative offset', ['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--to-offset', '-1'], /--to-offset takes an integer >= 0, got -1/],
    ['reset to a fractional offset', ['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--to-offset', '2.5'], /--to-offset takes an integer >= 0, got 2.5/],
    ['reset to a non-number', ['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--shift-by', 'lots'], /--shift-by takes an integer, got NaN/],
    ['reset to a bad date-time', ['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--to-datetime', 'yesterday'], /--to-datetime takes an ISO date-time/],
    ['reset with --execute and --dry-run', ['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--to-latest', '--execute', '--dry-run'], /execute and dry-run are mutually exclusive/],
  ];

  test.each(cases)('%s', async (_what, args, message) => {
    const r = await runCliAsync([...args, ...NOWHERE], { timeoutMs: 20_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/API_TIMEOUT|ECONNREFUSED/);
  });
});

describe('the pieces of describe and reset-offsets', () => {
  const description: GroupDescription = {
    groupId: 'billing',
    state: 'Stable',
    protocolType: 'consumer',
    assignor: 'range',
    coordinator: { id: 2, host: '127.0.0.1', port: 9093 },
    members: [
      { memberId: 'c1-aaaa', groupInstanceId: null, clientId: 'c1', host: '/10.0.0.1', assignment: [{ topic: 'orders', partition: 0 }] },
      { memberId: 'c2-bbbb', groupInstanceId: 'i2', clientId: 'c2', host: '/10.0.0.2', assignment: [{ topic: 'orders', partition: 1 }] },
    ],
  };
  const lag: GroupPartitionLag[] = [
    { topic: 'orders', partition: 0, committedOffset: 40, logEndOffset: 50, lag: 10 },
    { topic: 'orders', partition: 1, committedOffset: -1, logEndOffset: 7, lag: 7 },
    { topic: 'refunds', partition: 0, committedOffset: 3, logEndOffset: 3, lag: 0 },
  ];
  const burrow: GroupLagStatus = {
    groupId: 'billing',
    status: 'ERR',
    maxLag: 10,
    totalLag: 10,
    partitions: [
      { topic: 'orders', partition: 0, committedOffset: 40, logEndOffset: 50, lag: 10, status: 'STALL', commitTimestampMs: 1 },
      { topic: 'refunds', partition: 0, committedOffset: 3, logEndOffset: 3, lag: 0, status: 'OK', commitTimestampMs: 1 },
    ],
  };

  test('describe --json joins members, lag and the Burrow status per partition; what is unknown is null', () => {
    expect(describedGroup(description, lag, burrow)).toEqual({
      group: 'billing',
      state: 'Stable',
      status: 'ERR',
      coordinator: { id: 2, host: '127.0.0.1', port: 9093 },
      assignor: 'range',
      members: [
        { consumerId: 'c1-aaaa', groupInstanceId: null, host: '/10.0.0.1', clientId: 'c1', assignment: [{ topic: 'orders', partition: 0 }] },
        { consumerId: 'c2-bbbb', groupInstanceId: 'i2', host: '/10.0.0.2', clientId: 'c2', assignment: [{ topic: 'orders', partition: 1 }] },
      ],
      partitions: [
        { topic: 'orders', partition: 0, currentOffset: 40, logEndOffset: 50, lag: 10, status: 'STALL', consumerId: 'c1-aaaa', host: '/10.0.0.1', clientId: 'c1' },
        { topic: 'orders', partition: 1, currentOffset: null, logEndOffset: 7, lag: 7, status: null, consumerId: 'c2-bbbb', host: '/10.0.0.2', clientId: 'c2' },
        { topic: 'refunds', partition: 0, currentOffset: 3, logEndOffset: 3, lag: 0, status: 'OK', consumerId: null, host: null, clientId: null },
      ],
    });
  });

  test('describe prints the group line, then Kafka columns plus STATUS, aligned, "-" for what is unknown; --members lists members', () => {
    const g = describedGroup(description, lag, burrow);
    expect(describeLines(g, false)).toEqual([
      'Group: billing  State: Stable  Status: ERR  Coordinator: 2 (127.0.0.1:9093)  Assignor: range  Members: 2',
      '',
      'GROUP    TOPIC    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  STATUS  CONSUMER-ID  HOST       CLIENT-ID',
      'billing  orders   0          40              50              10   STALL   c1-aaaa      /10.0.0.1  c1',
      'billing  orders   1          -               7               7    -       c2-bbbb      /10.0.0.2  c2',
      'billing  refunds  0          3               3               0    OK      -            -          -',
    ]);
    expect(describeLines(g, true).slice(2)).toEqual([
      'GROUP    CONSUMER-ID  GROUP-INSTANCE-ID  HOST       CLIENT-ID  #PARTITIONS  ASSIGNMENT',
      'billing  c1-aaaa      -                  /10.0.0.1  c1         1            orders-0',
      'billing  c2-bbbb      i2                 /10.0.0.2  c2         1            orders-1',
    ]);
    const empty = describedGroup({ ...description, state: 'Empty', assignor: '', members: [] }, lag.slice(2), { ...burrow, status: 'OK' });
    expect(describeLines(empty, false).slice(0, 3)).toEqual([
      'Group: billing  State: Empty  Status: OK  Coordinator: 2 (127.0.0.1:9093)  Assignor: -  Members: 0',
      '',
      "Consumer group 'billing' has no active members.",
    ]);
  });

  test('table pads every column but the last to its widest cell', () => {
    expect(table(['A', 'BB'], [['xyz', 1], [null, '']])).toEqual(['A    BB', 'xyz  1', '-    -']);
  });

  test('resetSpec maps each strategy to the Admin spec, --all-topics to no topic list, --to-datetime to ms since the epoch', () => {
    expect(resetSpec({ topic: ['a', 'b'], 'to-earliest': true })).toEqual({ topics: ['a', 'b'], strategy: 'earliest' });
    expect(resetSpec({ 'all-topics': true, 'to-latest': true })).toEqual({ strategy: 'latest' });
    expect(resetSpec({ 'all-topics': true, 'to-offset': 0 })).toEqual({ strategy: 'to-offset', value: 0 });
    expect(resetSpec({ 'all-topics': true, 'shift-by': -5 })).toEqual({ strategy: 'shift-by', value: -5 });
    expect(resetSpec({ 'all-topics': true, 'to-datetime': '2026-12-07T10:00:00Z' })).toEqual({ strategy: 'to-timestamp', value: Date.UTC(2026, 11, 7, 10) });
    expect(resetSpec({ 'all-topics': true, 'to-datetime': '2026-12-07T10:00:00.250+01:00' })).toEqual({ strategy: 'to-timestamp', value: Date.UTC(2026, 11, 7, 9, 0, 0, 250) });
    // Without a zone, local time, as Kafka's tool.
    expect(resetSpec({ 'all-topics': true, 'to-datetime': '2026-12-07T10:00:00' }).value).toBe(new Date(2026, 11, 7, 10).getTime());
  });
});
