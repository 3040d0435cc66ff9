/**
 * A small deterministic PRNG (mulberry32): numbers in [0, 1) from a 32-bit seed. Simulators, demo
 * data, fuzzers and benches use it so that a fleet, a data set or a failing input is reproducible
 * from its seed. Not for anything secret (use node:crypto).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
