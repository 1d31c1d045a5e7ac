// Durable Raft state in `level`: the hard state, the latest snapshot and the log entries after
// it. The Raft core decides what to persist (Ready); this adapter only writes it atomically
// (one level batch) and, when the Ready says so, synced to disk before the node sends any
// message of that Ready — that is what makes a vote or an append acknowledgement durable.
//
// A hard state that differs from the stored one only in its commit index (Ready.mustSync false)
// is not written on its own: it rides along with the next batch (or close()). Raft needs no
// durable commit index — a restarted node relearns it from the leader — and writing it alone
// cost a level write between "a quorum has it" and "apply it" on every commit.
//
// Keys:  "h"               hard state (JSON)
//        "s"               snapshot: 8-byte index, 8-byte term, data
//        "e" + 16 hex      entry at that index: 8-byte term, 1-byte type, data

import { Level } from 'level';
import type { Entry, HardState, PersistedState, Ready, Snapshot } from '../raft/types.js';
import { EMPTY_HARD_STATE } from '../raft/types.js';

const HARD_STATE_KEY = 'h';
const SNAPSHOT_KEY = 's';
const ENTRY_PREFIX = 'e';
const ENTRY_END = 'f';

type BatchOp =
  | { type: 'put'; key: string; value: Uint8Array }
  | { type: 'del'; key: string };

function entryKey(index: number): string {
  return ENTRY_PREFIX + index.toString(16).padStart(16, '0');
}

function encodeEntry(e: Entry): Uint8Array {
  const buf = Buffer.allocUnsafe(9 + e.data.length);
  buf.writeDoubleBE(e.term, 0);
  buf[8] = e.type === 'noop' ? 1 : 0;
  buf.set(e.data, 9);
  return buf;
}

function decodeEntry(index: number, bytes: Uint8Array): Entry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 9) throw new Error(`corrupt Raft entry ${index}: ${buf.length} bytes`);
  return { index, term: buf.readDoubleBE(0), type: buf[8] === 1 ? 'noop' : 'normal', data: buf.subarray(9) };
}

function encodeSnapshot(s: Snapshot): Uint8Array {
  const buf = Buffer.allocUnsafe(16 + s.data.length);
  buf.writeDoubleBE(s.index, 0);
  buf.writeDoubleBE(s.term, 8);
  buf.set(s.data, 16);
  return buf;
}

function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 16) throw new Error(`corrupt Raft snapshot: ${buf.length} bytes`);
  return { index: buf.readDoubleBE(0), term: buf.readDoubleBE(8), data: buf.subarray(16) };
}

export interface StorageTimings {
  /** Called with the duration of every synced write, for the fsync latency histogram. */
  onSyncedWrite?(seconds: number): void;
}

/** Owned by one coordinator node for its lifetime: open() at start, close() at shutdown. */
export class RaftStorage {
  private readonly db: Level<string, Uint8Array>;
  /** Index of the last stored entry (or of the snapshot when no entry follows it). */
  private lastIndex = 0;
  private firstIndex = 1;
  /** A commit-only hard state not written yet (see the top of this file). */
  private deferredHardState: HardState | null = null;

  constructor(
    dir: string,
    private readonly timings: StorageTimings = {},
  ) {
    this.db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  async open(): Promise<PersistedState> {
    await this.db.open();
    const hs = await this.db.get(HARD_STATE_KEY);
    const hardState: HardState = hs ? (JSON.parse(Buffer.from(hs).toString('utf8')) as HardState) : EMPTY_HARD_STATE;
    const snapBytes = await this.db.get(SNAPSHOT_KEY);
    const snapshot = snapBytes ? decodeSnapshot(snapBytes) : null;
    const entries: Entry[] = [];
    let expected = (snapshot?.index ?? 0) + 1;
    this.firstIndex = expected;
    // Entries at or below the snapshot are covered by it; a crash during compaction may leave some.
    await this.db.clear({ gte: ENTRY_PREFIX, lt: entryKey(expected) });
    for await (const [key, value] of this.db.iterator({ gte: entryKey(expected), lt: ENTRY_END })) {
      const index = parseInt(key.slice(1), 16);
      if (index !== expected) break; // a gap: entries after it were never acknowledged as contiguous
      entries.push(decodeEntry(index, value));
      expected++;
    }
    this.lastIndex = expected - 1;
    return { hardState, snapshot, entries };
  }

  /** Step 1 of draining a Ready: snapshot, entries, hard state, in one atomic batch. */
  async persist(ready: Ready): Promise<void> {
    const ops: BatchOp[] = [];
    if (ready.snapshot) {
      ops.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(ready.snapshot) });
      for (let i = this.firstIndex; i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
      this.firstIndex = ready.snapshot.index + 1;
      this.lastIndex = ready.snapshot.index;
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!.index;
      for (let i = Math.max(first, this.firstIndex); i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
      for (const e of ready.entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      this.lastIndex = ready.entries[ready.entries.length - 1]!.index;
    }
    const sync = ready.mustSync || ready.snapshot !== null || ready.entries.length > 0;
    if (ready.hardState && !sync) {
      // Only the commit index moved (term and vote unchanged, nothing else to write).
      this.deferredHardState = ready.hardState;
      return;
    }
    const hardState = ready.hardState ?? this.deferredHardState;
    if (hardState) ops.push({ type: 'put', key: HARD_STATE_KEY, value: Buffer.from(JSON.stringify(hardState)) });
    this.deferredHardState = null;
    if (ops.length === 0) return;
    const started = process.hrtime.bigint();
    await this.db.batch(ops, { sync });
    if (sync) this.timings.onSyncedWrite?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** The application took a snapshot at `snapshot.index`: store it and drop the entries it covers. */
  async compact(snapshot: Snapshot): Promise<void> {
    const ops: BatchOp[] = [{ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(snapshot) }];
    const dropThrough = Math.min(snapshot.index, this.lastIndex);
    for (let i = this.firstIndex; i <= dropThrough; i++) ops.push({ type: 'del', key: entryKey(i) });
    this.firstIndex = Math.max(this.firstIndex, snapshot.index + 1);
    this.lastIndex = Math.max(this.lastIndex, snapshot.index);
    await this.db.batch(ops, { sync: true });
  }

  async close(): Promise<void> {
    if (this.deferredHardState && this.db.status === 'open') {
      await this.db.put(HARD_STATE_KEY, Buffer.from(JSON.stringify(this.deferredHardState)));
      this.deferredHardState = null;
    }
    await this.db.close();
  }
}
