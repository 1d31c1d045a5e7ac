// Sampled statistics as Kafka's metrics library computes them: values fall into samples of
// metrics.sample.window.ms, metrics.num.samples of them are kept, and a rate divides the sum of
// the live samples by the time they cover (at least numSamples-1 full windows, so a rate does
// not spike right after start). Time is passed in by the caller.

interface Sample {
  startMs: number;
  count: number;
  sum: number;
  max: number;
}

export interface SampleConfig {
  windowMs: number;
  numSamples: number;
}

class SampledStat {
  private readonly samples: Sample[] = [];

  constructor(private readonly config: SampleConfig) {}

  record(value: number, nowMs: number): void {
    let s = this.samples[this.samples.length - 1];
    if (!s || nowMs >= s.startMs + this.config.windowMs) {
      s = { startMs: nowMs, count: 0, sum: 0, max: Number.NEGATIVE_INFINITY };
      this.samples.push(s);
      if (this.samples.length > this.config.numSamples) this.samples.shift();
    }
    s.count++;
    s.sum += value;
    if (value > s.max) s.max = value;
  }

  /** Drops samples older than numSamples windows; returns the live ones. */
  live(nowMs: number): Sample[] {
    // Kafka's purgeObsoleteSamples: a sample expires numSamples windows after it started.
    const expireAge = this.config.numSamples * this.config.windowMs;
    while (this.samples.length > 0 && nowMs - this.samples[0]!.startMs >= expireAge) this.samples.shift();
    return this.samples;
  }

  oldestStart(nowMs: number): number {
    return this.live(nowMs)[0]?.startMs ?? nowMs;
  }
}

/** Per-second rate of the recorded values (Kafka's Rate over a windowed sum). */
export class WindowedRate {
  private readonly stat: SampledStat;
  constructor(private readonly config: SampleConfig) {
    this.stat = new SampledStat(config);
  }
  record(value: number, nowMs: number): void {
    this.stat.record(value, nowMs);
  }
  measure(nowMs: number): number {
    const samples = this.stat.live(nowMs);
    const sum = samples.reduce((a, s) => a + s.sum, 0);
    let elapsed = nowMs - this.stat.oldestStart(nowMs);
    const fullWindows = Math.floor(elapsed / this.config.windowMs);
    const minFull = this.config.numSamples - 1;
    if (fullWindows < minFull) elapsed += (minFull - fullWindows) * this.config.windowMs;
    return elapsed <= 0 ? 0 : sum / (elapsed / 1000);
  }
}

/** Average and maximum of the recorded values over the live samples (NaN when none). */
export class WindowedAvg {
  private readonly stat: SampledStat;
  constructor(config: SampleConfig) {
    this.stat = new SampledStat(config);
  }
  record(value: number, nowMs: number): void {
    this.stat.record(value, nowMs);
  }
  avg(nowMs: number): number {
    const samples = this.stat.live(nowMs);
    const count = samples.reduce((a, s) => a + s.count, 0);
    return count === 0 ? Number.NaN : samples.reduce((a, s) => a + s.sum, 0) / count;
  }
  max(nowMs: number): number {
    const samples = this.stat.live(nowMs);
    return samples.length === 0 ? Number.NaN : Math.max(...samples.map((s) => s.max));
  }
}
