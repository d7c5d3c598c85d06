// Identifiers that look like the real ones: UPRNs, RFID tags, number plates, CRM references.
import type { Random } from '../random.ts'

/**
 * Unique UPRNs. Most English UPRNs are 12-digit numbers allocated nationally (1000…); councils'
 * own older ranges are shorter (Liverpool's start 38…). Never more than 12 digits, no check digit.
 */
export function uprns(rng: Random, count: number): number[] {
  const seen = new Set<number>()
  const out: number[] = []
  while (out.length < count) {
    const u = rng.chance(0.85) ? 100_000_000_000 + rng.int(0, 99_999_999) : 380_000_000 + rng.int(0, 9_999_999)
    if (seen.has(u)) continue
    seen.add(u)
    out.push(u)
  }
  return out
}

/** The murmur3 finaliser: a bijection on 32-bit integers, so distinct inputs give distinct tags. */
function mix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/** RFID tag of the n-th bin: an EPC-like hex string, unique within the city by construction. */
export function rfidTag(citySalt: number, n: number): string {
  return `E280${mix32((n ^ citySalt) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`
}

const PLATE_LETTERS = 'ABCDEFGHJKLMNOPRSTUVWXYZ' // no I, Q
/** A current-style UK number plate (memory tag, age identifier, three letters); unique in the list. */
export function registrations(rng: Random, count: number): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  const letter = () => PLATE_LETTERS[rng.int(0, PLATE_LETTERS.length - 1)]
  while (out.length < count) {
    const age = rng.pick(['19', '69', '20', '70', '21', '71', '22', '72', '23', '73', '24', '74'])
    const plate = `C${rng.pick(['X', 'Y', 'U', 'V'])}${age} ${letter()}${letter()}${letter()}`
    if (!seen.has(plate)) {
      seen.add(plate)
      out.push(plate)
    }
  }
  return out
}

/** A CRM customer reference, as a council's customer system would hold it. */
export const crmRef = (n: number): string => `CUS${String(n).padStart(8, '0')}`
