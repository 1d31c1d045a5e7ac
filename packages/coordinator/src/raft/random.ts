// A small seeded PRNG (mulberry32) for the core's election timeouts and for simulations. The
// process adapter seeds it from a real entropy source (e.g. crypto.randomInt); tests seed it
// with a number so that every run repeats exactly.

// Module-level references: under jest's vm contexts every global lookup (Math) is slow.
const imul = Math.imul;

/** Returns a generator of uniform numbers in [0, 1) determined entirely by `seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
