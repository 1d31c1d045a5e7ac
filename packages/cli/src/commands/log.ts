// `samsa log dump <segment-file>`: prints every batch of a segment, like Kafka's
// kafka-dump-log.sh. Exits non-zero when any batch is invalid (bad CRC, corrupt records, or
// bytes at the end that are not a whole batch), so scripts can use it as a checker.

import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import {
  ATTR_CONTROL, ATTR_TRANSACTIONAL, LOG_OVERHEAD, compressionOf, decodeBatch, isCrcValid, readBatchHeader,
  timestampTypeOf, type DecodedRecord,
} from '@samsa/log';
import type { CliContext } from '../context.js';

export interface DumpedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

export interface DumpedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  timestampType: string;
  producerId: string;
  producerEpoch: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  isTransactional: boolean;
  isControl: boolean;
  magic: number;
  compression: string;
  crc: number;
  crcValid: boolean;
  records?: DumpedRecord[];
  error?: string;
}

/** Bytes at the end of a segment that do not form a batch (a torn write, or garbage). */
export interface DumpedTrailer {
  position: number;
  invalidBytes: number;
  error: string;
}

export interface SegmentDump {
  batches: DumpedBatch[];
  trailer?: DumpedTrailer;
  valid: boolean;
}

function text(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8');
}

function dumpRecords(records: DecodedRecord[]): DumpedRecord[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: text(r.key),
    value: text(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
  }));
}

/** Walks a segment's bytes batch by batch. Never throws on bad bytes: it reports them. */
export function dumpSegment(buf: Buffer, printRecords: boolean): SegmentDump {
  const batches: DumpedBatch[] = [];
  let pos = 0;
  let valid = true;
  while (pos < buf.length) {
    let header;
    try {
      header = readBatchHeader(buf, pos);
    } catch (err) {
      return { batches, valid: false, trailer: { position: pos, invalidBytes: buf.length - pos, error: (err as Error).message } };
    }
    const size = header.batchLength + LOG_OVERHEAD;
    if (pos + size > buf.length) {
      const error = `truncated batch: ${buf.length - pos} of ${size} bytes present`;
      return { batches, valid: false, trailer: { position: pos, invalidBytes: buf.length - pos, error } };
    }
    const crcValid = isCrcValid(buf, pos);
    let compression: string;
    try {
      compression = compressionOf(header.attributes);
    } catch {
      compression = `unknown(${header.attributes & 0x07})`;
    }
    const batch: DumpedBatch = {
      position: pos,
      size,
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      count: header.recordCount,
      firstTimestamp: header.baseTimestamp,
      maxTimestamp: header.maxTimestamp,
      timestampType: timestampTypeOf(header.attributes),
      producerId: header.producerId.toString(),
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      isTransactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
      isControl: (header.attributes & ATTR_CONTROL) !== 0,
      magic: header.magic,
      compression,
      crc: header.crc,
      crcValid,
    };
    if (!crcValid) {
      valid = false;
    } else if (printRecords) {
      try {
        batch.records = dumpRecords(decodeBatch(buf.subarray(pos, pos + size)).records);
      } catch (err) {
        batch.error = (err as Error).message;
        valid = false;
      }
    }
    batches.push(batch);
    pos += size;
  }
  return { batches, valid };
}

function formatBatch(b: DumpedBatch): string {
  const ts = b.timestampType === 'log-append' ? 'LogAppendTime' : 'CreateTime';
  return (
    `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.count} ` +
    `baseSequence: ${b.baseSequence} producerId: ${b.producerId} producerEpoch: ${b.producerEpoch} ` +
    `partitionLeaderEpoch: ${b.partitionLeaderEpoch} isTransactional: ${b.isTransactional} isControl: ${b.isControl} ` +
    `position: ${b.position} firstTimestamp: ${b.firstTimestamp} ${ts}: ${b.maxTimestamp} size: ${b.size} ` +
    `magic: ${b.magic} compresscodec: ${b.compression} crc: ${b.crc} isvalid: ${b.crcValid}` +
    (b.error ? ` error: ${b.error}` : '')
  );
}

function formatRecord(r: DumpedRecord): string {
  const headers = r.headers.map((h) => `${h.key}=${h.value ?? 'null'}`).join(',');
  return `| offset: ${r.offset} timestamp: ${r.timestamp} key: ${r.key ?? 'null'} headers: [${headers}] payload: ${r.value ?? 'null'}`;
}

export function registerLogCommands(y: Argv, ctx: CliContext): void {
  y.command('log', 'inspect log segments on disk', (log) =>
    log
      .command(
        'dump <segment-file>',
        'print every batch of a segment file (offsets, timestamps, producer, compression, CRC validity)',
        (cmd) =>
          cmd
            .positional('segment-file', { type: 'string', demandOption: true, describe: 'a .log segment file' })
            .option('print-records', { type: 'boolean', default: false, describe: 'also print keys, values and headers' })
            .option('json', { type: 'boolean', default: false, describe: 'one JSON object per batch per line' }),
        (args) => {
          const file = args['segment-file'] as string;
          let buf: Buffer;
          try {
            buf = readFileSync(file);
          } catch (err) {
            ctx.io.err(`samsa log dump: cannot read ${file}: ${(err as Error).message}`);
            ctx.exitCode = 1;
            return;
          }
          const dump = dumpSegment(buf, args['print-records'] === true);
          if (!args.json) ctx.io.out(`Dumping ${file}`);
          for (const b of dump.batches) {
            if (args.json) {
              ctx.io.out(JSON.stringify(b));
            } else {
              ctx.io.out(formatBatch(b));
              for (const r of b.records ?? []) ctx.io.out(formatRecord(r));
            }
          }
          if (dump.trailer) {
            const t = dump.trailer;
            if (args.json) ctx.io.out(JSON.stringify({ invalidBytes: t.invalidBytes, position: t.position, error: t.error }));
            else ctx.io.out(`Found ${t.invalidBytes} invalid bytes at position ${t.position} of ${file}: ${t.error}`);
          }
          if (!dump.valid) ctx.exitCode = 1;
        },
      )
      .demandCommand(1, 'name a log subcommand (dump)'),
  );
}
