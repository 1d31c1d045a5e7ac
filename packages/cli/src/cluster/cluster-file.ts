// <data-dir>/cluster.json: the layout of a local cluster and the pid of each node's latest
// process. Written atomically (temp file + rename) since several commands read it.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterLayout } from './layout.js';

export interface ClusterFile {
  version: 1;
  layout: ClusterLayout;
  pids: Record<string, number>;
}

export function clusterFilePath(dataDir: string): string {
  return join(dataDir, 'cluster.json');
}

export function readClusterFile(dataDir: string): ClusterFile | null {
  const path = clusterFilePath(dataDir);
  if (!existsSync(path)) return null;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  if (parsed.version !== 1 || !parsed.layout || !Array.isArray(parsed.layout.nodes)) {
    throw new Error(`${path} is not a samsa cluster file`);
  }
  return parsed;
}

export function writeClusterFile(dataDir: string, file: ClusterFile): void {
  const path = clusterFilePath(dataDir);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
  renameSync(tmp, path);
}
