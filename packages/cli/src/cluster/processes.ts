// OS processes of a local cluster: start detached, signal, tell alive from dead.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeSpec } from './layout.js';

/** The `samsa` entry point; the same relative path works from src/ and dist/. */
export const SAMSA_BIN = fileURLToPath(new URL('../../bin/samsa.js', import.meta.url));

/**
 * Starts a node as its own detached process (its own process group, so Ctrl-C on a
 * terminal reaches only the launcher, which then stops nodes in order), appending its
 * stdout and stderr to the node's log file.
 */
export function startNodeProcess(spec: NodeSpec, env: NodeJS.ProcessEnv = process.env): number {
  mkdirSync(spec.dataDir, { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(process.execPath, [SAMSA_BIN, ...spec.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...env, NODE_OPTIONS: '', SAMSA_NODE_NAME: spec.name },
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether `pid` is a live process running this node. A zombie (exited, not yet reaped — the
 * launcher of a detached cluster may be gone and PID 1 of a container may not reap) counts as
 * dead, and so does a recycled pid that now runs something else.
 */
export function isNodeAlive(pid: number | undefined, spec: NodeSpec): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (existsSync(stat)) {
    try {
      const text = readFileSync(stat, 'utf8');
      const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return false;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(spec.dataDir)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export function signalNode(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
