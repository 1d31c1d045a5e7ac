// The level adapter keeps exactly what the Raft core asked it to persist, across reopen:
// hard state, entries (with conflicting suffixes overwritten, also from inside a stored group),
// and snapshots that replace the entries they cover; entries stored one per key by earlier
// versions are read as well.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { RaftStorage } from '../../src/server/raft-storage.js';
import type { Entry, Ready } from '../../src/raft/types.js';

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(Buffer.from(text)) };
}

function ready(parts: Partial<Ready>): Ready {
  return {
    softState: null, hardState: null, snapshot: null, entries: [], messages: [], committedEntries: [],
    readStates: [], droppedReads: [], mustSync: true, earlyMessages: 0, ...parts,
  };
}

describe('RaftStorage', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-raft-storage-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a fresh store is empty', async () => {
    const s = new RaftStorage(dir);
    const state = await s.open();
    expect(state).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
    await s.close();
  });

  test('entries and hard state survive a reopen; a conflicting suffix is replaced', async () => {
    let s = new RaftStorage(dir);
    await s.open();
    await s.persist(ready({ entries: [1, 2, 3, 4].map((i) => entry(i, 1)), hardState: { term: 1, vote: 2, commit: 2 } }));
    await s.persist(ready({ entries: [entry(3, 2, 'new3')], hardState: { term: 2, vote: null, commit: 3 } }));
    await s.close();

    s = new RaftStorage(dir);
    const state = await s.open();
    expect(state.hardState).toEqual({ term: 2, vote: null, commit: 3 });
    expect(state.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()])).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 2, 'new3'],
    ]);
    await s.close();
  });

  test('a received snapshot replaces every stored entry; compaction drops covered ones', async () => {
    let s = new RaftStorage(dir);
    await s.open();
    await s.persist(ready({ entries: [1, 2, 3].map((i) => entry(i, 1)) }));
    await s.persist(ready({ snapshot: { index: 10, term: 3, data: new Uint8Array([1, 2, 3]) } }));
    await s.persist(ready({ entries: [entry(11, 3), entry(12, 3), entry(13, 3)] }));
    await s.compact({ index: 12, term: 3, data: new Uint8Array([9]) });
    await s.close();

    s = new RaftStorage(dir);
    const state = await s.open();
    expect(state.snapshot).toEqual({ index: 12, term: 3, data: expect.any(Uint8Array) });
    expect(Array.from(state.snapshot!.data)).toEqual([9]);
    expect(state.entries.map((e) => e.index)).toEqual([13]);
    await s.close();
  });

  test('a commit-only hard state is written with the next batch, or at close, never before a newer one', async () => {
    let s = new RaftStorage(dir);
    await s.open();
    await s.persist(ready({ entries: [1, 2, 3].map((i) => entry(i, 1)), hardState: { term: 1, vote: 1, commit: 0 } }));
    await s.persist(ready({ hardState: { term: 1, vote: 1, commit: 2 }, mustSync: false }));
    await s.persist(ready({ entries: [entry(4, 1)] }));
    await s.persist(ready({ hardState: { term: 1, vote: 1, commit: 4 }, mustSync: false }));
    await s.close();

    s = new RaftStorage(dir);
    expect((await s.open()).hardState).toEqual({ term: 1, vote: 1, commit: 4 });
    // A newer hard state in a synced batch supersedes a deferred commit-only one.
    await s.persist(ready({ hardState: { term: 1, vote: 1, commit: 5 }, mustSync: false, entries: [entry(5, 1)] }));
    await s.persist(ready({ hardState: { term: 1, vote: 1, commit: 5 }, mustSync: false }));
    await s.persist(ready({ hardState: { term: 2, vote: 3, commit: 5 } }));
    await s.close();

    s = new RaftStorage(dir);
    expect((await s.open()).hardState).toEqual({ term: 2, vote: 3, commit: 5 });
    await s.close();
  });

  const summary = (entries: readonly Entry[]): [number, number, string][] => entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]);

  test('an append that conflicts inside a stored group keeps the group up to it and replaces the rest', async () => {
    let s = new RaftStorage(dir);
    await s.open();
    await s.persist(ready({ entries: [1, 2, 3].map((i) => entry(i, 1)) }));
    await s.persist(ready({ entries: [4, 5, 6, 7].map((i) => entry(i, 1)) }));
    await s.persist(ready({ entries: [entry(6, 2, 'new6')] })); // cuts group 4..7
    await s.persist(ready({ entries: [entry(2, 3, 'new2'), entry(3, 3, 'new3')] })); // cuts group 1..3, drops 4..6
    await s.persist(ready({ entries: [entry(4, 3, 'new4')] }));
    await s.close();

    s = new RaftStorage(dir);
    expect(summary((await s.open()).entries)).toEqual([[1, 1, 'e1'], [2, 3, 'new2'], [3, 3, 'new3'], [4, 3, 'new4']]);
    await s.close();
  });

  test('compaction keeps a group the snapshot cuts through; reopen returns only the entries after the snapshot', async () => {
    let s = new RaftStorage(dir);
    await s.open();
    await s.persist(ready({ entries: [1, 2].map((i) => entry(i, 1)) }));
    await s.persist(ready({ entries: [3, 4, 5, 6].map((i) => entry(i, 1)) }));
    await s.compact({ index: 4, term: 1, data: new Uint8Array([4]) });
    await s.persist(ready({ entries: [entry(7, 1)] }));
    await s.close();

    s = new RaftStorage(dir);
    const state = await s.open();
    expect(state.snapshot?.index).toBe(4);
    expect(summary(state.entries)).toEqual([[5, 1, 'e5'], [6, 1, 'e6'], [7, 1, 'e7']]);
    await s.compact({ index: 7, term: 1, data: new Uint8Array([7]) });
    await s.close();

    s = new RaftStorage(dir);
    expect((await s.open()).entries).toEqual([]);
    await s.close();
  });

  test('entries stored one per key (earlier versions) are read, and replaced by a conflicting append', async () => {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const legacy = (index: number, term: number): Uint8Array => {
      const buf = Buffer.alloc(9 + 2);
      buf.writeDoubleBE(term, 0);
      buf.write(`e${index}`, 9);
      return buf;
    };
    await db.batch([1, 2, 3].map((i) => ({ type: 'put' as const, key: 'e' + i.toString(16).padStart(16, '0'), value: legacy(i, 1) })));
    await db.put('h', Buffer.from(JSON.stringify({ term: 1, vote: 1, commit: 1 })));
    await db.close();

    let s = new RaftStorage(dir);
    const state = await s.open();
    expect(state.hardState).toEqual({ term: 1, vote: 1, commit: 1 });
    expect(summary(state.entries)).toEqual([[1, 1, 'e1'], [2, 1, 'e2'], [3, 1, 'e3']]);
    await s.persist(ready({ entries: [entry(3, 2, 'new3'), entry(4, 2)] }));
    await s.close();

    s = new RaftStorage(dir);
    expect(summary((await s.open()).entries)).toEqual([[1, 1, 'e1'], [2, 1, 'e2'], [3, 2, 'new3'], [4, 2, 'e4']]);
    await s.close();
  });
});
