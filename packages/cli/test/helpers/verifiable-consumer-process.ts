// A `samsa verifiable-consumer` (or verifiable-producer) child process whose JSON event lines a
// test reads as they arrive, waits on (with deadlines), and ends with SIGTERM or kill -9.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { SAMSA_BIN } from '../run-cli.js';

export interface ConsumerEvent {
  timestamp: number;
  name: string;
  partition?: number;
  offset?: number;
  partitions?: Array<{ topic: string; partition: number; count?: number; minOffset?: number; maxOffset?: number }>;
  offsets?: Array<{ topic: string; partition: number; offset: number }>;
  success?: boolean;
  error?: string;
  count?: number;
}

export class VerifiableConsumerProcess {
  readonly events: ConsumerEvent[] = [];
  stderr = '';
  /** The exit code, null while running or when ended by a signal (see `running`). */
  exitCode: number | null = null;
  running = true;
  /** When the process was killed -9 (ms since the epoch), for ownership checks. */
  killedAtMs: number | null = null;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exit: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    args: string[],
    command = 'verifiable-consumer',
  ) {
    this.child = spawn(process.execPath, [SAMSA_BIN, command, ...args], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.trim() !== '') this.events.push(JSON.parse(l) as ConsumerEvent);
      this.wake();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exit = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.exitCode = code;
        this.running = false;
        this.wake();
        resolve(code);
      }),
    );
    this.child.stdin.end();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `done()` holds (checked at every new line and at exit); rejects after `ms`. */
  async until(done: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: not ${what} within ${ms} ms; exit ${this.exitCode}; stderr: ${this.stderr.slice(-2000)}; last events: ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Records counted in records_consumed events (per partition counts, as Kafka's harness sums them). */
  consumedCount(): number {
    return this.events.filter((e) => e.name === 'records_consumed').reduce((n, e) => n + (e.partitions ?? []).reduce((m, p) => m + (p.count ?? 0), 0), 0);
  }

  /** The partitions of the latest partitions_assigned (eager assignors hand out the whole assignment). */
  assignment(): Array<{ topic: string; partition: number }> {
    const last = [...this.events].reverse().find((e) => e.name === 'partitions_assigned' || e.name === 'partitions_revoked');
    return last?.name === 'partitions_assigned' ? (last.partitions ?? []) : [];
  }

  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exit;
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.killedAtMs = Date.now();
    this.child.kill('SIGKILL');
    await this.exit;
  }

  exited(): Promise<number | null> {
    return this.exit;
  }
}
