// Reading one partition's fetched batches: records below the fetch offset are skipped (a fetch
// returns whole batches), handed out in pieces, compressed and empty and control batches
// handled, a partial last batch left for the next fetch, and a corrupt batch reported after the
// records before it.

import { OFFSET_CRC } from '@samsa/log';
import { ClientError } from '../src/client-error.js';
import { CompletedFetch } from '../src/consumer/completed-fetch.js';
import { KafkaError } from '../src/protocol/errors.js';
import { batch, emptyBatch, offsets, values } from './helpers/batches.js';

const tp = { topic: 't', partition: 0 };
const fetchOf = (fetchOffset: number, ...parts: Buffer[]): CompletedFetch => new CompletedFetch(tp, fetchOffset, Buffer.concat(parts), 100, 0);

describe('CompletedFetch', () => {
  test('skips the records of the first batch that lie below the fetch offset', () => {
    const cf = fetchOf(12, batch(10, ['a', 'b', 'c', 'd']), batch(14, ['e']));
    const records = cf.fetchRecords(100);
    expect(offsets(records)).toEqual([12, 13, 14]);
    expect(values(records)).toEqual(['c', 'd', 'e']);
    expect(cf.nextFetchOffset).toBe(15);
    expect(cf.isConsumed).toBe(true);
  });

  test('a batch entirely below the fetch offset is skipped without decoding', () => {
    const broken = batch(0, ['x', 'y']);
    broken[OFFSET_CRC] ^= 0xff; // would fail if it were decoded
    const cf = fetchOf(2, broken, batch(2, ['z']));
    expect(values(cf.fetchRecords(10))).toEqual(['z']);
  });

  test('hands records out in pieces, advancing the next fetch offset record by record', () => {
    const cf = fetchOf(0, batch(0, ['a', 'b', 'c']), batch(3, ['d', 'e']));
    expect(offsets(cf.fetchRecords(2))).toEqual([0, 1]);
    expect(cf.nextFetchOffset).toBe(2);
    expect(cf.isConsumed).toBe(false);
    expect(offsets(cf.fetchRecords(2))).toEqual([2, 3]);
    expect(offsets(cf.fetchRecords(2))).toEqual([4]);
    expect(cf.nextFetchOffset).toBe(5);
    expect(cf.isConsumed).toBe(true);
    expect(cf.fetchRecords(2)).toEqual([]);
  });

  test('gzip batches decode like plain ones, with keys, headers and the batch leader epoch', () => {
    const gz = batch(5, ['p', 'q'], { compression: 'gzip', partitionLeaderEpoch: 3, records: [
      { key: Buffer.from('k'), value: Buffer.from('p'), headers: [{ key: 'h', value: Buffer.from('1') }], timestamp: 7 },
      { key: null, value: Buffer.from('q'), timestamp: 8 },
    ] });
    const records = fetchOf(6, gz).fetchRecords(10);
    expect(records).toEqual([
      { topic: 't', partition: 0, offset: 6, timestamp: 8, timestampType: 'CreateTime', key: null, value: Buffer.from('q'), headers: [], leaderEpoch: 3 },
    ]);
    const all = fetchOf(5, gz).fetchRecords(10);
    expect(all[0]!.headers).toEqual([{ key: 'h', value: Buffer.from('1') }]);
  });

  test('log-append time batches report LogAppendTime', () => {
    const b = batch(0, ['a'], { timestampType: 'log-append', logAppendTime: 99_999 });
    expect(fetchOf(0, b).fetchRecords(1)[0]).toMatchObject({ timestamp: 99_999, timestampType: 'LogAppendTime' });
  });

  test('an empty batch (compacted away) moves the position past its last offset', () => {
    const cf = fetchOf(20, emptyBatch(20, 4), batch(25, ['after']));
    expect(offsets(cf.fetchRecords(10))).toEqual([25]);
    const only = fetchOf(20, emptyBatch(20, 4));
    expect(only.fetchRecords(10)).toEqual([]);
    expect(only.nextFetchOffset).toBe(25);
  });

  test('control batches are not returned but advance the position', () => {
    const marker = batch(3, ['marker'], { isControl: true, isTransactional: true });
    const cf = fetchOf(0, batch(0, ['a', 'b', 'c'], { isTransactional: true }), marker, batch(4, ['d']));
    expect(offsets(cf.fetchRecords(10))).toEqual([0, 1, 2, 4]);
    const onlyMarker = fetchOf(3, marker);
    expect(onlyMarker.fetchRecords(10)).toEqual([]);
    expect(onlyMarker.nextFetchOffset).toBe(4);
  });

  test('a partial batch at the end is left for the next fetch', () => {
    const whole = batch(0, ['a']);
    const partial = batch(1, ['b', 'c']).subarray(0, 40);
    const cf = fetchOf(0, whole, partial);
    expect(offsets(cf.fetchRecords(10))).toEqual([0]);
    expect(cf.nextFetchOffset).toBe(1);
    expect(cf.isConsumed).toBe(true);
  });

  test('bytes without a single complete batch are an error, not an endless loop', () => {
    const cf = fetchOf(0, batch(0, ['a', 'b']).subarray(0, 70));
    expect(() => cf.fetchRecords(10)).toThrow(ClientError);
    expect(() => cf.fetchRecords(10)).toThrow(/no complete record batch/);
  });

  test('an empty response yields nothing and keeps the position', () => {
    const cf = fetchOf(7);
    expect(cf.fetchRecords(10)).toEqual([]);
    expect(cf.nextFetchOffset).toBe(7);
    expect(cf.isConsumed).toBe(true);
  });

  test('a corrupt batch: records before it come first, then CORRUPT_MESSAGE, and the position stays before it', () => {
    const bad = batch(2, ['x']);
    bad[bad.length - 1] ^= 0x01; // payload byte: CRC mismatch
    const cf = fetchOf(0, batch(0, ['a', 'b']), bad);
    expect(offsets(cf.fetchRecords(10))).toEqual([0, 1]);
    let err: unknown;
    try {
      cf.fetchRecords(10);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).type).toBe('CORRUPT_MESSAGE');
    expect((err as KafkaError).message).toContain('t-0 at offset 2');
    expect(cf.nextFetchOffset).toBe(2);
    expect(() => cf.fetchRecords(10)).toThrow(KafkaError); // again until the application seeks
  });

  test('garbage (bad magic, negative length) is CORRUPT_MESSAGE, never a crash', () => {
    const b = batch(0, ['a']);
    b.writeInt8(1, 16);
    expect(() => fetchOf(0, b).fetchRecords(1)).toThrow(KafkaError);
    const neg = batch(0, ['a']);
    neg.writeInt32BE(-5, 8);
    expect(() => fetchOf(0, neg).fetchRecords(1)).toThrow(KafkaError);
  });
});
