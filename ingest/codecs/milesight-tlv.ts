// Milesight's channel/type TLV frames (EM310-UDL, EM400-UDL): a sequence of
// [channel id (1 byte)][channel type (1 byte)][value], the value's length fixed by the pair.
// Multi-byte values are little-endian. Attribute frames (channel 0xFF: versions, serial number,
// power-on) carry no measurement and are skipped by their declared lengths; so are the answers to
// configuration downlinks (channel 0xFE, or 0xFF with a type that is not an attribute), whose
// lengths each model's decoder lists (handle_downlink_response).
// Source: github.com/Milesight-IoT/SensorDecoders (commit e79c9d8, 2026-07-30),
// em-series/em310-udl/README.md and em-series/em400-udl/README.md ("Attribute", "Telemetry"), and
// each model's *-decoder.js for the downlink answers.

/** Length of each attribute value on channel 0xFF, by type. */
const ATTRIBUTE_LENGTHS: Record<number, number> = { 0x01: 1, 0x09: 2, 0x0a: 2, 0xff: 2, 0x16: 8, 0x0f: 1, 0xfe: 1, 0x0b: 1 }

export interface TlvField { channel: number; type: number; value: Buffer }

/**
 * Split a frame into fields; `lengths` gives the value length of each known (channel, type),
 * `responses` the length of each downlink answer by type (channels 0xFE and 0xFF).
 */
export function readTlv(bytes: Buffer, lengths: Map<string, number>, responses: Record<number, number> = {}): { ok: true; fields: TlvField[] } | { ok: false; detail: string } {
  const fields: TlvField[] = []
  let i = 0
  while (i < bytes.length) {
    if (i + 2 > bytes.length) return { ok: false, detail: `truncated channel header at byte ${i}` }
    const channel = bytes[i]!
    const type = bytes[i + 1]!
    const len = channel === 0xff ? ATTRIBUTE_LENGTHS[type] ?? responses[type]
      : channel === 0xfe ? responses[type]
        : lengths.get(`${channel}:${type}`)
    if (len === undefined) return { ok: false, detail: `unknown channel 0x${hex(channel)} type 0x${hex(type)} at byte ${i}` }
    if (i + 2 + len > bytes.length) return { ok: false, detail: `channel 0x${hex(channel)} type 0x${hex(type)} needs ${len} bytes, ${bytes.length - i - 2} left` }
    fields.push({ channel, type, value: bytes.subarray(i + 2, i + 2 + len) })
    i += 2 + len
  }
  return { ok: true, fields }
}

const hex = (n: number) => n.toString(16).padStart(2, '0')
