// Payload decoding for the device contract: JSON on the plain topic, CBOR (RFC 8949) on `/cbor`.
// CBOR devices may send `ts` as epoch milliseconds to save bytes; it is normalised to ISO 8601.
import { decode as decodeCbor, encode as encodeCbor } from 'cborg'
import { validateMessage, type MessageKind, type ValidationResult } from './messages.ts'

export function decodePayload(kind: MessageKind, payload: Buffer, binary: boolean, maxBytes: number, now = Date.now()): ValidationResult {
  if (payload.length > maxBytes) return { ok: false, reason: 'payload_too_large', detail: `${payload.length} bytes exceeds the ${maxBytes}-byte limit` }
  let body: unknown
  if (binary) {
    try {
      body = decodeCbor(payload)
    } catch (err) {
      return { ok: false, reason: 'bad_encoding', detail: `not CBOR: ${(err as Error).message.slice(0, 120)}` }
    }
    if (body && typeof body === 'object' && typeof (body as { ts?: unknown }).ts === 'number') {
      const ms = (body as { ts: number }).ts
      const date = new Date(ms)
      if (!Number.isFinite(date.getTime())) return { ok: false, reason: 'bad_timestamp', detail: `ts ${ms} is not a valid epoch time` }
      ;(body as { ts: string }).ts = date.toISOString()
    }
  } else {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload)
    } catch {
      return { ok: false, reason: 'bad_encoding', detail: 'payload is not valid UTF-8' }
    }
    try {
      body = JSON.parse(text)
    } catch (err) {
      return { ok: false, reason: 'bad_json', detail: (err as Error).message.slice(0, 160) }
    }
  }
  return validateMessage(kind, body, now)
}

/** Encode a message for a low-power device (the simulators use this to exercise the CBOR path). */
export function encodeBinary(body: Record<string, unknown>): Buffer {
  const out: Record<string, unknown> = { ...body }
  if (typeof out.ts === 'string') out.ts = Date.parse(out.ts)
  return Buffer.from(encodeCbor(out))
}
