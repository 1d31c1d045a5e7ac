// A seeded uniform [0, 1) generator (mulberry32) for tests: the same seed gives the same run.

export const TEST_SEED = Number(process.env.SAMSA_TEST_SEED ?? 20_261_201);

export function seededRandom(seed: number = TEST_SEED): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
