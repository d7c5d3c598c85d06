// Milesight EM400-UDL ultrasonic distance/level sensor (LoRaWAN), channel/type TLV:
//   01 75 battery %, 1 byte | 03 67 temperature 0.1 °C, int16 LE | 04 82 distance mm, uint16 LE
//   05 00 position, 0 normal / 1 tilt | 83 67 temperature + alarm byte | 84 82 distance + alarm byte
// Source: github.com/Milesight-IoT/SensorDecoders, em-series/em400-udl/README.md (EM_Series/EM400_Series/EM400-UDL before 2025).
// Battery: ER26500 3.6 V Li-SOCl2 (datasheet); volts estimated linearly from %.
import { fromMilesightDecoded } from './milesight-em310-udl.ts'
import { readTlv } from './milesight-tlv.ts'
import { fail, type Codec, type SensorValues } from './types.ts'

const LENGTHS = new Map([['1:117', 1], ['3:103', 2], ['4:130', 2], ['5:0', 1], ['131:103', 3], ['132:130', 3], ['6:136', 9]])
/** Answers to configuration downlinks, by type, as the vendor's decoder reads them (handle_downlink_response). */
const RESPONSES: Record<number, number> = { 0x02: 2, 0x03: 2, 0x06: 9, 0x10: 1, 0x13: 1, 0x1c: 2, 0x28: 1, 0x3e: 1, 0x4a: 1, 0x56: 1, 0x70: 2, 0x71: 1 }

export const em400Udl: Codec = {
  model: 'milesight-em400-udl',
  vendor: 'Milesight',
  source: 'Milesight-IoT/SensorDecoders EM400-UDL README',
  battery: { emptyV: 3.0, fullV: 3.6 },
  decode(bytes) {
    const tlv = readTlv(bytes, LENGTHS, RESPONSES)
    if (!tlv.ok) return fail(tlv.detail)
    const values: SensorValues = { distanceMm: null, notes: [] }
    let any = false
    for (const f of tlv.fields) {
      switch (f.channel) {
        case 0x01: values.batteryPct = f.value.readUInt8(0); any = true; break
        case 0x03: values.tempC = f.value.readInt16LE(0) / 10; any = true; break
        case 0x04: values.distanceMm = f.value.readUInt16LE(0); any = true; break
        case 0x05: values.tilted = f.value.readUInt8(0) === 1; any = true; break
        case 0x83:
          values.tempC = f.value.readInt16LE(0) / 10
          if (f.value.readUInt8(2) === 1) values.notes.push('temperature_alarm')
          any = true
          break
        case 0x84:
          values.distanceMm = f.value.readUInt16LE(0)
          if (f.value.readUInt8(2) === 1) values.notes.push('distance_alarm')
          any = true
          break
        // 06 88: NB-IoT location; a LoRaWAN bin does not move with it, so it is read past.
      }
    }
    // Attributes or downlink answers only (sent at power-on and after a configuration change): no reading.
    if (!any) values.notes.push('device_attributes')
    return { ok: true, values }
  },
  fromDecoded: (d) => fromMilesightDecoded(d),
}
