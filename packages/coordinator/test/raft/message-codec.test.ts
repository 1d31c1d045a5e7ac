// The JSON wire form: every message type survives a round trip (byte fields as base64), and
// anything that is not a well-formed message becomes a typed INVALID_MESSAGE error.

import { type Message, RaftError, decodeMessage, encodeMessage } from '../../src/raft/index.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

const samples: Message[] = [
  {
    type: 'append',
    from: 1,
    to: 2,
    term: 3,
    prevIndex: 4,
    prevTerm: 2,
    commit: 4,
    entries: [
      { index: 5, term: 3, type: 'noop', data: bytes() },
      { index: 6, term: 3, type: 'normal', data: bytes(0, 1, 254, 255) },
    ],
  },
  { type: 'appendResponse', from: 2, to: 1, term: 3, index: 6, reject: true, hintIndex: 4, hintTerm: 2 },
  { type: 'vote', from: 1, to: 2, term: 3, lastIndex: 6, lastTerm: 3, transfer: false },
  { type: 'preVote', from: 1, to: 2, term: 4, lastIndex: 6, lastTerm: 3, transfer: false },
  { type: 'voteResponse', from: 2, to: 1, term: 3, reject: false },
  { type: 'preVoteResponse', from: 2, to: 1, term: 4, reject: true },
  { type: 'heartbeat', from: 1, to: 2, term: 3, commit: 5, readSeq: 7 },
  { type: 'heartbeatResponse', from: 2, to: 1, term: 3, readSeq: 7 },
  { type: 'snapshot', from: 1, to: 3, term: 3, snapshot: { index: 9, term: 3, data: bytes(...Array.from({ length: 300 }, (_, i) => i & 0xff)) } },
  { type: 'timeoutNow', from: 1, to: 2, term: 3 },
  { type: 'readIndex', from: 2, to: 1, term: 3, requestCtx: 'node2-17' },
  { type: 'readIndexResponse', from: 1, to: 2, term: 3, requestCtx: 'node2-17', index: 6 },
];

describe('message codec', () => {
  test.each(samples.map((m) => [m.type, m] as const))('%s round-trips through JSON', (_type, message) => {
    const text = encodeMessage(message);
    expect(typeof text).toBe('string');
    const decoded = decodeMessage(text);
    expect(decoded).toEqual(message);
  });

  test('byte fields come back as Uint8Array, not as numbered objects', () => {
    const decoded = decodeMessage(encodeMessage(samples[0]!));
    expect(decoded.type === 'append' && decoded.entries[1]!.data).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(encodeMessage(samples[0]!)).entries[1].data).toBe('AAH+/w==');
  });

  test.each([
    ['not JSON', '{"type":'],
    ['a JSON array', '[]'],
    ['an unknown type', '{"type":"x","from":1,"to":2,"term":1}'],
    ['a missing field', '{"type":"heartbeat","from":1,"to":2,"term":1,"commit":0}'],
    ['a negative index', '{"type":"heartbeat","from":1,"to":2,"term":1,"commit":-1,"readSeq":0}'],
    ['a zero node id', '{"type":"timeoutNow","from":0,"to":2,"term":1}'],
    ['entries that are not an array', '{"type":"append","from":1,"to":2,"term":1,"prevIndex":0,"prevTerm":0,"commit":0,"entries":{}}'],
    ['entry data that is not base64', '{"type":"append","from":1,"to":2,"term":1,"prevIndex":0,"prevTerm":0,"commit":0,"entries":[{"index":1,"term":1,"type":"normal","data":"%%%"}]}'],
    ['a bad entry type', '{"type":"append","from":1,"to":2,"term":1,"prevIndex":0,"prevTerm":0,"commit":0,"entries":[{"index":1,"term":1,"type":"weird","data":""}]}'],
    ['snapshot data missing', '{"type":"snapshot","from":1,"to":2,"term":1,"snapshot":{"index":1,"term":1}}'],
  ])('rejects %s with INVALID_MESSAGE', (_what, text) => {
    let error: unknown;
    try {
      decodeMessage(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RaftError);
    expect((error as RaftError).code).toBe('INVALID_MESSAGE');
  });

  test('rejects text over the size limit before parsing it', () => {
    expect(() => decodeMessage(encodeMessage(samples[8]!), 100)).toThrow(/exceeds 100/);
  });
});
