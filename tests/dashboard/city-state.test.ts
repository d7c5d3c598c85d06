import { expect, test } from 'vitest'
import { CityIndex } from '../../api/map/city-index.ts'
import { CityState } from '../../dashboard/src/lib/city-state.svelte.ts'
import { NOW, smallCity } from './fixtures.ts'

const ts = (ms: number) => new Date(ms).toISOString()
/** The small city as the map API answers it: its overview, and its households one at a time. */
const index = () => new CityIndex(smallCity())
const cityNow = () => {
  const city = new CityState()
  city.setOverview(index().overview())
  return city
}

test('an overview: alerts with their street, counts by band, the snapshot’s lifts with their street', () => {
  const city = cityNow()
  expect(city.status).toBe('ready')
  expect(city.alerts).toEqual([{ key: 'overflow:s-1y', kind: 'overflow', value: 95, uprn: 100000000001, street: 'Test Street', stream: 'recycling', binId: 'bin-1y', deviceId: 's-1y', lat: 53.408, lon: -2.992 }])
  expect(city.alertCounts).toEqual({ fire: 0, overflow: 1, offline: 0, low_battery: 0 })
  expect(city.bandCounts()).toEqual([1, 0, 1, 0, 1]) // fullest bins: 95 %, 60 %, no reading
  city.stream = 0 // residual only
  expect(city.bandCounts()).toEqual([1, 1, 1, 0, 0])
  expect(city.events).toHaveLength(1)
  expect(city.events[0]).toMatchObject({ outcome: 'collected', street: 'Test Street', live: false })
})

test('live readings recolour the tiles’ households and clear or raise alerts, forward in time only', () => {
  const city = cityNow()
  const household1 = [['s-1r', 's-1y'], [0, 1], [40, 95]] as const
  expect(city.bandOf(...household1)).toBe(4)
  const before = city.revision
  // Emptied: the overflow alert of the recycling bin clears, the household turns to its residual bin's band.
  city.apply({ type: 'reading', deviceId: 's-1y', deviceKind: 'bin', data: { seq: 9, ts: ts(NOW), fillPct: 3 } }, NOW)
  expect(city.alerts).toEqual([])
  expect(city.alertCounts.overflow).toBe(0)
  expect(city.bandOf(...household1)).toBe(1)
  expect(city.revision).toBeGreaterThan(before)
  // An older reading arriving late changes nothing.
  city.apply({ type: 'reading', deviceId: 's-1y', deviceKind: 'bin', data: { seq: 4, ts: ts(NOW - 3_600_000), fillPct: 99 } }, NOW)
  expect(city.bandOf(...household1)).toBe(1)
  expect(city.liveBins.get('s-1y')!.fillPct).toBe(3)
  // Coloured by residual bins only, the recycling bin does not count.
  city.stream = 0
  city.apply({ type: 'reading', deviceId: 's-1y', deviceKind: 'bin', data: { seq: 10, ts: ts(NOW + 1000), fillPct: 97 } }, NOW)
  expect(city.bandOf(...household1)).toBe(1)
  expect(city.alerts.map((a) => a.key)).toEqual(['overflow:s-1y']) // raised again, where the screen knew it
  expect(city.alertCounts.overflow).toBe(1)
})

test('the chosen household: its bins follow the live feed, and a fire in it is listed at once', () => {
  const city = cityNow()
  city.selected = index().household(100000000001)
  city.apply({ type: 'reading', deviceId: 's-1r', deviceKind: 'bin', data: { seq: 5, ts: ts(NOW), fillPct: 72, tempC: 75, batteryV: 3.2, status: 'ok' } }, NOW)
  expect(city.selected!.bins[0]).toMatchObject({ binId: 'bin-1r', fillPct: 72, tempC: 75, alerts: ['fire', 'low_battery'] })
  expect(city.alerts.map((a) => a.key)).toEqual(['fire:s-1r', 'overflow:s-1y', 'low_battery:s-1r'])
  expect(city.alertCounts).toEqual({ fire: 1, overflow: 1, offline: 0, low_battery: 1 })
  // A sensor the screen does not know and that raises nothing: remembered for the tiles, nothing listed.
  city.apply({ type: 'reading', deviceId: 'nobody', deviceKind: 'bin', data: { seq: 1, ts: ts(NOW), fillPct: 20 } }, NOW)
  expect(city.liveBins.get('nobody')!.fillPct).toBe(20)
  expect(city.alerts).toHaveLength(3)
})

test('status, positions and lifts from the live feed', () => {
  const city = cityNow()
  city.apply({ type: 'status', deviceId: 's-1y', deviceKind: 'bin', data: { online: true } }, NOW) // not heard live yet: nothing to change
  city.apply({ type: 'reading', deviceId: 's-2r', deviceKind: 'bin', data: { seq: 2, ts: ts(NOW), fillPct: 60 } }, NOW)
  city.apply({ type: 'status', deviceId: 's-2r', deviceKind: 'bin', data: { online: false } }, NOW)
  expect(city.liveBins.get('s-2r')!.online).toBe(false)
  city.apply({ type: 'position', deviceId: 'unit-1', deviceKind: 'vehicle', data: { seq: 2, ts: ts(NOW), lat: 53.4085, lon: -2.991, speedKmh: 20, heading: 90 } }, NOW)
  expect(city.vehicles[0]).toMatchObject({ lat: 53.4085, lon: -2.991, speedKmh: 20, heading: 90, positionAt: NOW })
  city.apply({ type: 'position', deviceId: 'unit-1', deviceKind: 'vehicle', data: { seq: 1, ts: ts(NOW - 1000), lat: 1, lon: 1 } }, NOW)
  expect(city.vehicles[0]!.lat).toBe(53.4085)
  city.apply({ type: 'status', deviceId: 'unit-1', deviceKind: 'vehicle', data: { online: false } }, NOW)
  expect(city.vehicles[0]!.online).toBe(false)

  const lift = { seq: 3, ts: ts(NOW), tag: 'TAG-3', lat: 53.40901, lon: -2.99001, outcome: 'not_presented' as const }
  city.apply({ type: 'lift', deviceId: 'unit-1', deviceKind: 'vehicle', data: lift }, NOW)
  city.apply({ type: 'lift', deviceId: 'unit-1', deviceKind: 'vehicle', data: lift }, NOW) // a duplicate is shown once
  expect(city.events).toHaveLength(2)
  expect(city.events[0]).toMatchObject({ outcome: 'not_presented', tag: 'TAG-3', vehicleId: 'rcv-1', live: true })
})

test('a newer snapshot replaces counts and alerts, keeps live lifts after it, and forgets live readings older than it', () => {
  const city = cityNow()
  city.apply({ type: 'reading', deviceId: 's-1r', deviceKind: 'bin', data: { seq: 5, ts: ts(NOW - 30_000), fillPct: 50 } }, NOW)
  city.apply({ type: 'lift', deviceId: 'unit-1', deviceKind: 'vehicle', data: { seq: 3, ts: ts(NOW + 5_000), tag: 'T', lat: 53.408, lon: -2.99, outcome: 'collected' } }, NOW)
  const next = smallCity()
  next.generatedAt = ts(NOW + 1000)
  city.setOverview(new CityIndex(next).overview(), { keepLive: true })
  expect(city.events.map((e) => e.live)).toEqual([true, false])
  expect(city.alertCounts.overflow).toBe(1)
})
