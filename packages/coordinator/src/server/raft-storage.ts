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
//        "g" + 16 hex      a group of consecutive entries from that index, as one Ready handed
//                          them out: per entry 8-byte term, 1-byte type, 4-byte length, data
//        "e" + 16 hex      (read only, from earlier versions) one entry: 8-byte term, 1-byte type, data
//
// One value per Ready rather than per entry: level's per-key work dominated the followers'
// CPU under load. A conflicting append that starts inside a group rewrites that group cut short
// (rare: only after a leader change); compaction drops the groups a snapshot covers and keeps
// one it cuts through (open() skips its covered entries).

import { Level } from 'level';
import type { Entry, HardState, PersistedState, Ready, Snapshot } from '../raft/types.js';
import { EMPTY_HARD_STATE } from '../raft/types.js';

const HARD_STATE_KEY = 'h';
const SNAPSHOT_KEY = 's';
const LEGACY_ENTRY_PREFIX = 'e';
const LEGACY_ENTRY_END = 'f';
const GROUP_PREFIX = 'g';
const GROUP_END = 'g\uffff';

type BatchOp =
  | { type: 'put'; key: string; value: Uint8Array }
  | { type: 'del'; key: string };

/** Entries [first, last] stored under `key`. */
interface StoredGroup {
  readonly key: string;
  readonly first: number;
  readonly last: number;
}

function groupKey(first: number): string {
  return GROUP_PREFIX + first.toString(16).padStart(16, '0');
}

const ENTRY_HEADER_BYTES = 13;

function encodeGroup(entries: readonly Entry[]): Uint8Array {
  let size = 0;
  for (const e of entries) size += ENTRY_HEADER_BYTES + e.data.length;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    buf.writeDoubleBE(e.term, at);
    buf[at + 8] = e.type === 'noop' ? 1 : 0;
    buf.writeUInt32BE(e.data.length, at + 9);
    buf.set(e.data, at + ENTRY_HEADER_BYTES);
    at += ENTRY_HEADER_BYTES + e.data.length;
  }
  return buf;
}

function decodeGroup(first: number, bytes: Uint8Array): Entry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Entry[] = [];
  for (let at = 0; at < buf.length; ) {
    if (at + ENTRY_HEADER_BYTES > buf.length) throw new Error(`corrupt Raft entry group ${first}: truncated header at ${at}`);
    const length = buf.readUInt32BE(at + 9);
    const end = at + ENTRY_HEADER_BYTES + length;
    if (end > buf.length) throw new Error(`corrupt Raft entry group ${first}: entry at ${at} runs past the end`);
    entries.push({ index: first + entries.length, term: buf.readDoubleBE(at), type: buf[at + 8] === 1 ? 'noop' : 'normal', data: buf.subarray(at + ENTRY_HEADER_BYTES, end) });
    at = end;
  }
  if (entries.length === 0) throw new Error(`corrupt Raft entry group ${first}: empty`);
  return entries;
}

function decodeLegacyEntry(index: number, bytes: Uint8Array): Entry {
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
  /** What is stored, in index order, without gaps or overlaps (legacy entries as groups of one). */
  private groups: StoredGroup[] = [];
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
    const snapIndex = snapshot?.index ?? 0;

    const stored: { group: StoredGroup; entries: Entry[] }[] = [];
    for await (const [key, value] of this.db.iterator({ gte: LEGACY_ENTRY_PREFIX, lt: LEGACY_ENTRY_END })) {
      const index = parseInt(key.slice(1), 16);
      stored.push({ group: { key, first: index, last: index }, entries: [decodeLegacyEntry(index, value)] });
    }
    for await (const [key, value] of this.db.iterator({ gte: GROUP_PREFIX, lt: GROUP_END })) {
      const first = parseInt(key.slice(1), 16);
      const entries = decodeGroup(first, value);
      stored.push({ group: { key, first, last: first + entries.length - 1 }, entries });
    }
    stored.sort((a, b) => a.group.first - b.group.first);

    // Keep what continues the snapshot without a gap; what the snapshot covers (a crash during
    // compaction may leave some) and what lies beyond a gap (never acknowledged as contiguous)
    // is deleted.
    const entries: Entry[] = [];
    const garbage: BatchOp[] = [];
    let expected = snapIndex + 1;
    for (const { group, entries: groupEntries } of stored) {
      if (group.last < expected || group.first > expected) {
        garbage.push({ type: 'del', key: group.key });
        continue;
      }
      for (const e of groupEntries) if (e.index >= expected) entries.push(e);
      expected = group.last + 1;
      this.groups.push(group);
    }
    if (garbage.length > 0) await this.db.batch(garbage, { sync: true });
    return { hardState, snapshot, entries };
  }

  /** Step 1 of draining a Ready: snapshot, entries, hard state, in one atomic batch. */
  async persist(ready: Ready): Promise<void> {
    const ops: BatchOp[] = [];
    if (ready.snapshot) {
      ops.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(ready.snapshot) });
      for (const g of this.groups) ops.push({ type: 'del', key: g.key });
      this.groups = [];
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!.index;
      // Drop what the new entries replace: whole groups from `first` on, and the tail of a group
      // that `first` cuts through (rewritten shorter under its own key).
      while (this.groups.length > 0 && this.groups[this.groups.length - 1]!.last >= first) {
        const g = this.groups.pop()!;
        if (g.first >= first) {
          ops.push({ type: 'del', key: g.key });
          continue;
        }
        const value = await this.db.get(g.key);
        if (!value) throw new Error(`Raft entry group ${g.key} vanished`);
        const kept = (g.key.startsWith(GROUP_PREFIX) ? decodeGroup(g.first, value) : [decodeLegacyEntry(g.first, value)]).filter((e) => e.index < first);
        ops.push({ type: 'del', key: g.key });
        const shortened: StoredGroup = { key: groupKey(g.first), first: g.first, last: first - 1 };
        ops.push({ type: 'put', key: shortened.key, value: encodeGroup(kept) });
        this.groups.push(shortened);
        break;
      }
      const group: StoredGroup = { key: groupKey(first), first, last: ready.entries[ready.entries.length - 1]!.index };
      ops.push({ type: 'put', key: group.key, value: encodeGroup(ready.entries) });
      this.groups.push(group);
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

  /** The application took a snapshot at `snapshot.index`: store it and drop the groups it covers. */
  async compact(snapshot: Snapshot): Promise<void> {
    const ops: BatchOp[] = [{ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(snapshot) }];
    let covered = 0;
    while (covered < this.groups.length && this.groups[covered]!.last <= snapshot.index) {
      ops.push({ type: 'del', key: this.groups[covered]!.key });
      covered++;
    }
    this.groups.splice(0, covered);
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
