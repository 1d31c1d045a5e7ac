// `samsa log dump`: prints each batch of a segment and exits non-zero on any invalid batch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBatch } from '@samsa/log';
import { runCli } from './run-cli.js';

const T0 = 1_700_000_000_000;

function segmentBytes(): Buffer {
  const a = encodeBatch({
    baseOffset: 0,
    timestamp: T0,
    records: [
      { key: Buffer.from('k0'), value: Buffer.from('hello'), headers: [{ key: 'h', value: Buffer.from('v') }] },
      { key: null, value: Buffer.from('world'), timestamp: T0 + 5 },
    ],
  });
  const b = encodeBatch({
    baseOffset: 2,
    timestamp: T0 + 10,
    compression: 'gzip',
    producerId: 42n,
    producerEpoch: 1,
    baseSequence: 0,
    records: [{ value: Buffer.from('zipped') }, { value: null }, { key: Buffer.from('x'), value: Buffer.from('y') }],
  });
  return Buffer.concat([a, b]);
}

describe('samsa log dump', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-dump-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, bytes: Buffer): string {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  }

  test('--json prints one object per batch with the contract fields', () => {
    const r = runCli(['log', 'dump', '--json', write('00000000000000000000.log', segmentBytes())]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      baseOffset: 0, lastOffset: 1, count: 2, firstTimestamp: T0, maxTimestamp: T0 + 5,
      producerId: '-1', compression: 'none', crcValid: true,
    });
    expect(lines[1]).toMatchObject({
      baseOffset: 2, lastOffset: 4, count: 3, firstTimestamp: T0 + 10, maxTimestamp: T0 + 10,
      producerId: '42', compression: 'gzip', crcValid: true,
    });
    expect(lines[0].records).toBeUndefined();
  });

  test('--print-records shows keys, values and headers, also of compressed batches', () => {
    const r = runCli(['log', 'dump', '--json', '--print-records', write('records.log', segmentBytes())]);
    expect(r.status).toBe(0);
    const [a, b] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(a.records).toEqual([
      { offset: 0, timestamp: T0, key: 'k0', value: 'hello', headers: [{ key: 'h', value: 'v' }] },
      { offset: 1, timestamp: T0 + 5, key: null, value: 'world', headers: [] },
    ]);
    expect(b.records.map((x: { value: string | null }) => x.value)).toEqual(['zipped', null, 'y']);
  });

  test('the text form reads like kafka-dump-log', () => {
    const r = runCli(['log', 'dump', '--print-records', write('text.log', segmentBytes())]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('baseOffset: 0 lastOffset: 1 count: 2');
    expect(r.stdout).toContain('compresscodec: gzip');
    expect(r.stdout).toContain('isvalid: true');
    expect(r.stdout).toContain('| offset: 0');
    expect(r.stdout).toContain('payload: hello');
  });

  test('a flipped bit makes the batch invalid and the exit code non-zero', () => {
    const bytes = segmentBytes();
    bytes[bytes.length - 3] ^= 0x10; // inside the second batch's CRC-covered body
    const r = runCli(['log', 'dump', '--json', write('flipped.log', bytes)]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.crcValid)).toEqual([true, false]);
  });

  test('a torn tail is reported as invalid bytes and fails the dump', () => {
    const bytes = segmentBytes();
    const r = runCli(['log', 'dump', '--json', write('torn.log', bytes.subarray(0, bytes.length - 7))]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0].crcValid).toBe(true);
    expect(lines[1].invalidBytes).toBeGreaterThan(0);
  });

  test('a missing file is a clear error', () => {
    const r = runCli(['log', 'dump', join(dir, 'nope.log')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot read');
  });
});
