import { expect, test } from 'vitest'
import { CityState } from '../../dashboard/src/lib/city-state.svelte.ts'
import { NOW, smallCity } from './fixtures.ts'

const ts = (ms: number) => new Date(ms).toISOString()

test('a snapshot: alerts, bins by household, bands, the snapshot’s lifts with their street', () => {
  const city = new CityState()
  city.setSnapshot(smallCity())
  expect(city.status).toBe('ready')
  expect(city.alerts).toEqual([{ kind: 'overflow', bin: 1, household: 0, value: 95 }])
  expect(city.binsOf(0)).toEqual([0, 1])
  expect(city.binsOf(2)).toEqual([3])
  expect(city.householdBand(0)).toBe(4) // fullest bin 95 %
  expect(city.householdBand(2)).toBe(0) // no reading
  expect(city.householdAlert(0)).toBe('overflow')
  expect(city.bandCounts()).toEqual([1, 0, 1, 0, 1])
  city.stream = 0 // residual only
  expect(city.householdBand(0)).toBe(1)
  expect(city.events).toHaveLength(1)
  expect(city.events[0]).toMatchObject({ outcome: 'collected', street: 'Test Street', live: false })
})

test('live readings move a bin forward in time only, and raise or clear its alerts', () => {
  const city = new CityState()
  city.setSnapshot(smallCity())
  const before = city.revision
  city.apply({ type: 'reading', deviceId: 's-1r', deviceKind: 'bin', data: { seq: 5, ts: ts(NOW), fillPct: 72, tempC: 75, batteryV: 3.2, status: 'ok' } }, NOW)
  expect(city.data!.bins.fillPct[0]).toBe(72)
  expect(city.alertsOf(0)).toEqual(['fire', 'low_battery'])
  expect(city.revision).toBeGreaterThan(before)
  // An older reading arriving late changes nothing.
  city.apply({ type: 'reading', deviceId: 's-1r', deviceKind: 'bin', data: { seq: 4, ts: ts(NOW - 3_600_000), fillPct: 5 } }, NOW)
  expect(city.data!.bins.fillPct[0]).toBe(72)
  // Emptied: the overflow alert of the recycling bin clears.
  city.apply({ type: 'reading', deviceId: 's-1y', deviceKind: 'bin', data: { seq: 9, ts: ts(NOW), fillPct: 3 } }, NOW)
  expect(city.alerts.map((a) => `${a.kind}:${a.bin}`)).toEqual(['fire:0', 'low_battery:0'])
  // Unknown devices are ignored.
  city.apply({ type: 'reading', deviceId: 'nobody', deviceKind: 'bin', data: { seq: 1, ts: ts(NOW), fillPct: 99 } }, NOW)
})

test('status, positions and lifts from the live feed', () => {
  const city = new CityState()
  city.setSnapshot(smallCity())
  city.apply({ type: 'status', deviceId: 's-2r', deviceKind: 'bin', data: { online: false } }, NOW)
  expect(city.alertsOf(2)).toEqual(['offline'])
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
  expect(city.events[0]).toMatchObject({ outcome: 'not_presented', tag: 'TAG-3', vehicleId: 'rcv-1', street: 'Other Road', uprn: 100000000003, live: true })
})

test('sensors that fall silent become offline as time passes', () => {
  const city = new CityState()
  city.setSnapshot(smallCity())
  city.recheckAll(NOW + 4 * 3_600_000)
  expect(city.alerts.filter((a) => a.kind === 'offline').map((a) => a.bin)).toEqual([0, 1, 2])
  expect(city.alerts.find((a) => a.bin === 0)?.value).toBe(4)
})

test('nearest household to a point, within 60 m', () => {
  const city = new CityState()
  city.setSnapshot(smallCity())
  expect(city.nearestHousehold(53.40801, -2.99099)).toBe(1)
  expect(city.nearestHousehold(53.42, -2.99)).toBeNull()
})
