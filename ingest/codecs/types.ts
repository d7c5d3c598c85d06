// What a bin sensor's uplink says, in Kerbside's terms, before the bin's geometry turns a distance
// into a fill level. Each vendor codec produces this from the raw frame (FRMPayload) or from the
// fields the network server's own payload formatter already decoded.

export interface SensorValues {
  /** Distance from the sensor face to the waste, mm; null when the sensor reported no valid distance. */
  distanceMm: number | null
  batteryPct?: number
  batteryV?: number
  tempC?: number
  /** The sensor reports the bin tilted or knocked over (Milesight `position: tilt`). */
  tilted?: boolean
  /** Vendor flags worth keeping (alarms, "no sensor", "invalid reading"), for the quarantine detail and the logs. */
  notes: string[]
}

export type DecodeResult = { ok: true; values: SensorValues } | { ok: false; detail: string }

/** A battery's usable range, for turning volts into % and back (a linear estimate: see docs/lorawan.md). */
export interface BatteryCurve { emptyV: number; fullV: number }

export interface Codec {
  /** Model id as registered on the device (lower case, e.g. `milesight-em310-udl`). */
  model: string
  vendor: string
  /** The published document the codec follows. */
  source: string
  battery: BatteryCurve
  /** Decode the raw frame. */
  decode(bytes: Buffer, fPort: number | undefined): DecodeResult
  /** Read the fields of the vendor's own decoder, as the network server's payload formatter produced them. */
  fromDecoded(decoded: Record<string, unknown>): DecodeResult
}

export const fail = (detail: string): DecodeResult => ({ ok: false, detail })

/** A finite number from a decoder field: a number, or a string such as "2799 mm" or "0.00". */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string') {
    const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(v)
    return m ? Number(m[1]) : undefined
  }
  if (v && typeof v === 'object' && 'value' in v) return numberOf((v as { value: unknown }).value)
  return undefined
}
