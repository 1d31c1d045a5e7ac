// A hand-driven cluster for scenario tests: RaftNode cores, a message queue that moves only when
// told to (stabilize / deliver / drop), partitions, crashes and restarts from the simulated disk,
// compaction, and a text rendering of states and messages. Scenario files (testdata/*.txt) drive
// it through ScenarioCluster.run; TypeScript tests call its methods directly.
//
// Every Ready is drained at once and completely (persist, send, apply, advance), so a crash
// loses only in-memory state: what a node said, it had persisted.

import {
  type Entry,
  type HardState,
  type Message,
  RaftNode,
  type RaftConfig,
  type ReadState,
  type Snapshot,
  seededRandom,
} from '../../src/raft/index.js';
import { describe as describeMessage } from './simulator.js';

interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

interface ScenarioNode {
  readonly id: number;
  raft: RaftNode | null;
  disk: Disk;
  /** Applied values (noops as '·'), from the start of time: a snapshot carries them. */
  applied: string[];
  reads: ReadState[];
  droppedReads: string[];
}

export type ScenarioOptions = Partial<Omit<RaftConfig, 'id' | 'peers' | 'random' | 'storage' | 'applied'>>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function valueOf(e: Entry): string {
  return e.type === 'noop' ? '·' : decoder.decode(e.data);
}

export class ScenarioCluster {
  readonly nodes: ScenarioNode[] = [];
  private queue: Message[] = [];
  private readonly blocked = new Set<string>();
  private readonly ids: number[];

  constructor(
    size: number,
    private readonly options: ScenarioOptions = {},
    private readonly seed = 1,
  ) {
    this.ids = Array.from({ length: size }, (_, i) => i + 1);
    for (const id of this.ids) {
      const node: ScenarioNode = {
        id,
        raft: null,
        disk: { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
        applied: [],
        reads: [],
        droppedReads: [],
      };
      this.nodes.push(node);
      this.boot(node);
    }
  }

  node(id: number): RaftNode {
    const raft = this.nodes[id - 1]?.raft;
    if (!raft) throw new Error(`node ${id} is down or unknown`);
    return raft;
  }

  private boot(node: ScenarioNode): void {
    const snap = node.disk.snapshot;
    node.applied = snap === null ? [] : (JSON.parse(decoder.decode(snap.data)) as string[]);
    node.raft = new RaftNode({
      electionTicks: 10,
      heartbeatTicks: 1,
      ...this.options,
      id: node.id,
      peers: this.ids,
      // Distinct but fixed timeouts per node and incarnation keep scenarios readable and stable.
      random: seededRandom(this.seed * 1000 + node.id * 31 + node.applied.length),
      storage: { hardState: node.disk.hardState, snapshot: snap, entries: [...node.disk.entries] },
    });
  }

  /** Drains every node's Ready: persist, queue messages, apply, advance. */
  process(): void {
    for (const node of this.nodes) {
      const raft = node.raft;
      if (raft === null) continue;
      for (let rd = raft.ready(); rd !== null; rd = raft.ready()) {
        const disk = node.disk;
        if (rd.snapshot !== null) {
          disk.snapshot = rd.snapshot;
          disk.entries = [];
        }
        if (rd.entries.length > 0) {
          const base = disk.snapshot?.index ?? 0;
          disk.entries.length = rd.entries[0]!.index - base - 1;
          disk.entries.push(...rd.entries);
        }
        if (rd.hardState !== null) disk.hardState = rd.hardState;
        this.queue.push(...rd.messages);
        if (rd.snapshot !== null) node.applied = JSON.parse(decoder.decode(rd.snapshot.data)) as string[];
        for (const e of rd.committedEntries) {
          if (e.index !== node.applied.length + 1) throw new Error(`node ${node.id} applies ${e.index} after ${node.applied.length}`);
          node.applied.push(valueOf(e));
        }
        node.reads.push(...rd.readStates);
        node.droppedReads.push(...rd.droppedReads);
        raft.advance(rd);
      }
    }
  }

  // ---- actions ------------------------------------------------------------------------------

  tick(ids: readonly number[], times: number): void {
    for (let i = 0; i < times; i++) {
      for (const id of ids) this.nodes[id - 1]!.raft?.tick();
      this.process();
    }
  }

  /** `times` rounds of: tick `ids`, then deliver everything (time passes with a working network). */
  elapse(ids: readonly number[], times: number): void {
    for (let i = 0; i < times; i++) {
      this.tick(ids, 1);
      this.stabilize();
    }
  }

  campaign(id: number): void {
    this.node(id).campaign();
    this.process();
  }

  propose(id: number, value: string): string {
    const r = this.node(id).propose(encoder.encode(value));
    this.process();
    return r.ok ? `appended at ${r.index}/${r.term}` : `refused ${r.code} leader=${r.leaderId ?? 'none'}`;
  }

  readIndex(id: number, ctx: string): string {
    const r = this.node(id).readIndex(ctx);
    this.process();
    return r.ok ? (r.forwardedTo === null ? 'accepted' : `forwarded to ${r.forwardedTo}`) : `refused ${r.code} leader=${r.leaderId ?? 'none'}`;
  }

  transfer(from: number, to: number): string {
    const r = this.node(from).transferLeadership(to);
    this.process();
    return r.ok ? 'ok' : `refused ${r.code} leader=${r.leaderId ?? 'none'}`;
  }

  /** The application of `id` snapshots everything it applied and compacts the log. */
  compact(id: number): string {
    const node = this.nodes[id - 1]!;
    const raft = this.node(id);
    const index = node.applied.length;
    const term = raft.termAt(index)!;
    const data = encoder.encode(JSON.stringify(node.applied));
    if (!raft.compact(index, data)) return `not compacted: snapshot already at ${raft.status().snapshotIndex}`;
    node.disk.snapshot = { index, term, data };
    node.disk.entries = node.disk.entries.filter((e) => e.index > index);
    return `compacted to ${index}/${term}`;
  }

  /** The transport of `id` saw its connection with `peer` break. */
  connectionLost(id: number, peer: number): void {
    this.node(id).peerConnectionLost(peer);
    this.process();
  }

  crash(id: number): void {
    const node = this.nodes[id - 1]!;
    node.raft = null;
    node.reads = [];
    node.droppedReads = [];
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: number): void {
    this.boot(this.nodes[id - 1]!);
    this.process();
  }

  partition(groups: readonly (readonly number[])[]): void {
    this.blocked.clear();
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`);
  }

  /** Cuts one direction only: messages from `from` to `to` are lost. */
  cut(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Delivers queued messages (those matching `filter`), and whatever they cause, until none are left. Returns one line per message. */
  stabilize(filter: (m: Message) => boolean = () => true): string[] {
    const lines: string[] = [];
    for (let round = 0; round < 1000; round++) {
      const batch = this.queue.filter(filter);
      if (batch.length === 0) return lines;
      this.queue = this.queue.filter((m) => !filter(m));
      for (const m of batch) lines.push(this.deliver(m));
    }
    throw new Error('stabilize: messages still flowing after 1000 rounds');
  }

  /** Delivers only the messages queued now that match, not what they cause. */
  deliverOnce(filter: (m: Message) => boolean): string[] {
    const batch = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    return batch.map((m) => this.deliver(m));
  }

  drop(filter: (m: Message) => boolean): string[] {
    const dropped = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    return dropped.map((m) => `dropped ${describeMessage(m)}`);
  }

  pending(): readonly Message[] {
    return this.queue;
  }

  private deliver(m: Message): string {
    const target = this.nodes[m.to - 1]!;
    if (this.blocked.has(`${m.from}>${m.to}`)) return `lost ${describeMessage(m)}`;
    if (target.raft === null) return `lost ${describeMessage(m)} (node down)`;
    target.raft.step(m);
    this.process();
    return describeMessage(m);
  }

  // ---- rendering ----------------------------------------------------------------------------

  statusLine(id: number): string {
    const node = this.nodes[id - 1]!;
    if (node.raft === null) return `${id}: down`;
    const s = node.raft.status();
    const lead = s.leaderId === null ? '-' : String(s.leaderId);
    const snap = s.snapshotIndex > 0 ? ` snap=${s.snapshotIndex}` : '';
    return `${id}: ${s.role} term=${s.term} lead=${lead} last=${s.lastIndex}/${s.lastTerm} commit=${s.commit} applied=${node.applied.length}${snap}`;
  }

  status(): string[] {
    return this.ids.map((id) => this.statusLine(id));
  }

  logLine(id: number): string {
    const raft = this.nodes[id - 1]!.raft;
    if (raft === null) return `${id}: down`;
    const s = raft.status();
    const parts: string[] = [];
    if (s.snapshotIndex > 0) parts.push(`[snapshot ${s.snapshotIndex}/${raft.termAt(s.snapshotIndex)}]`);
    for (let i = s.firstIndex; i <= s.lastIndex; i++) {
      const e = raft.entryAt(i)!;
      parts.push(`${e.index}/${e.term}:${valueOf(e)}`);
    }
    return `${id}: ${parts.join(' ')}`;
  }

  appliedLine(id: number): string {
    return `${id}: ${this.nodes[id - 1]!.applied.join(' ')}`;
  }

  takeReads(id: number): string[] {
    const node = this.nodes[id - 1]!;
    const out = [
      ...node.reads.map((r) => `read ${r.requestCtx} at index ${r.index}`),
      ...node.droppedReads.map((c) => `read ${c} dropped`),
    ];
    node.reads = [];
    node.droppedReads = [];
    return out;
  }
}

// ---- the scenario language -------------------------------------------------------------------

function parseIds(arg: string | undefined, cluster: ScenarioCluster): number[] {
  if (arg === undefined || arg === 'all') return cluster.nodes.map((n) => n.id);
  return arg.split(',').map(Number);
}

function parseLink(arg: string): (m: Message) => boolean {
  if (arg === 'all') return () => true;
  const [from, to] = arg.split('>');
  return (m) => (from === '*' || m.from === Number(from)) && (to === '*' || m.to === Number(to));
}

/**
 * Runs one scenario command and returns its output lines. Commands:
 *   cluster N [key=value…]     new cluster of N nodes (options: preVote, checkQuorum, electionTicks…)
 *   campaign ID · tick IDS|all N · elapse IDS|all N (tick, then stabilize, N times) · propose ID VALUE · read ID CTX · transfer FROM TO · compact ID
 *   stabilize [quiet] · deliver FROM>TO · drop FROM>TO|all   (FROM/TO may be *)
 *   partition 1,2/3,4,5 · cut FROM>TO · heal · crash ID · restart ID · disconnected ID PEER (ID's connection with PEER broke)
 *   status · log ID|all · applied ID|all · reads ID
 */
export function runCommand(state: { cluster: ScenarioCluster | null }, line: string): string[] {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'cluster') {
    const options: Record<string, number | boolean> = {};
    for (const kv of args.slice(1)) {
      const [k, v] = kv.split('=');
      options[k!] = v === 'true' ? true : v === 'false' ? false : Number(v);
    }
    state.cluster = new ScenarioCluster(Number(args[0]), options as ScenarioOptions);
    return state.cluster.status();
  }
  const c = state.cluster;
  if (c === null) throw new Error('no cluster: start with "cluster N"');
  const id = Number(args[0]);
  switch (cmd) {
    case 'campaign':
      c.campaign(id);
      return [];
    case 'tick':
      c.tick(parseIds(args[0], c), Number(args[1] ?? 1));
      return [];
    case 'elapse':
      c.elapse(parseIds(args[0], c), Number(args[1] ?? 1));
      return [];
    case 'propose':
      return [c.propose(id, args[1]!)];
    case 'read':
      return [c.readIndex(id, args[1]!)];
    case 'transfer':
      return [c.transfer(id, Number(args[1]))];
    case 'compact':
      return [c.compact(id)];
    case 'stabilize': {
      const lines = c.stabilize();
      return args[0] === 'quiet' ? [] : lines;
    }
    case 'deliver':
      return c.deliverOnce(parseLink(args[0]!));
    case 'drop':
      return c.drop(parseLink(args[0]!));
    case 'partition':
      c.partition(args[0]!.split('/').map((g) => g.split(',').map(Number)));
      return [];
    case 'cut': {
      const [from, to] = args[0]!.split('>').map(Number);
      c.cut(from!, to!);
      return [];
    }
    case 'heal':
      c.heal();
      return [];
    case 'crash':
      c.crash(id);
      return [];
    case 'restart':
      c.restart(id);
      return [];
    case 'disconnected':
      c.connectionLost(id, Number(args[1]));
      return [];
    case 'status':
      return c.status();
    case 'log':
      return parseIds(args[0], c).map((n) => c.logLine(n));
    case 'applied':
      return parseIds(args[0], c).map((n) => c.appliedLine(n));
    case 'reads':
      return c.takeReads(id);
    default:
      throw new Error(`unknown scenario command: ${line}`);
  }
}

export interface ScenarioBlock {
  readonly line: number;
  readonly comments: string[];
  readonly command: string;
  readonly expected: string[];
}

/** Parses a scenario file: blocks of `# comments`, one command, `----`, expected output, blank line. */
export function parseScenario(text: string): ScenarioBlock[] {
  const lines = text.split('\n');
  const blocks: ScenarioBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i]!.trim() === '' || lines[i]!.startsWith('#'))) {
      if (lines[i]!.startsWith('#')) comments.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) break;
    const start = i + 1;
    const command = lines[i++]!;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    blocks.push({ line: start, comments, command, expected });
  }
  return blocks;
}

/** Renders blocks back to a file, with `actual` outputs (for SAMSA_RAFT_REWRITE=1). */
export function renderScenario(blocks: readonly ScenarioBlock[], actual: readonly string[][]): string {
  return (
    blocks
      .map((b, i) => [...b.comments, b.command, '----', ...(actual[i]!.length > 0 ? actual[i]! : ['ok'])].join('\n'))
      .join('\n\n') + '\n'
  );
}
