// Configuration of long-running node commands: flags, then environment variables
// (SAMSA_<ROLE>_<FLAG>, e.g. SAMSA_COORDINATOR_DATA_DIR), then a config file (--config:
// JSON, or Kafka-style `key=value` properties where `data.dir` and `data-dir` mean the same).

import { readFileSync } from 'node:fs';

export function parseConfigFile(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path}: expected a JSON object`);
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const eq = line.search(/[=:]/);
    if (eq <= 0) throw new Error(`${path}:${i + 1}: expected key=value`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    out[key] = value;
    out[key.replace(/\./g, '-')] = value;
  });
  return out;
}

/** `host:port` → [host, port]; throws a clear error otherwise. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${what} must be host:port, got ${JSON.stringify(value)}`);
  return { host: value.slice(0, i), port };
}

/** `1=host:port,2=host:port` → Map(id → address). */
export function parsePeers(value: string): Map<number, string> {
  const peers = new Map<number, string>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)=(.+)$/.exec(part);
    if (!m) throw new Error(`--peers entries must be id=host:port, got ${JSON.stringify(part)}`);
    const id = Number(m[1]);
    parseHostPort(m[2]!, `peer ${id}`);
    if (id < 1 || peers.has(id)) throw new Error(`--peers: bad or duplicate id ${id}`);
    peers.set(id, m[2]!);
  }
  if (peers.size === 0) throw new Error('--peers names no member');
  return peers;
}
