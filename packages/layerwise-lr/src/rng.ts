/**
 * A small seeded random-number generator for the measurement init, independent of any tfjs backend:
 * xoshiro128** seeded through splitmix32, 53-bit uniforms, Box-Muller normals. The same seed gives
 * the same numbers on every backend and in every version of tfjs.
 *
 * Each parameter gets its own stream, derived from the user's seed and the parameter's name
 * ({@link deriveSeed}), so adding or removing a parameter never changes the init of the others.
 */

/**
 * FNV-1a hash of a string (UTF-16 code units) to an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * hashString32('fc1.kernel'); // a stable uint32
 * hashString32('fc1.kernel', 0x9e3779b9); // a second, independent hash
 * ```
 */
export function hashString32(s: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32 step: a well-mixed uint32 from a uint32 state. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`seed must be a safe integer, got ${seed}`);
  }
}

/**
 * The seed of one named stream: mixes a user seed (any safe integer) with a key (a parameter name).
 *
 * @example
 * ```ts
 * const rng = new Rng(deriveSeed(42, 'fc1.kernel'));
 * ```
 */
export function deriveSeed(seed: number, key: string): number {
  checkSeed(seed);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return splitmix32(splitmix32(lo ^ splitmix32(hi)) ^ hashString32(key)) >>> 0;
}

/**
 * Seeded generator (xoshiro128**). Not cryptographic; meant for reproducible initialization.
 *
 * @example
 * ```ts
 * const rng = new Rng(7);
 * const u = rng.uniform();   // in (0, 1)
 * const z = rng.normal();    // N(0, 1)
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number) {
    checkSeed(seed);
    let x = (seed >>> 0) ^ splitmix32(Math.floor(seed / 4294967296) >>> 0);
    x = splitmix32(x); this.s0 = x;
    x = splitmix32(x); this.s1 = x;
    x = splitmix32(x); this.s2 = x;
    x = splitmix32(x); this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** Next uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in the open interval (0, 1), 53 bits of resolution. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** Standard normal N(0, 1) by Box-Muller (pairs; the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills `out` with N(mean, std^2) samples and returns it. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
