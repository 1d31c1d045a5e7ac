// The real `samsa` binary as a child process without blocking the test's event loop, for the
// commands a test runs side by side (two slow failures at once, a consumer while producing).
import { spawn } from 'node:child_process';
import { SAMSA_BIN, type CliRun } from '../run-cli.js';

export function runCliAsync(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliRun & { ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [SAMSA_BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(options.input ?? '');
  });
}
