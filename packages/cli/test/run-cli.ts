// Runs the real `samsa` binary (bin/samsa.js → dist/) as a child process, the way users do.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SAMSA_BIN = fileURLToPath(new URL('../bin/samsa.js', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [SAMSA_BIN, ...args], {
    encoding: 'utf8',
    input: options.input,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    timeout: options.timeoutMs ?? 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
