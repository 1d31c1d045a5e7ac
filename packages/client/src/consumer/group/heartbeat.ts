// The timing of a group member's liveness (Kafka's Heartbeat): when the next heartbeat is due
// (heartbeat.interval.ms after the last one was sent, or retry.backoff.ms after a failure), when
// the session is lost (no answer from the coordinator within session.timeout.ms), and when the
// application stopped polling (max.poll.interval.ms). Pure: every method takes `now`.

export interface HeartbeatSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  retryBackoffMs: number;
}

export class HeartbeatTimer {
  private lastSentMs = 0;
  private lastReceivedMs: number;
  private lastPollMs: number;
  private nextDueMs = 0;
  private sessionStartMs: number;

  constructor(
    private readonly s: HeartbeatSettings,
    nowMs: number,
  ) {
    this.lastReceivedMs = nowMs;
    this.lastPollMs = nowMs;
    this.sessionStartMs = nowMs;
  }

  /** The application called poll(). */
  poll(nowMs: number): void {
    this.lastPollMs = nowMs;
  }

  sent(nowMs: number): void {
    this.lastSentMs = nowMs;
    this.nextDueMs = nowMs + this.s.heartbeatIntervalMs;
  }

  received(nowMs: number): void {
    this.lastReceivedMs = nowMs;
    this.sessionStartMs = nowMs;
  }

  /** A heartbeat failed (no answer, coordinator error): try again after the backoff. */
  failed(nowMs: number): void {
    this.nextDueMs = nowMs + this.s.retryBackoffMs;
  }

  /** A new session begins (joined, or the coordinator was found again): the session clock restarts. */
  resetSession(nowMs: number): void {
    this.sessionStartMs = nowMs;
    this.lastReceivedMs = nowMs;
    this.nextDueMs = nowMs + this.s.heartbeatIntervalMs;
  }

  resetPollTimer(nowMs: number): void {
    this.lastPollMs = nowMs;
  }

  timeToNextHeartbeat(nowMs: number): number {
    return Math.max(0, this.nextDueMs - nowMs);
  }

  sessionExpired(nowMs: number): boolean {
    return nowMs - this.sessionStartMs >= this.s.sessionTimeoutMs;
  }

  pollTimeoutExpired(nowMs: number): boolean {
    return nowMs - this.lastPollMs >= this.s.maxPollIntervalMs;
  }

  /** When the heartbeat loop should look again: the next heartbeat, the session end or the poll deadline. */
  nextCheckMs(nowMs: number): number {
    return Math.min(this.nextDueMs, this.sessionStartMs + this.s.sessionTimeoutMs, this.lastPollMs + this.s.maxPollIntervalMs, nowMs + this.s.heartbeatIntervalMs);
  }

  lastHeartbeatReceivedMs(): number {
    return this.lastReceivedMs;
  }

  lastHeartbeatSentMs(): number {
    return this.lastSentMs;
  }
}
