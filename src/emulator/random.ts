/** A source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: small, fast, and the same seed always gives the same chaos decisions. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True with probability `p`; draws nothing when `p` is 0, so turning one setting off leaves the others' sequence alone. */
export function chance(random: Random, p: number): boolean {
  return p > 0 && random() < p;
}
