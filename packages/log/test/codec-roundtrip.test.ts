import fc from 'fast-check';
import { LOG_OVERHEAD, batchPositions, checkBatch } from '../src/batch-header.js';
import { encodeBatch } from '../src/codec.js';
import { decodeBatch, forEachRecord, type DecodedRecord } from '../src/record-decoder.js';
import { SEED, batchInputArb, expectedHeader, expectedRecords } from './codec-test-helpers.js';

describe('codec round trip (property-based)', () => {
  test('decodeBatch(encodeBatch(x)) returns x: records, header fields and flags, for none and gzip', () => {
    fc.assert(
      fc.property(batchInputArb, (input) => {
        const buf = encodeBatch(input);
        const batch = decodeBatch(buf);
        expect(batch.records).toEqual(expectedRecords(input));
        expect(batch.header).toEqual({
          ...expectedHeader(input),
          batchLength: buf.length - LOG_OVERHEAD,
          crc: checkBatch(buf).crc,
        });
        expect(batch.compression).toBe(input.compression);
        expect(batch.timestampType).toBe(input.timestampType);
        expect(batch.isTransactional).toBe(input.isTransactional);
        expect(batch.isControl).toBe(input.isControl);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('forEachRecord visits exactly the records decodeBatch returns, in order', () => {
    fc.assert(
      fc.property(batchInputArb, (input) => {
        const buf = encodeBatch(input);
        const seen: DecodedRecord[] = [];
        const info = forEachRecord(buf, 0, (r) => seen.push(r));
        const { records, ...whole } = decodeBatch(buf);
        expect(seen).toEqual(records);
        expect(info).toEqual(whole);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  test('encoding is canonical: re-encoding the decoded records reproduces the bytes', () => {
    fc.assert(
      fc.property(batchInputArb.filter((i) => i.timestampType === 'create'), (input) => {
        const buf = encodeBatch(input);
        const batch = decodeBatch(buf);
        const again = encodeBatch({
          ...input,
          records: batch.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
        });
        expect(again.equals(buf)).toBe(true);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  test('batches concatenated in one buffer decode at their positions', () => {
    fc.assert(
      fc.property(fc.array(batchInputArb, { minLength: 1, maxLength: 5 }), (inputs) => {
        const bufs = inputs.map((i) => encodeBatch(i));
        const all = Buffer.concat(bufs);
        const positions = [...batchPositions(all)];
        expect(positions.map((p) => p.size)).toEqual(bufs.map((b) => b.length));
        positions.forEach(({ pos }, k) => {
          expect(decodeBatch(all, pos).records).toEqual(expectedRecords(inputs[k]!));
        });
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
