// Milesight EM310-UDL ultrasonic distance sensor (LoRaWAN), channel/type TLV:
//   01 75 battery %, 1 byte | 03 82 distance mm, uint16 LE | 04 00 position, 0 normal / 1 tilt
// Source: github.com/Milesight-IoT/SensorDecoders, em-series/em310-udl/README.md (EM_Series/EM300_Series/EM310-UDL before 2025).
// Battery: one ER18505 3.6 V Li-SOCl2 cell (datasheet); volts estimated linearly from %.
import { readTlv } from './milesight-tlv.ts'
import { fail, numberOf, type Codec, type DecodeResult, type SensorValues } from './types.ts'

const LENGTHS = new Map([['1:117', 1], ['3:130', 2], ['4:0', 1]])
/** Answers to configuration downlinks, by type, as the vendor's decoder reads them (handle_downlink_response). */
const RESPONSES: Record<number, number> = { 0x10: 1, 0x02: 2, 0x03: 2, 0x06: 9 }

export const em310Udl: Codec = {
  model: 'milesight-em310-udl',
  vendor: 'Milesight',
  source: 'Milesight-IoT/SensorDecoders EM310-UDL README',
  battery: { emptyV: 3.0, fullV: 3.6 },
  decode(bytes) {
    const tlv = readTlv(bytes, LENGTHS, RESPONSES)
    if (!tlv.ok) return fail(tlv.detail)
    const values: SensorValues = { distanceMm: null, notes: [] }
    let any = false
    for (const f of tlv.fields) {
      if (f.channel === 0x01) { values.batteryPct = f.value.readUInt8(0); any = true }
      if (f.channel === 0x03) { values.distanceMm = f.value.readUInt16LE(0); any = true }
      if (f.channel === 0x04) { values.tilted = f.value.readUInt8(0) === 1; any = true }
    }
    // Attributes or downlink answers only (sent at power-on and after a configuration change): no reading.
    if (!any) values.notes.push('device_attributes')
    return { ok: true, values }
  },
  fromDecoded: (d) => fromMilesightDecoded(d),
}

/** Field names of Milesight's own decoders (battery, distance, position, temperature). */
export function fromMilesightDecoded(d: Record<string, unknown>): DecodeResult {
  const distance = numberOf(d.distance)
  const battery = numberOf(d.battery)
  const temperature = numberOf(d.temperature)
  if (distance === undefined && battery === undefined) return fail('decoded payload has neither distance nor battery')
  const values: SensorValues = { distanceMm: distance ?? null, notes: [] }
  if (battery !== undefined) values.batteryPct = battery
  if (temperature !== undefined) values.tempC = temperature
  if (d.position !== undefined) values.tilted = d.position === 'tilt' || d.position === 1
  return { ok: true, values }
}
