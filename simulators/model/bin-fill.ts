// How full each bin really is. A household puts waste in most evenings, at its own hour and in its
// own amounts (bigger households more, keen recyclers more in the blue bin, gardens by season); a
// lift empties the bin to a little residue. The level at any instant is the residue of the last
// emptying plus the deposits since, each drawn from a stream fixed by (bin, day): so it can be asked
// in any order and always answers the same, and lifts can be planned before they happen.
import type { City, CityStream } from '../city/city.ts'
import type { Random } from '../random.ts'
import { DAY_MS, HOUR_MS, londonOffsetMs } from '../time.ts'

/** Litres a typical household puts in each stream per day. */
const LITRES_PER_DAY: Record<CityStream, number> = { residual: 11, recycling: 9, garden: 8, food: 1.3 }
/** Kilograms per litre of each stream, loosely packed in a bin. */
export const DENSITY_KG_PER_L: Record<CityStream, number> = { residual: 0.1, recycling: 0.045, garden: 0.22, food: 0.35 }
const DEPOSIT_DAYS = 0.8 // share of days with a deposit
const DEPOSIT_SIGMA = 0.45

interface Household { size: number; recycling: number; garden: number; eveningHour: number }
interface BinLevel { empties: number[]; residues: number[] }
interface Deposit { at: number; litres: number }

/** Garden growth: little in winter, most in early summer. */
function gardenSeason(ms: number): number {
  const d = new Date(ms)
  const dayOfYear = (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS
  return 0.3 + 0.7 * Math.max(0, Math.sin((Math.PI * (dayOfYear - 60)) / 245))
}

export class FillModel {
  private readonly households = new Map<number, Household>()
  private readonly levels = new Map<number, BinLevel>()
  private readonly deposits = new Map<number, Map<number, Deposit | null>>()
  private readonly midnights = new Map<number, number>()
  /** The last level asked for per bin: readings come in time order, so the next one only adds the deposits since. */
  private readonly lastLevel = new Map<number, { from: number; at: number; litres: number }>()

  constructor(
    private readonly city: City,
    private readonly rng: Random,
    /** When a bin's history starts (its last emptying before the simulation), for bins not yet seen. */
    private readonly firstEmptying: (bin: number) => number,
  ) {}

  private household(index: number): Household {
    let h = this.households.get(index)
    if (!h) {
      const r = this.rng.fork('household', index)
      h = { size: clamp(r.logNormal(1, 0.35), 0.35, 2.8), recycling: clamp(r.logNormal(1, 0.3), 0.3, 2.5), garden: clamp(r.logNormal(1, 0.5), 0.2, 3), eveningHour: r.between(17, 22) }
      this.households.set(index, h)
    }
    return h
  }

  /** Mean litres a day the household puts in this bin around `ms`. */
  rate(bin: number, ms: number): number {
    const b = this.city.bins[bin]!
    const h = this.household(b.household)
    const base = LITRES_PER_DAY[b.stream] * h.size
    if (b.stream === 'recycling') return base * h.recycling
    if (b.stream === 'garden') return LITRES_PER_DAY.garden * h.garden * gardenSeason(ms)
    return base
  }

  private level(bin: number): BinLevel {
    let l = this.levels.get(bin)
    if (!l) {
      const at = this.firstEmptying(bin)
      l = { empties: [at], residues: [this.residue(bin, at)] }
      this.levels.set(bin, l)
    }
    return l
  }

  private residue(bin: number, at: number): number {
    return this.city.bins[bin]!.capacityL * this.rng.fork('residue', bin, Math.floor(at / 60_000)).between(0, 0.02)
  }

  /** The deposit of London day `day` (days since the epoch, by UTC midnight), or null when none. */
  private deposit(bin: number, day: number): Deposit | null {
    let byDay = this.deposits.get(bin)
    if (!byDay) this.deposits.set(bin, (byDay = new Map()))
    const known = byDay.get(day)
    if (known !== undefined) return known
    const r = this.rng.fork('deposit', bin, day)
    let d: Deposit | null = null
    if (r.chance(DEPOSIT_DAYS)) {
      const b = this.city.bins[bin]!
      const hour = clamp(this.household(b.household).eveningHour + r.normal(0, 1), 6, 23.9)
      const at = Math.round(this.midnight(day) + hour * HOUR_MS)
      const weekend = new Date(day * DAY_MS).getUTCDay() % 6 === 0 ? 1.25 : 0.9
      // Log-normal amounts with the day's mean: exp(σ²/2) is the mean of a median-1 log-normal.
      const litres = (this.rate(bin, at) * weekend / DEPOSIT_DAYS) * r.logNormal(1, DEPOSIT_SIGMA) / Math.exp((DEPOSIT_SIGMA * DEPOSIT_SIGMA) / 2)
      d = { at, litres }
    }
    byDay.set(day, d)
    return d
  }

  /** London midnight of a day (days since the epoch); the offset is the one at noon, which is fine after 02:00 on clock-change days. */
  private midnight(day: number): number {
    let ms = this.midnights.get(day)
    if (ms === undefined) {
      ms = day * DAY_MS - londonOffsetMs(day * DAY_MS + 12 * HOUR_MS)
      this.midnights.set(day, ms)
    }
    return ms
  }

  /** The bin's real content in litres at `ms` (may exceed its capacity: an overflowing bin). */
  litresAt(bin: number, ms: number): number {
    const l = this.level(bin)
    // The last emptying at or before ms.
    let k = l.empties.length - 1
    while (k > 0 && l.empties[k]! > ms) k--
    const from = l.empties[k]!
    if (from > ms) return l.residues[k]!
    const memo = this.lastLevel.get(bin)
    let litres: number
    let since: number
    if (memo && memo.from === from && memo.at <= ms) {
      litres = memo.litres
      since = memo.at
    } else {
      litres = l.residues[k]!
      since = from
    }
    // Deposits fall between 06:00 and 24:00 London time: a day either side of the UTC days is enough.
    for (let day = Math.floor(since / DAY_MS) - 1; day <= Math.floor(ms / DAY_MS) + 1; day++) {
      const d = this.deposit(bin, day)
      if (d && d.at > since && d.at <= ms) litres += d.litres
    }
    this.lastLevel.set(bin, { from, at: ms, litres })
    return litres
  }

  fillPct(bin: number, ms: number): number {
    return (100 * this.litresAt(bin, ms)) / this.city.bins[bin]!.capacityL
  }

  /**
   * When the bin's content first reaches its capacity after `from` (and before `until`), or null.
   * Deposits are the only way up, so the crossing is at a deposit.
   */
  fullAt(bin: number, from: number, until: number): number | null {
    const capacity = this.city.bins[bin]!.capacityL
    if (this.litresAt(bin, from) >= capacity) return null // already full: no new crossing
    for (let day = Math.floor(from / DAY_MS); day <= Math.floor(until / DAY_MS) + 1; day++) {
      const d = this.deposit(bin, day)
      if (d && d.at > from && d.at <= until && this.litresAt(bin, d.at) >= capacity) return d.at
    }
    return null
  }

  /**
   * Empty the bin at `ms` (a lift, or a fire burning its contents); returns the litres it held.
   * Emptyings are planned ahead (fires when the simulation starts, lifts the evening before), so
   * every level asked for later already sees them.
   */
  empty(bin: number, ms: number): number {
    const l = this.level(bin)
    const held = this.litresAt(bin, ms)
    let k = l.empties.length
    while (k > 0 && l.empties[k - 1]! > ms) k--
    l.empties.splice(k, 0, ms)
    l.residues.splice(k, 0, this.residue(bin, ms))
    this.lastLevel.delete(bin)
    return held
  }

  /** The last emptying at or before `ms`. */
  lastEmptied(bin: number, ms: number): number {
    const l = this.level(bin)
    let k = l.empties.length - 1
    while (k > 0 && l.empties[k]! > ms) k--
    return l.empties[k]!
  }
}

export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))
