// Idempotent-producer state: Kafka's sequence and epoch rules, duplicates answered with their
// first offsets, sequence wrap-around, limits (eviction, expiration), and a property: the state
// rebuilt from the log's batch headers equals the state the leader built while appending.

import fc from 'fast-check';
import { encodeBatch, readBatchHeader } from '@samsa/log';
import { ReplicaError } from '../../src/replica/errors.js';
import {
  BATCHES_RETAINED_PER_PRODUCER,
  MAX_SEQUENCE,
  type ProducerBatch,
  type ProducerBatchHeader,
  ProducerStateManager,
  isNextSequence,
  lastSequenceOf,
  producerBatchOf,
  rebuildProducerState,
} from '../../src/replica/producer-state.js';

const SEED = Number(process.env.SAMSA_TEST_SEED ?? 20_261_202);

function batch(producerId: bigint, producerEpoch: number, firstSeq: number, count: number, firstOffset: number, timestampMs = 1_000): ProducerBatch {
  return { producerId, producerEpoch, firstSeq, lastSeq: lastSequenceOf(firstSeq, count - 1), firstOffset, lastOffset: firstOffset + count - 1, timestampMs };
}

describe('ProducerStateManager.check', () => {
  test('an unknown producer starts at sequence 0; anything else is UNKNOWN_PRODUCER_ID', () => {
    const s = new ProducerStateManager();
    expect(s.check(7n, 0, 0, 4)).toEqual({ kind: 'append' });
    expect(s.check(7n, 0, 5, 9)).toMatchObject({ kind: 'rejected', error: { type: 'UNKNOWN_PRODUCER_ID' } });
    expect(s.check(-1n, -1, -1, -1)).toEqual({ kind: 'append' }); // not an idempotent batch
  });

  test('in sequence appends, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, a retry of one of the last five is a duplicate with its offsets', () => {
    const s = new ProducerStateManager();
    let offset = 100;
    for (let i = 0; i < 7; i++) {
      expect(s.check(7n, 0, i * 2, i * 2 + 1)).toEqual({ kind: 'append' });
      s.update(batch(7n, 0, i * 2, 2, offset));
      offset += 2 + 3; // other producers' records in between
    }
    expect(s.get(7n)!.batches).toHaveLength(BATCHES_RETAINED_PER_PRODUCER);
    expect(s.check(7n, 0, 14, 15)).toEqual({ kind: 'append' });
    expect(s.check(7n, 0, 15, 16)).toMatchObject({ kind: 'rejected', error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(s.check(7n, 0, 16, 16)).toMatchObject({ kind: 'rejected', error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(s.check(7n, 0, 12, 13)).toEqual({ kind: 'duplicate', firstOffset: 130, lastOffset: 131 });
    expect(s.check(7n, 0, 4, 5)).toEqual({ kind: 'duplicate', firstOffset: 110, lastOffset: 111 }); // the oldest retained
    expect(s.check(7n, 0, 2, 3)).toMatchObject({ kind: 'rejected', error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } }); // too old to recognise
    expect(s.check(7n, 0, 12, 12)).toMatchObject({ kind: 'rejected', error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } }); // overlaps, not the same batch
  });

  test('epochs: a newer epoch starts at 0 and forgets the old batches, an older one is INVALID_PRODUCER_EPOCH', () => {
    const s = new ProducerStateManager();
    s.update(batch(7n, 3, 0, 5, 0));
    expect(s.check(7n, 2, 5, 5)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_PRODUCER_EPOCH' } });
    expect(s.check(7n, 4, 5, 5)).toMatchObject({ kind: 'rejected', error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(s.check(7n, 4, 0, 0)).toEqual({ kind: 'append' });
    s.update(batch(7n, 4, 0, 1, 5));
    expect(s.get(7n)).toMatchObject({ producerEpoch: 4, lastSeq: 0, batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 5 }] });
    expect(s.check(7n, 4, 0, 4)).toMatchObject({ kind: 'rejected' }); // the old epoch's batch is not a duplicate any more
    expect(s.check(7n, 3, 0, 4)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_PRODUCER_EPOCH' } });
  });

  test('sequences wrap from 2^31 - 1 to 0', () => {
    expect(lastSequenceOf(MAX_SEQUENCE - 1, 3)).toBe(1);
    expect(lastSequenceOf(MAX_SEQUENCE, 0)).toBe(MAX_SEQUENCE);
    expect(lastSequenceOf(5, 2)).toBe(7);
    expect(isNextSequence(MAX_SEQUENCE, 0)).toBe(true);
    expect(isNextSequence(MAX_SEQUENCE - 1, MAX_SEQUENCE)).toBe(true);
    expect(isNextSequence(3, 5)).toBe(false);
    const s = new ProducerStateManager();
    s.update({ producerId: 1n, producerEpoch: 0, firstSeq: MAX_SEQUENCE - 1, lastSeq: 1, firstOffset: 0, lastOffset: 3, timestampMs: 0 });
    expect(s.check(1n, 0, 2, 2)).toEqual({ kind: 'append' });
    expect(s.check(1n, 0, MAX_SEQUENCE - 1, 1)).toEqual({ kind: 'duplicate', firstOffset: 0, lastOffset: 3 });
  });

  test('malformed batches are INVALID_RECORD; bad update arguments are ReplicaErrors', () => {
    const s = new ProducerStateManager();
    expect(s.check(-5n, 0, 0, 0)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_RECORD' } });
    expect(s.check(1n, -1, 0, 0)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_RECORD' } });
    expect(s.check(1n, 40_000, 0, 0)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_RECORD' } });
    expect(s.check(1n, 0, -1, 3)).toMatchObject({ kind: 'rejected', error: { type: 'INVALID_RECORD' } });
    expect(() => s.update({ ...batch(1n, 0, 0, 1, 5), lastOffset: 4 })).toThrow(ReplicaError);
    expect(() => s.update({ ...batch(1n, 0, 0, 1, 5), producerId: -1n })).toThrow(ReplicaError);
    expect(() => new ProducerStateManager({ maxProducers: 0 })).toThrow(/maxProducers/);
  });
});

describe('limits', () => {
  test('a new producer beyond maxProducers evicts the one with the oldest last timestamp', () => {
    const s = new ProducerStateManager({ maxProducers: 3 });
    s.update(batch(1n, 0, 0, 1, 0, 500));
    s.update(batch(2n, 0, 0, 1, 1, 100));
    s.update(batch(3n, 0, 0, 1, 2, 300));
    s.update(batch(2n, 0, 1, 1, 3, 900)); // 2 is active again
    s.update(batch(4n, 0, 0, 1, 4, 950));
    expect(s.size).toBe(3);
    expect(s.get(3n)).toBeUndefined();
    expect([s.get(1n), s.get(2n), s.get(4n)].every((e) => e !== undefined)).toBe(true);
  });

  test('producers silent for producer.id.expiration.ms are forgotten', () => {
    const s = new ProducerStateManager({ producerIdExpirationMs: 1_000 });
    s.update(batch(1n, 0, 0, 1, 0, 100));
    s.update(batch(2n, 0, 0, 1, 1, 600));
    expect(s.removeExpired(1_099)).toBe(0);
    expect(s.removeExpired(1_100)).toBe(1);
    expect(s.get(1n)).toBeUndefined();
    expect(s.check(1n, 0, 1, 1)).toMatchObject({ kind: 'rejected', error: { type: 'UNKNOWN_PRODUCER_ID' } });
  });
});

describe('rebuilding from the log', () => {
  test('reads real batch headers from @samsa/log (lastOffsetDelta gives the last sequence)', () => {
    const records = [{ value: Buffer.from('a') }, { value: Buffer.from('b') }, { value: Buffer.from('c') }];
    const bytes = encodeBatch({ records, baseOffset: 40, timestamp: 5_000, producerId: 9n, producerEpoch: 2, baseSequence: 10 });
    const header = readBatchHeader(bytes);
    expect(producerBatchOf(header)).toEqual({ producerId: 9n, producerEpoch: 2, firstSeq: 10, lastSeq: 12, firstOffset: 40, lastOffset: 42, timestampMs: 5_000 });
    const plain = readBatchHeader(encodeBatch({ records, baseOffset: 43, timestamp: 5_000 }));
    expect(producerBatchOf(plain)).toBeNull();
    const s = rebuildProducerState([header, plain], 6_000);
    expect(s.check(9n, 2, 10, 12)).toEqual({ kind: 'duplicate', firstOffset: 40, lastOffset: 42 });
    expect(s.check(9n, 2, 13, 13)).toEqual({ kind: 'append' });
    expect(rebuildProducerState([header], 5_000 + 86_400_000).size).toBe(0); // expired by now
  });

  test('property: the state rebuilt from the appended batches equals the leader\'s live state', () => {
    type Action = { producer: number; kind: 'next' | 'retry' | 'bump' | 'gap' | 'stale-epoch'; count: number; back: number };
    const action = fc.record({
      producer: fc.integer({ min: 1, max: 4 }),
      kind: fc.constantFrom<Action['kind']>('next', 'next', 'next', 'retry', 'retry', 'bump', 'gap', 'stale-epoch'),
      count: fc.integer({ min: 1, max: 4 }),
      back: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), fc.integer({ min: 2, max: 5 }), (actions, maxProducers) => {
        const live = new ProducerStateManager({ maxProducers });
        const log: ProducerBatchHeader[] = [];
        const clients = new Map<number, { epoch: number; nextSeq: number; sent: ProducerBatch[] }>();
        let time = 0;
        for (const a of actions) {
          time += 10;
          const c = clients.get(a.producer) ?? { epoch: 0, nextSeq: 0, sent: [] };
          clients.set(a.producer, c);
          const pid = BigInt(a.producer);
          let epoch = c.epoch;
          let firstSeq = c.nextSeq;
          let count = a.count;
          if (a.kind === 'bump') {
            epoch = ++c.epoch;
            firstSeq = c.nextSeq = 0;
            c.sent = [];
          } else if (a.kind === 'gap') {
            firstSeq = c.nextSeq + 1 + a.back;
          } else if (a.kind === 'stale-epoch') {
            if (c.epoch === 0) continue;
            epoch = c.epoch - 1;
          } else if (a.kind === 'retry') {
            const original = c.sent[c.sent.length - 1 - a.back];
            if (original === undefined) continue;
            firstSeq = original.firstSeq;
            count = original.lastOffset - original.firstOffset + 1;
          }
          const lastSeq = lastSequenceOf(firstSeq, count - 1);
          const result = live.check(pid, epoch, firstSeq, lastSeq);
          const known = live.get(pid);
          if (a.kind === 'retry' && known !== undefined && known.producerEpoch === epoch && a.back < BATCHES_RETAINED_PER_PRODUCER) {
            const original = c.sent[c.sent.length - 1 - a.back]!;
            expect(result).toEqual({ kind: 'duplicate', firstOffset: original.firstOffset, lastOffset: original.lastOffset });
          }
          if (a.kind === 'gap' || a.kind === 'stale-epoch') expect(result.kind).toBe('rejected');
          if (result.kind !== 'append') continue;
          const firstOffset = log.length === 0 ? 0 : log[log.length - 1]!.baseOffset + log[log.length - 1]!.lastOffsetDelta + 1;
          const header: ProducerBatchHeader = { baseOffset: firstOffset, lastOffsetDelta: count - 1, maxTimestamp: time, producerId: pid, producerEpoch: epoch, baseSequence: firstSeq };
          log.push(header);
          const appended = producerBatchOf(header)!;
          live.update(appended);
          if (a.kind !== 'retry') {
            c.sent.push(appended);
            c.nextSeq = lastSeq + 1;
          }
        }
        const rebuilt = rebuildProducerState(log, time, { maxProducers });
        expect(rebuilt.size).toBe(live.size);
        for (let p = 1; p <= 4; p++) expect(rebuilt.get(BigInt(p))).toEqual(live.get(BigInt(p)));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
