// The simulator's frames decode, through Kerbside's own codecs, to what it meant to send.
import { expect, test } from 'vitest'
import { codecFor, SENSOR_MODELS } from '../../ingest/codecs/index.ts'
import { encodeFrame } from '../../simulators/lorawan/frames.ts'

test.each(SENSOR_MODELS)('%s: a simulated frame decodes back to its distance and battery', (model) => {
  const { fPort, payload } = encodeFrame(model, { distanceMm: 640, batteryPct: 80, tempC: 14.5, tilted: model.startsWith('milesight') })
  const decoded = codecFor(model)!.decode(payload, fPort)
  expect(decoded).toMatchObject({ ok: true, values: { distanceMm: 640 } })
  if (!decoded.ok) return
  const v = decoded.values
  if (v.batteryPct !== undefined) expect(v.batteryPct).toBe(80)
  else expect(v.batteryV).toBeGreaterThan(2)
  if (model.startsWith('milesight')) expect(v.tilted).toBe(true)
})
