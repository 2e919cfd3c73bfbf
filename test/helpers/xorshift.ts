/** A deterministic pseudo-random sequence (xorshift32) for generated test inputs. */
export function xorshift32(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
