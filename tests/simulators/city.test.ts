// The city generator: deterministic, and a registry a council would recognise — unique UPRNs and
// tags, valid postcodes, rounds balanced per vehicle, residual and recycling on alternate weeks.
import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { Value } from '@sinclair/typebox/value'
import { RegistryDataset } from '../../core/contract/registry.ts'
import { isUprn } from '../../core/contract/domain.ts'
import { isDeviceId } from '../../core/contract/topics.ts'
import { roundDates, roundRunsOn } from '../../analysis/calendar/rules.ts'
import { addDays } from '../../analysis/calendar/dates.ts'
import { CityOptionsError, generateCity } from '../../simulators/city/generate-city.ts'
import type { City } from '../../simulators/city/city.ts'
import { distanceM } from '../../simulators/city/layout.ts'

const POSTCODE = /^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$/
const hashCity = (city: City) => createHash('sha256').update(JSON.stringify({ dataset: city.dataset, devices: city.devices, depot: city.depot, tip: city.tip })).digest('hex')

function expectUnique<T>(values: T[], what: string) {
  const seen = new Set<T>()
  const dupes = values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)))
  expect(dupes, `duplicate ${what}`).toEqual([])
}

describe('generateCity', () => {
  const city = generateCity({ seed: 42, households: 20_000, start: '2026-03-02' })

  test('the same seed gives the same city, another seed another', () => {
    const again = generateCity({ seed: 42, households: 20_000, start: '2026-03-02' })
    expect(hashCity(again)).toBe(hashCity(city))
    const other = generateCity({ seed: 43, households: 20_000, start: '2026-03-02' })
    expect(hashCity(other)).not.toBe(hashCity(city))
  })

  test('the registry passes the import schema', () => {
    const errors = [...Value.Errors(RegistryDataset, city.dataset)].slice(0, 5).map((e) => `${e.path}: ${e.message}`)
    expect(errors).toEqual([])
  })

  test('households: unique UPRNs of at most 12 digits, valid postcodes, wards, a compact city around the centre', () => {
    const hh = city.dataset.households
    expect(hh).toHaveLength(20_000)
    expectUnique(hh.map((h) => h.uprn), 'UPRNs')
    for (const h of hh) {
      expect(isUprn(h.uprn)).toBe(true)
      expect(h.postcode).toMatch(POSTCODE)
      expect(distanceM(city.centre, { lat: h.lat!, lon: h.lon! })).toBeLessThan(5_000)
    }
    expectUnique(hh.map((h) => h.address), 'addresses')
    expect(new Set(hh.map((h) => h.ward)).size).toBe(6) // ~3,300 households a ward
    expect(new Set(hh.map((h) => h.street)).size).toBeGreaterThan(300)
  })

  test('bins: residual and recycling for everyone, garden for subscribers, food for some; tags and ids unique; sensors on the chosen share', () => {
    const bins = city.dataset.bins
    expectUnique(bins.map((b) => b.binId), 'bin ids')
    expectUnique(bins.map((b) => b.rfidTag), 'RFID tags')
    const byStream = (s: string) => bins.filter((b) => b.stream === s)
    expect(new Set(byStream('residual').map((b) => b.uprn)).size).toBe(20_000)
    expect(new Set(byStream('recycling').map((b) => b.uprn)).size).toBe(20_000)
    const garden = new Set(byStream('garden').map((b) => b.uprn))
    expect(new Set(city.dataset.subscriptions.map((s) => s.uprn))).toEqual(garden)
    expect(garden.size / 20_000).toBeCloseTo(0.4, 1)
    expect(byStream('food').length / 20_000).toBeCloseTo(0.3, 1)
    expect(byStream('residual').every((b) => [140, 240, 360].includes(b.capacityL!))).toBe(true)

    const wheeled = bins.filter((b) => b.stream !== 'food')
    const sensors = bins.filter((b) => b.sensorDeviceId)
    expect(sensors).toHaveLength(Math.round(wheeled.length * 0.1))
    expect(sensors.every((b) => b.stream !== 'food')).toBe(true)
    expectUnique(city.devices.map((d) => d.deviceId), 'device ids')
    expect(city.devices.every((d) => isDeviceId(d.deviceId))).toBe(true)
    expect(city.devices.filter((d) => d.kind === 'vehicle')).toHaveLength(city.vehicles.length)
  })

  test('every household is on one residual, one recycling round, and its garden and food rounds, all on its own collection day', () => {
    const weekdayOf = new Map(city.households.map((h) => [h.uprn, h.weekday]))
    const roundsOf = new Map<string, Set<string>>()
    for (const stop of city.dataset.roundStops) {
      const round = city.rounds.find((r) => r.roundId === stop.roundId)!
      expect(round.weekday).toBe(weekdayOf.get(stop.uprn))
      const key = `${stop.uprn}|${round.stream}`
      expect(roundsOf.has(key), `${key} is on two rounds`).toBe(false)
      roundsOf.set(key, new Set([round.roundId]))
    }
    expect(roundsOf.size).toBe(city.dataset.bins.length)
    // Driving order: positions 0..n-1 on each round.
    for (const r of city.rounds) expect(city.dataset.roundStops.filter((s) => s.roundId === r.roundId).map((s) => s.position).sort((a, b) => a - b)).toEqual(r.stops.map((_, i) => i))
  })

  test('residual and recycling alternate weekly: anchors a week apart, exactly one of them each week', () => {
    for (const h of city.households.filter((_, i) => i % 97 === 0)) {
      const res = city.rounds.find((r) => r.stream === 'residual' && r.stops.includes(h.index))!
      const rec = city.rounds.find((r) => r.stream === 'recycling' && r.stops.includes(h.index))!
      expect(res.frequency).toBe('fortnightly')
      expect(rec.frequency).toBe('fortnightly')
      expect(Math.abs(Date.parse(res.anchorDate) - Date.parse(rec.anchorDate))).toBe(7 * 86_400_000)
      for (let week = 0; week < 8; week++) {
        const day = addDays('2026-03-02', week * 7 + h.weekday - 1)
        expect(Number(roundRunsOn(res, day)) + Number(roundRunsOn(rec, day))).toBe(1)
      }
    }
  })

  test('rounds are balanced per vehicle: about 1,000 lifts per vehicle day, every day of a fortnight', () => {
    // Refuse vehicles within 800–1,200; garden and food rounds as near as whole rounds of their
    // zone's subscribers allow (1,584 subscribers make two rounds of 792).
    for (const day of Array.from({ length: 14 }, (_, i) => addDays('2026-03-02', i))) {
      const lifts = new Map<string, number>()
      for (const r of city.rounds) if (roundDates(r, day, day).length > 0) lifts.set(r.vehicleId, (lifts.get(r.vehicleId) ?? 0) + r.stops.length)
      for (const [vehicle, n] of lifts) {
        const rcv = vehicle.startsWith('rcv-')
        expect(n, `${vehicle} on ${day}`).toBeGreaterThanOrEqual(rcv ? 800 : 750)
        expect(n, `${vehicle} on ${day}`).toBeLessThanOrEqual(rcv ? 1200 : 1250)
      }
      // Every rcv works every weekday (one area, residual one week and recycling the next).
      if (!['2026-03-07', '2026-03-08', '2026-03-14', '2026-03-15'].includes(day)) {
        expect(city.vehicles.filter((v) => v.role === 'rcv').every((v) => lifts.has(v.vehicleId)), day).toBe(true)
      }
    }
    // Both streams run every week.
    const week = (d: string) => city.rounds.filter((r) => roundRunsOn(r, d)).map((r) => r.stream)
    expect(week('2026-03-02')).toEqual(expect.arrayContaining(['residual', 'recycling']))
  })

  test('a contract with its KPI terms, a contractor, and spare vehicles', () => {
    expect(city.dataset.contracts).toHaveLength(1)
    expect(city.contract.startsOn <= '2026-03-02').toBe(true)
    expect(city.vehicles.some((v) => v.role === 'spare')).toBe(true)
    expect(new Set(city.vehicles.map((v) => v.registration)).size).toBe(city.vehicles.length)
  })

  test('a few hundred households still make a working city', () => {
    const small = generateCity({ seed: 1, households: 300, start: '2026-03-02', sensorShare: 1 })
    expect(small.dataset.households).toHaveLength(300)
    expect(small.rounds.length).toBeGreaterThan(0)
    expect(Value.Check(RegistryDataset, small.dataset)).toBe(true)
    expect(small.devices.filter((d) => d.kind === 'bin')).toHaveLength(small.bins.filter((b) => b.stream !== 'food').length)
  })

  test('a Liverpool-sized city (210,000 households) keeps UPRNs, tags and device ids unique', () => {
    const big = generateCity({ seed: 7, households: 210_000, start: '2026-03-02' })
    expect(big.households).toHaveLength(210_000)
    expectUnique(big.households.map((h) => h.uprn), 'UPRNs')
    expectUnique(big.bins.map((b) => b.tag), 'RFID tags')
    expectUnique(big.devices.map((d) => d.deviceId), 'device ids')
    expect(big.wards).toHaveLength(64)
    expect(big.households.every((h) => POSTCODE.test(h.postcode))).toBe(true)
    // ~42,000 households a weekday: ~42 areas, so ~42 refuse vehicles plus garden, food and spares.
    expect(big.vehicles.filter((v) => v.role === 'rcv')).toHaveLength(42)
  }, 60_000)

  test('bad options are refused with a named error', () => {
    expect(() => generateCity({ seed: 1, households: 0, start: '2026-03-02' })).toThrow(CityOptionsError)
    expect(() => generateCity({ seed: 1, households: 10, start: '2026-02-30' })).toThrow(CityOptionsError)
    expect(() => generateCity({ seed: 1, households: 10, start: '2026-03-02', sensorShare: 2 })).toThrow(CityOptionsError)
    expect(() => generateCity({ seed: 1, households: 10, start: '2026-03-02', weekdays: [1, 1] })).toThrow(CityOptionsError)
  })
})
