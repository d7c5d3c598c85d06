// Decentlab DL-MBX ultrasonic distance/level sensor (LoRaWAN), Decentlab protocol v2, big-endian:
//   [0] protocol version = 2 | [1..2] device id | [3..4] flags: bit 0 distance sensor present,
//   bit 1 battery present | then per present sensor its uint16 values:
//   distance: distance mm, number of valid samples | battery: mV
// A reading with no valid samples has no distance.
// Source: github.com/decentlab/decentlab-decoders DL-MBX/DL-MBX.js and
// TheThingsNetwork/lorawan-devices vendor/decentlab/dl-mbx-codec.yaml (02012f000304d200010bb1).
// Battery: 2 × 1.5 V lithium AA in series (datasheet: 3.0 V nominal); 2.0 V treated as empty.
import { fail, numberOf, type Codec, type SensorValues } from './types.ts'

export const dlMbx: Codec = {
  model: 'decentlab-dl-mbx',
  vendor: 'Decentlab',
  source: 'TheThingsNetwork/lorawan-devices vendor/decentlab/dl-mbx-codec.yaml',
  battery: { emptyV: 2.0, fullV: 3.2 },
  decode(bytes) {
    if (bytes.length < 5) return fail(`${bytes.length} bytes; a Decentlab v2 frame has a 5-byte header`)
    if (bytes[0] !== 2) return fail(`protocol version ${bytes[0]} is not Decentlab v2`)
    const flags = bytes.readUInt16BE(3)
    const need = 5 + (flags & 1 ? 4 : 0) + (flags & 2 ? 2 : 0)
    if (bytes.length < need) return fail(`flags 0x${flags.toString(16)} need ${need} bytes, got ${bytes.length}`)
    const values: SensorValues = { distanceMm: null, notes: [] }
    let pos = 5
    if (flags & 1) {
      const distance = bytes.readUInt16BE(pos)
      const samples = bytes.readUInt16BE(pos + 2)
      pos += 4
      if (samples > 0) values.distanceMm = distance
      else values.notes.push('no_valid_samples')
    }
    if (flags & 2) values.batteryV = bytes.readUInt16BE(pos) / 1000
    return { ok: true, values }
  },
  fromDecoded(d) {
    // DL-MBX.js: distance {value}, number_of_valid_samples {value}, battery_voltage {value}.
    const distance = numberOf(d.distance)
    const samples = numberOf(d.number_of_valid_samples)
    const battery = numberOf(d.battery_voltage)
    if (distance === undefined && battery === undefined) return fail('decoded payload has neither distance nor battery_voltage')
    const values: SensorValues = { distanceMm: distance !== undefined && samples !== 0 ? distance : null, notes: [] }
    if (battery !== undefined) values.batteryV = battery
    return { ok: true, values }
  },
}
