// Dragino LDDS75 ultrasonic distance sensor (LoRaWAN), FPort 2, big-endian:
//   [0..1] battery mV (low 14 bits) | [2..3] distance mm | [4] interrupt flag
//   [5..6] DS18B20 temperature 0.1 °C, signed (0 when no probe) | [7] sensor flag (1 = probe connected)
// Firmware before v1.1.4 sends 5 bytes (no temperature); 4 bytes means the ultrasonic probe is missing.
// A distance below 20 mm is Dragino's "Invalid Reading"; 0 is no echo.
// Source: TheThingsNetwork/lorawan-devices vendor/dragino/ldds75-114.js and ldds75-114-codec.yaml
// (the example frame 0D3B0AEF00000001), and ldds75.js / ldds75-codec.yaml (0E1C0B05: "No Sensor").
// Battery: ER26500 3.6 V Li-SOCl2; Dragino treats 2.5 V as empty.
import { fail, numberOf, type Codec, type SensorValues } from './types.ts'

export const ldds75: Codec = {
  model: 'dragino-ldds75',
  vendor: 'Dragino',
  source: 'TheThingsNetwork/lorawan-devices vendor/dragino/ldds75-114-codec.yaml',
  battery: { emptyV: 2.5, fullV: 3.6 },
  decode(bytes, fPort) {
    if (fPort !== undefined && fPort !== 2) return fail(`FPort ${fPort} is not a measurement (LDDS75 measures on FPort 2)`)
    if (bytes.length < 4) return fail(`${bytes.length} bytes; an LDDS75 measurement has at least 4`)
    const values: SensorValues = { distanceMm: null, notes: [], batteryV: (bytes.readUInt16BE(0) & 0x3fff) / 1000 }
    if (bytes.length === 4) {
      values.notes.push('no_sensor')
      return { ok: true, values }
    }
    const distance = bytes.readUInt16BE(2)
    if (distance === 0) values.notes.push('no_echo')
    else if (distance < 20) values.notes.push('invalid_reading')
    else values.distanceMm = distance
    if (bytes[4] === 1) values.notes.push('interrupt')
    if (bytes.length >= 8 && bytes[7] === 1) {
      const raw = bytes.readInt16BE(5)
      if (raw !== 0) values.tempC = raw / 10
    }
    return { ok: true, values }
  },
  fromDecoded(d) {
    // ldds75-114.js: Bat (V), Distance ("2799 mm"), TempC_DS18B20 ("0.00"), Sensor_flag.
    const bat = numberOf(d.Bat ?? d.BatV)
    const distance = numberOf(d.Distance ?? d.distance)
    if (bat === undefined && distance === undefined) return fail('decoded payload has neither Distance nor Bat')
    const values: SensorValues = { distanceMm: distance !== undefined && distance >= 20 ? distance : null, notes: [] }
    if (distance === undefined || distance < 20) values.notes.push('invalid_reading')
    if (bat !== undefined) values.batteryV = bat
    const temp = numberOf(d.TempC_DS18B20)
    if (temp !== undefined && temp !== 0 && numberOf(d.Sensor_flag) === 1) values.tempC = temp
    return { ok: true, values }
  },
}
