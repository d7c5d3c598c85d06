// What a network server tells Kerbside about a device, whichever network server it is.
import { normaliseDevEui } from '../../storage/lorawan-devices.ts'

export type NetworkServer = 'ttn' | 'chirpstack'

export type LoRaWANEvent =
  | {
    kind: 'up'
    devEui: string
    fCnt: number
    fPort?: number
    /** FRMPayload; null when the uplink carried none (a MAC-only frame). */
    payload: Buffer | null
    /** What the network server's payload formatter (TTS) or codec (ChirpStack) made of it. */
    decoded: Record<string, unknown> | null
    /** Network-server time of reception: the same on every copy of the uplink, so it is the reading's ts. */
    receivedAt: Date
    batteryPct?: number
    gateways: number
  }
  | { kind: 'join'; devEui: string; at: Date }
  | { kind: 'status'; devEui: string; at: Date; batteryPct: number | null }
  /** Events Kerbside takes note of and does nothing with (downlink acks, locations, logs). */
  | { kind: 'ignored'; devEui: string | null; event: string }

export type ParseResult = { ok: true; event: LoRaWANEvent } | { ok: false; devEui: string | null; detail: string }

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A DevEUI as network servers write it: hex (TTS, ChirpStack v4) or base64 of 8 bytes (ChirpStack v3 JSON). */
export function devEuiOf(v: unknown): string | null {
  if (typeof v !== 'string') return null
  const hex = normaliseDevEui(v)
  if (hex) return hex
  if (/^[A-Za-z0-9+/]{11}=$/.test(v)) return normaliseDevEui(Buffer.from(v, 'base64').toString('hex'))
  return null
}

/** An ISO 8601 time with a zone, as both network servers write them (nanoseconds allowed). */
export function timeOf(v: unknown): Date | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return null
  // Date keeps milliseconds; a time written with nanoseconds is cut (not rounded), so every copy of it agrees.
  const ms = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'))
  return Number.isFinite(ms) ? new Date(ms) : null
}

/** A frame counter: absent means 0 (both servers leave out zero values), otherwise a 32-bit unsigned integer. */
export function fCntOf(v: unknown): number | null {
  if (v === undefined || v === null) return 0
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : null
}

export function base64Of(v: unknown): Buffer | null | false {
  if (v === undefined || v === null || v === '') return null
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) return false
  return Buffer.from(v, 'base64')
}
