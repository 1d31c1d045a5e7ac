// All benchmarks of @samsa/log, as JSON lines: the codec's, then the log's.
//
//   cd packages/log && npx -y pnpm@10.34.9 bench
//   npx tsx --conditions=@samsa/source packages/log/bench/run.ts
//   SAMSA_BENCH_LOG_BYTES=268435456 …   (a smaller log for a quick run; default 1 GiB)

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runLogBench } from './log.js';

const codecBench = fileURLToPath(new URL('./codec.ts', import.meta.url));
if (fs.existsSync(codecBench)) {
  const { runCodecBench } = (await import('./codec.js')) as { runCodecBench: () => Promise<void> };
  await runCodecBench();
} else {
  console.log(JSON.stringify({ bench: 'codec', skipped: 'bench/codec.ts is not there yet' }));
}
await runLogBench();
