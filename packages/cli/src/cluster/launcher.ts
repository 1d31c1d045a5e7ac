// Starts, stops and watches the processes of a local cluster described by a ClusterFile.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { readClusterFile, writeClusterFile, type ClusterFile } from './cluster-file.js';
import type { NodeSpec } from './layout.js';
import { isNodeAlive, signalNode, startNodeProcess, waitFor } from './processes.js';

export const SHUTDOWN_GRACE_MS = 15_000;

export function findNode(file: ClusterFile, name: string): NodeSpec {
  const spec = file.layout.nodes.find((n) => n.name === name);
  if (!spec) {
    throw new Error(`no node ${name} in this cluster (nodes: ${file.layout.nodes.map((n) => n.name).join(', ')})`);
  }
  return spec;
}

export function nodeAlive(file: ClusterFile, spec: NodeSpec): boolean {
  return isNodeAlive(file.pids[spec.name], spec);
}

/** Starts `spec` unless it already runs; records its pid. */
export function startNode(dataDir: string, spec: NodeSpec): number {
  const file = readClusterFile(dataDir);
  if (!file) throw new Error(`no cluster in ${dataDir}`);
  if (nodeAlive(file, spec)) return file.pids[spec.name]!;
  const pid = startNodeProcess(spec);
  const latest = readClusterFile(dataDir) ?? file;
  latest.pids[spec.name] = pid;
  writeClusterFile(dataDir, latest);
  return pid;
}

/** Sends `signal` and waits for the process to go; SIGTERM escalates to SIGKILL after the grace time. */
export async function stopNode(file: ClusterFile, spec: NodeSpec, signal: 'SIGTERM' | 'SIGKILL'): Promise<boolean> {
  const pid = file.pids[spec.name];
  if (!pid || !nodeAlive(file, spec)) return false;
  signalNode(pid, signal);
  const gone = await waitFor(() => !nodeAlive(file, spec), signal === 'SIGKILL' ? 5_000 : SHUTDOWN_GRACE_MS);
  if (!gone && signal === 'SIGTERM') {
    signalNode(pid, 'SIGKILL');
    await waitFor(() => !nodeAlive(file, spec), 5_000);
  }
  return true;
}

/** Stops brokers first, then coordinators, so brokers can leave cleanly while the ensemble is up. */
export async function stopAll(file: ClusterFile, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const brokers = file.layout.nodes.filter((n) => n.role === 'broker');
  const coordinators = file.layout.nodes.filter((n) => n.role === 'coordinator');
  await Promise.all(brokers.map((n) => stopNode(file, n, signal)));
  await Promise.all(coordinators.map((n) => stopNode(file, n, signal)));
}

export async function probeReady(spec: NodeSpec, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(`http://${spec.host}:${spec.ports.metrics}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function waitUntilReady(file: ClusterFile, timeoutMs: number, nodes = file.layout.nodes): Promise<NodeSpec[]> {
  const pending = new Set(nodes);
  await waitFor(async () => {
    const checks = await Promise.all([...pending].map(async (n) => [n, await probeReady(n)] as const));
    for (const [n, ok] of checks) if (ok) pending.delete(n);
    return pending.size === 0;
  }, timeoutMs, 200);
  return [...pending];
}

/**
 * Follows the nodes' log files like `tail -f`, prefixing each line with the node name,
 * until `stop()` is called. Polls file sizes: simple, portable, and cheap at 5 Hz.
 */
export function followLogs(nodes: NodeSpec[], write: (line: string) => void): { stop(): void } {
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  for (const n of nodes) offsets.set(n.name, existsSync(n.logFile) ? statSync(n.logFile).size : 0);
  const width = Math.max(...nodes.map((n) => n.name.length));
  const chunk = Buffer.allocUnsafe(64 * 1024);
  const poll = (): void => {
    for (const n of nodes) {
      if (!existsSync(n.logFile)) continue;
      const size = statSync(n.logFile).size;
      let pos = offsets.get(n.name)!;
      if (size < pos) pos = 0;
      if (size === pos) continue;
      const fd = openSync(n.logFile, 'r');
      try {
        while (pos < size) {
          const read = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
          if (read <= 0) break;
          pos += read;
          const text = (partial.get(n.name) ?? '') + chunk.toString('utf8', 0, read);
          const lines = text.split('\n');
          partial.set(n.name, lines.pop()!);
          for (const line of lines) write(`${n.name.padEnd(width)} | ${line}`);
        }
      } finally {
        closeSync(fd);
      }
      offsets.set(n.name, pos);
    }
  };
  const timer = setInterval(poll, 200);
  return {
    stop: () => {
      clearInterval(timer);
      poll();
    },
  };
}
