// Seeded randomness for the simulators. Everything random in a simulated city comes from here, so the
// same seed gives the same city and the same events.
//
// Streams are forked by label (`rng.fork('crew', roundId, date)`) rather than drawn from one shared
// sequence: a fork depends only on the seed and its labels, so adding sensors or changing a rate in
// one part of the model never shifts the draws of another part.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'

type Label = string | number

/**
 * 32-bit FNV-1a over the labels (numbers by their 32-bit halves, strings by their UTF-16 units),
 * then a murmur3 finaliser so that near labels give far seeds.
 */
export function hashLabels(seed: number, labels: readonly Label[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (const l of labels) {
    if (typeof l === 'number') {
      const hi = Math.floor(l / 0x1_0000_0000)
      h = Math.imul(h ^ 0x23, 0x01000193) // a tag, so that 1 and '1' differ
      h = Math.imul(h ^ (l >>> 0), 0x01000193)
      h = Math.imul(h ^ (hi >>> 0), 0x01000193)
    } else {
      for (let i = 0; i < l.length; i++) h = Math.imul(h ^ l.charCodeAt(i), 0x01000193)
    }
    h = Math.imul(h ^ 0x1f, 0x01000193) // a separator, so that ('ab','c') and ('a','bc') differ
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

export class Random {
  private readonly gen: RandomGenerator

  constructor(readonly seed: number, private readonly labels: readonly Label[] = []) {
    this.gen = xoroshiro128plus(hashLabels(seed, labels))
    // pure-rand seeds xoroshiro's state directly from the 32-bit seed; its first outputs are
    // little more than the seed itself. A few discarded steps mix the state.
    for (let i = 0; i < 4; i++) this.gen.next()
  }

  /** An independent stream for one concern, fixed by the seed and the labels alone. */
  fork(...labels: Label[]): Random {
    return new Random(this.seed, [...this.labels, ...labels])
  }

  /** Uniform in [0, 1). */
  next(): number {
    return uniformFloat64(this.gen)
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max)
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[this.int(0, items.length - 1)]!
  }

  /** Pick by weight; weights need not sum to one. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((s, [, w]) => s + w, 0)
    let x = this.next() * total
    for (const [value, w] of entries) {
      x -= w
      if (x < 0) return value
    }
    return entries[entries.length - 1]![0]
  }

  /** Standard normal by Box–Muller (one of the pair is discarded: simplicity over speed). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next() // (0, 1]: log(0) is not a number
    const v = this.next()
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Log-normal with the given median and log-space spread: sizes and rates that are never negative. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma))
  }

  /** Exponential waiting time with the given mean (Poisson arrivals). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[items[i], items[j]] = [items[j]!, items[i]!]
    }
    return items
  }
}

export const createRandom = (seed: number): Random => new Random(seed)
