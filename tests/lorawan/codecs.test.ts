// Vendors' published example frames, decoded by Kerbside's codecs: hex and values quoted from each
// vendor's document (named per test), then turned into a fill level for a 240 l bin.
import { describe, expect, test } from 'vitest'
import { codecFor, CODECS } from '../../ingest/codecs/index.ts'
import { fillFromDistance, geometryFor, pctFromVolts, toReading, voltsFromPct } from '../../ingest/codecs/fill-level.ts'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const codec = (model: string) => {
  const c = codecFor(model)
  if (!c) throw new Error(`no codec ${model}`)
  return c
}

describe('Milesight EM310-UDL (Milesight-IoT/SensorDecoders em-series/em310-udl/README.md, "Example", commit e79c9d8)', () => {
  test('01755C 03824408 040001 → battery 92 %, distance 2116 mm, position tilt', () => {
    const r = codec('milesight-em310-udl').decode(hex('01755C 03824408 040001'), 85)
    expect(r).toEqual({ ok: true, values: { batteryPct: 92, distanceMm: 2116, tilted: true, notes: [] } })
  })
  test('device attribute frames are skipped by their lengths; a frame with nothing else has no distance', () => {
    // ff0bff (power on) ff0101 (protocol version) ff166136c39073840000 (serial number): from the same README's attribute table.
    expect(codec('milesight-em310-udl').decode(hex('ff0bff ff0101 ff166136c39073840000'), 85)).toEqual({ ok: true, values: { distanceMm: null, notes: ['device_attributes'] } })
    expect(codec('milesight-em310-udl').decode(hex('ff0101 01755C 03824408'), 85)).toMatchObject({ ok: true, values: { batteryPct: 92, distanceMm: 2116 } })
  })
  test('answers to configuration downlinks (channels 0xFE/0xFF, lengths from em310-udl-decoder.js handle_downlink_response) are read past', () => {
    // fe03 b004: report interval 1200 s; ff10 ff: reboot answer.
    expect(codec('milesight-em310-udl').decode(hex('fe03b004 ff10ff 01755C 03820802'), 85)).toEqual({ ok: true, values: { batteryPct: 92, distanceMm: 520, notes: [] } })
    expect(codec('milesight-em400-udl').decode(hex('ff1c0a00'), 85)).toEqual({ ok: true, values: { distanceMm: null, notes: ['device_attributes'] } })
  })
  test('a truncated or unknown channel is refused with where it broke', () => {
    expect(codec('milesight-em310-udl').decode(hex('01755C 038244'), 85)).toEqual({ ok: false, detail: 'channel 0x03 type 0x82 needs 2 bytes, 1 left' })
    expect(codec('milesight-em310-udl').decode(hex('0999 00'), 85)).toEqual({ ok: false, detail: 'unknown channel 0x09 type 0x99 at byte 0' })
    expect(codec('milesight-em310-udl').decode(hex('01'), 85)).toEqual({ ok: false, detail: 'truncated channel header at byte 0' })
  })
  test("the vendor decoder's output, as a payload formatter delivers it", () => {
    expect(codec('milesight-em310-udl').fromDecoded({ battery: 92, distance: 2116, position: 'tilt' })).toEqual({ ok: true, values: { batteryPct: 92, distanceMm: 2116, tilted: true, notes: [] } })
  })
})

describe('Milesight EM400-UDL (Milesight-IoT/SensorDecoders em-series/em400-udl/README.md, "Example (Sensor Payload Data)", commit e79c9d8)', () => {
  test('01755C 03670101 04824408 050001 → battery 92, temperature 25.7, distance 2116, position tilt', () => {
    expect(codec('milesight-em400-udl').decode(hex('01755C 03670101 04824408 050001'), 85))
      .toEqual({ ok: true, values: { batteryPct: 92, tempC: 25.7, distanceMm: 2116, tilted: true, notes: [] } })
  })
  test('8367e80001 8482410601 → temperature 23.2 with its alarm, distance 1601 with its alarm', () => {
    expect(codec('milesight-em400-udl').decode(hex('8367e80001 8482410601'), 85))
      .toEqual({ ok: true, values: { tempC: 23.2, distanceMm: 1601, notes: ['temperature_alarm', 'distance_alarm'] } })
  })
  test('01756403670b0104823b01050001 (the sensor payload of the same README\'s NB-IoT sample) → battery 100, temperature 26.7, distance 315, position tilt', () => {
    expect(codec('milesight-em400-udl').decode(hex('01756403670b0104823b01050001'), 85))
      .toEqual({ ok: true, values: { batteryPct: 100, tempC: 26.7, distanceMm: 315, tilted: true, notes: [] } })
  })
  test('a negative temperature (int16 LE) is read signed', () => {
    // 0xFF9C = -100 → -10.0 °C
    expect(codec('milesight-em400-udl').decode(hex('03679CFF 04822C01'), 85)).toMatchObject({ ok: true, values: { tempC: -10, distanceMm: 300 } })
  })
})

describe('Dragino LDDS75 (TheThingsNetwork/lorawan-devices vendor/dragino/ldds75-114-codec.yaml and ldds75-codec.yaml)', () => {
  test('0D3B0AEF00000001 on FPort 2 → Bat 3.387 V, Distance 2799 mm, Interrupt_flag 0, TempC_DS18B20 0.00 (no probe reading)', () => {
    expect(codec('dragino-ldds75').decode(hex('0D3B0AEF00000001'), 2)).toEqual({ ok: true, values: { batteryV: 3.387, distanceMm: 2799, notes: [] } })
  })
  test('0E1C0B05 (4 bytes) → vendor: distance "No Sensor"; Kerbside keeps bytes 0–1 as the battery, no distance', () => {
    expect(codec('dragino-ldds75').decode(hex('0E1C0B05'), 2)).toEqual({ ok: true, values: { batteryV: 3.612, distanceMm: null, notes: ['no_sensor'] } })
  })
  test('FPort 42 → refused, as the vendor decoder\'s "unknown FPort"', () => {
    expect(codec('dragino-ldds75').decode(hex('0D3B0AEF00000001'), 42)).toMatchObject({ ok: false, detail: expect.stringContaining('FPort 42') })
  })
  test('a distance under 20 mm is "Invalid Reading"; a DS18B20 reading is signed 0.1 °C', () => {
    expect(codec('dragino-ldds75').decode(hex('0D3B0010 00 FF9C 01'), 2)).toEqual({ ok: true, values: { batteryV: 3.387, distanceMm: null, tempC: -10, notes: ['invalid_reading'] } })
  })
  test("the vendor decoder's output with units in strings", () => {
    expect(codec('dragino-ldds75').fromDecoded({ Bat: 3.387, Distance: '2799 mm', Interrupt_flag: 0, Sensor_flag: 1, TempC_DS18B20: '0.00' }))
      .toEqual({ ok: true, values: { batteryV: 3.387, distanceMm: 2799, notes: [] } })
  })
})

describe('Decentlab DL-MBX (TheThingsNetwork/lorawan-devices vendor/decentlab/dl-mbx-codec.yaml, decentlab-decoders DL-MBX.js)', () => {
  test('02012f000304d200010bb1 → device 303, distance 1234 mm, 1 valid sample, battery 2.993 V', () => {
    expect(codec('decentlab-dl-mbx').decode(hex('02012f000304d200010bb1'), 1)).toEqual({ ok: true, values: { distanceMm: 1234, batteryV: 2.993, notes: [] } })
  })
  test('02012f00020bb1 → battery 2.993 V only', () => {
    expect(codec('decentlab-dl-mbx').decode(hex('02012f00020bb1'), 1)).toEqual({ ok: true, values: { distanceMm: null, batteryV: 2.993, notes: [] } })
  })
  test('another protocol version, or flags promising more than the frame holds, are refused', () => {
    expect(codec('decentlab-dl-mbx').decode(hex('03012f00020bb1'), 1)).toMatchObject({ ok: false, detail: 'protocol version 3 is not Decentlab v2' })
    expect(codec('decentlab-dl-mbx').decode(hex('02012f000304d2'), 1)).toMatchObject({ ok: false, detail: expect.stringContaining('need 11 bytes') })
  })
  test("the vendor decoder's output ({value} objects)", () => {
    expect(codec('decentlab-dl-mbx').fromDecoded({ protocol_version: 2, device_id: 303, distance: { value: 1234, unit: 'mm' }, number_of_valid_samples: { value: 1 }, battery_voltage: { value: 2.993, unit: 'V' } }))
      .toEqual({ ok: true, values: { distanceMm: 1234, batteryV: 2.993, notes: [] } })
  })
})

describe('distance → fill for a 240 l bin (inner depth 1000 mm, sensor 50 mm above the rim, blind zone 250 mm)', () => {
  const g = geometryFor(240)
  test('the default geometry', () => expect(g).toEqual({ innerDepthMm: 1000, mountOffsetMm: 50, blindZoneMm: 250 }))
  test('empty, half, nearly full', () => {
    expect(fillFromDistance(1050, g)).toEqual({ fillPct: 0 })
    expect(fillFromDistance(550, g)).toEqual({ fillPct: 50 })
    expect(fillFromDistance(300, g)).toEqual({ fillPct: 75 })
  })
  test('inside the blind zone: full and flagged; past the floor: clamped to 0 and flagged; a little past: 0', () => {
    expect(fillFromDistance(120, g)).toEqual({ fillPct: 100, flag: 'blind_zone' })
    expect(fillFromDistance(2116, g)).toEqual({ fillPct: 0, flag: 'beyond_depth' })
    expect(fillFromDistance(1100, g)).toEqual({ fillPct: 0 })
  })
  test('a calibration overrides the defaults; a capacity not listed takes the nearest', () => {
    expect(geometryFor(240, { innerDepthMm: 900, blindZoneMm: 30 })).toEqual({ innerDepthMm: 900, mountOffsetMm: 50, blindZoneMm: 30 })
    expect(fillFromDistance(40, geometryFor(240, { blindZoneMm: 30 }))).toEqual({ fillPct: 100, flag: 'overfull' })
    expect(geometryFor(1000).innerDepthMm).toBe(1120)
    expect(geometryFor(null).innerDepthMm).toBe(1000)
  })
  test('battery: % and volts each from the other', () => {
    const curve = { emptyV: 3.0, fullV: 3.6 }
    expect(voltsFromPct(92, curve)).toBe(3.552)
    expect(pctFromVolts(3.387, { emptyV: 2.5, fullV: 3.6 })).toBe(81)
    expect(pctFromVolts(4.2, curve)).toBe(100)
  })
  test('vendor frames end to end: EM310 tilted → status dropped; DL-MBX 1234 mm → beyond depth, 0 %; LDDS75 no sensor → no reading', () => {
    const em310 = codec('milesight-em310-udl')
    const a = em310.decode(hex('01755C 03820802 040000'), 85) // distance 0x0208 = 520 mm, upright
    if (!a.ok) throw new Error(a.detail)
    expect(toReading(a.values, g, em310.battery)).toEqual({ reading: { fillPct: 53, batteryV: 3.552, status: 'ok' }, batteryPct: 92, batteryV: 3.552, flags: [] })
    const b = em310.decode(hex('01755C 03824408 040001'), 85)
    if (!b.ok) throw new Error(b.detail)
    expect(toReading(b.values, g, em310.battery).reading).toEqual({ fillPct: 0, batteryV: 3.552, status: 'dropped' })
    const mbx = codec('decentlab-dl-mbx')
    const c = mbx.decode(hex('02012f000304d200010bb1'), 1)
    if (!c.ok) throw new Error(c.detail)
    expect(toReading(c.values, g, mbx.battery)).toEqual({ reading: { fillPct: 0, batteryV: 2.993, status: 'ok' }, batteryPct: 83, batteryV: 2.993, flags: ['beyond_depth'] })
    const d = codec('dragino-ldds75').decode(hex('0E1C0B05'), 2)
    if (!d.ok) throw new Error(d.detail)
    expect(toReading(d.values, g, codec('dragino-ldds75').battery)).toEqual({ reading: null, batteryV: 3.612, batteryPct: 100, flags: ['no_sensor'] })
  })
  test('every codec names its model, vendor and source', () => {
    for (const c of CODECS) expect(c.source.length).toBeGreaterThan(10)
    expect(CODECS.map((c) => c.model)).toEqual(['milesight-em310-udl', 'milesight-em400-udl', 'dragino-ldds75', 'decentlab-dl-mbx'])
  })
})
